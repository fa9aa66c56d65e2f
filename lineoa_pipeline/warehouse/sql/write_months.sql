-- Write the partitions [$first, $last] of `messages`: classify their rows in place from the settings.
-- sender_type: a user stays user; an account is auto_reply or api by its name, else staff; an api message is
-- a broadcast when the api messages of its account with the same content within the broadcast window of it
-- (|Δ| <= window, both ends in) span broadcast_min_chats chats. kind: by the placeholder texts; else a user
-- text whose NFKC is one of the account's menu texts (the temp table menu_taps, from classify.py) is a
-- menu_tap; else text. chat_type: the override, else group when one export file of the chat lists two or more
-- user names (_group_chats). Only rows whose class changes are written: idempotent, and cheap.
UPDATE messages SET chat_type = d.chat_type, sender_type = d.sender_type, kind = d.kind
FROM (
    WITH months AS (
        SELECT rowid AS rid, account_name, chat_name, chat_type, sender_type, sender_name, kind, content, sent_at
        FROM messages
        WHERE month BETWEEN $first AND $last
    ),
    -- The instants the range spans per account, widened by the broadcast window: a broadcast sent just
    -- before midnight at a month's end reaches some chats in the next month.
    reach AS (
        SELECT account_name, min_chats, window_us, first_us - window_us AS lo, last_us + window_us AS hi
        FROM (
            SELECT m.account_name, any_value(a.broadcast_min_chats) AS min_chats,
                   any_value(a.broadcast_window_minutes)::BIGINT * 60000000 AS window_us,
                   epoch_us(min(m.sent_at)) AS first_us, epoch_us(max(m.sent_at)) AS last_us
            FROM months m JOIN _cfg_accounts a USING (account_name)
            WHERE m.sender_type <> 'user'
            GROUP BY m.account_name
        )
    ),
    -- api messages by their sender's name (rows outside the range may have been written under other settings)
    api AS (
        SELECT s.rowid AS rid, s.account_name, s.chat_name, s.content, epoch_us(s.sent_at) AS us, r.min_chats,
               r.window_us
        FROM messages s
        JOIN reach r ON r.account_name = s.account_name AND epoch_us(s.sent_at) BETWEEN r.lo AND r.hi
        JOIN _cfg_sender_roles o ON o.account_name = s.account_name AND o.sender_name = s.sender_name
                                AND o.sender_type = 'api'
        WHERE s.sender_type <> 'user'
    ),
    -- Only a content sent to enough chats at all can be a broadcast: the window runs over those alone.
    repeated AS (
        SELECT account_name, content FROM api GROUP BY ALL HAVING count(DISTINCT chat_name) >= any_value(min_chats)
    ),
    broadcasts AS (
        SELECT rid
        FROM (
            SELECT rid, min_chats,
                   count(DISTINCT chat_name) OVER (PARTITION BY account_name, content ORDER BY us
                       RANGE BETWEEN window_us PRECEDING AND window_us FOLLOWING) AS chats
            FROM api SEMI JOIN repeated USING (account_name, content)
        )
        WHERE chats >= min_chats
    ),
    classified AS (
        SELECT m.rid, m.chat_type AS old_chat_type, m.sender_type AS old_sender_type, m.kind AS old_kind,
               coalesce(o.chat_type, CASE WHEN g.chat_name IS NULL THEN 'one_to_one' ELSE 'group' END) AS chat_type,
               CASE WHEN m.sender_type = 'user' THEN 'user'
                    WHEN b.rid IS NOT NULL THEN 'broadcast'
                    ELSE coalesce(r.sender_type, 'staff') END AS sender_type,
               CASE WHEN p.kind IS NOT NULL THEN p.kind
                    WHEN m.sender_type = 'user' AND t.content IS NOT NULL THEN 'menu_tap'
                    ELSE 'text' END AS kind
        FROM months m
        LEFT JOIN _group_chats g USING (account_name, chat_name)
        LEFT JOIN _chat_keys k USING (account_name, chat_name)
        LEFT JOIN _cfg_chat_types o ON o.account_name = m.account_name AND o.name_key = k.name_key
        LEFT JOIN _cfg_sender_roles r ON m.sender_type <> 'user' AND r.account_name = m.account_name
                                      AND r.sender_name = m.sender_name
        LEFT JOIN _cfg_placeholders p ON p.account_name = m.account_name AND p.content = m.content
        LEFT JOIN menu_taps t ON m.sender_type = 'user' AND t.account_name = m.account_name AND t.content = m.content
        LEFT JOIN broadcasts b ON b.rid = m.rid
    )
    SELECT rid, chat_type, sender_type, kind
    FROM classified
    WHERE (chat_type, sender_type, kind) IS DISTINCT FROM (old_chat_type, old_sender_type, old_kind)
) d
WHERE messages.rowid = d.rid;

DELETE FROM _written_months WHERE month BETWEEN $first AND $last;

INSERT INTO _written_months
SELECT DISTINCT m.account_name, m.month, c.settings_hash
FROM messages m LEFT JOIN _cfg_classification c USING (account_name)
WHERE m.month BETWEEN $first AND $last;

DELETE FROM _pending_months WHERE month BETWEEN $first AND $last;

DELETE FROM _unwritten_files WHERE NOT EXISTS (SELECT 1 FROM _pending_months);
