-- The rows of `history_messages` as `show` and the exports read them: chat by chat, in message order.
SELECT account_name, chat_name, chat_type, sender_type, sender_name, kind, content, local, local_iso,
       local_day(local, l.day_parts, l.weekdays) AS local_day, media_file
FROM history_messages
JOIN _account_labels l USING (account_name)
ORDER BY account_name, stored_chat_name, sent_at, export_seq
