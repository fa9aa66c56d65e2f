-- Every customer name of the selected accounts, once per chat where it appears: the chat's own name, and
-- each `User` sender's; with the first message (sent_at, then export order) that carries it.
SELECT account_name, chat_name, chat_name AS name, min({'at': sent_at, 'seq': export_seq}) AS first
FROM messages GROUP BY ALL
UNION ALL
SELECT account_name, chat_name, sender_name AS name, min({'at': sent_at, 'seq': export_seq}) AS first
FROM messages WHERE sender_type = 'user' GROUP BY ALL
