-- Replace the partitions [?, ?] of `messages` from the staged rows, deriving the settings-dependent
-- columns: sender_type (auto-reply and API names), kind (placeholder texts), chat_type (2+ user names).
DELETE FROM messages WHERE month BETWEEN $first AND $last;

INSERT INTO messages
WITH months AS (
    SELECT * FROM _staged_messages WHERE month BETWEEN $first AND $last
),
chats AS (
    SELECT account_name, chat_name,
           CASE WHEN count(DISTINCT sender_name) FILTER (WHERE sender_type_raw = 'User') >= 2
                THEN 'group' ELSE 'one_to_one' END AS derived_type
    FROM _staged_messages
    WHERE (account_name, chat_name) IN (SELECT DISTINCT account_name, chat_name FROM months)
    GROUP BY ALL
)
SELECT m.message_id, m.account_name, m.chat_name,
       coalesce(o.chat_type, c.derived_type),
       CASE WHEN m.sender_type_raw = 'User' THEN 'user' ELSE coalesce(r.sender_type, 'staff') END,
       m.sender_name, m.sent_at, m.month, coalesce(p.kind, 'text'), m.content, m.source_file, m.export_seq
FROM months m
JOIN chats c USING (account_name, chat_name)
LEFT JOIN _chat_keys k USING (account_name, chat_name)
LEFT JOIN _cfg_chat_types o ON o.account_name = m.account_name AND o.name_key = k.name_key
LEFT JOIN _cfg_sender_roles r ON m.sender_type_raw = 'Account' AND r.account_name = m.account_name
                              AND r.sender_name = m.sender_name
LEFT JOIN _cfg_placeholders p ON p.account_name = m.account_name AND p.content = m.content;

DELETE FROM _written_months WHERE month BETWEEN $first AND $last;

INSERT INTO _written_months
SELECT DISTINCT m.account_name, m.month, c.settings_hash
FROM messages m LEFT JOIN _cfg_classification c USING (account_name)
WHERE m.month BETWEEN $first AND $last;

DELETE FROM _pending_months WHERE month BETWEEN $first AND $last;
