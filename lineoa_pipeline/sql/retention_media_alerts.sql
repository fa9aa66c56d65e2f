-- Placeholders at risk, and those lost since the given instant (all lost ones when it is NULL).
SELECT message_id, account_name, chat_name, kind, status, offset_minutes,
       timezone('UTC', sent_at) + to_minutes(offset_minutes) AS local_sent_at,
       timezone('UTC', expires_at) + to_minutes(offset_minutes) AS local_expires_at
FROM media
WHERE status = 'at_risk' OR (status = 'lost' AND ($lost_since IS NULL OR expires_at >= $lost_since))
ORDER BY account_name, chat_name, sent_at, export_seq
