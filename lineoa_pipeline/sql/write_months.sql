-- Write the partitions [$first, $last] of `messages`: classify their rows in place from the settings.
-- sender_type: a user stays user; an account is auto_reply or api by its name, else staff. kind: by the
-- placeholder texts, else text. chat_type: the override, else group when one export file of the chat lists
-- two or more user names (_group_chats). Only rows whose class changes are written: idempotent, and cheap.
UPDATE messages SET chat_type = d.chat_type, sender_type = d.sender_type, kind = d.kind
FROM (
    WITH months AS (
        SELECT rowid AS rid, account_name, chat_name, chat_type, sender_type, sender_name, kind, content
        FROM messages
        WHERE month BETWEEN $first AND $last
    ),
    classified AS (
        SELECT m.rid, m.chat_type AS old_chat_type, m.sender_type AS old_sender_type, m.kind AS old_kind,
               coalesce(o.chat_type, CASE WHEN g.chat_name IS NULL THEN 'one_to_one' ELSE 'group' END) AS chat_type,
               CASE WHEN m.sender_type = 'user' THEN 'user' ELSE coalesce(r.sender_type, 'staff') END AS sender_type,
               coalesce(p.kind, 'text') AS kind
        FROM months m
        LEFT JOIN _group_chats g USING (account_name, chat_name)
        LEFT JOIN _chat_keys k USING (account_name, chat_name)
        LEFT JOIN _cfg_chat_types o ON o.account_name = m.account_name AND o.name_key = k.name_key
        LEFT JOIN _cfg_sender_roles r ON m.sender_type <> 'user' AND r.account_name = m.account_name
                                      AND r.sender_name = m.sender_name
        LEFT JOIN _cfg_placeholders p ON p.account_name = m.account_name AND p.content = m.content
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
