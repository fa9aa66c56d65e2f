-- Placeholders at risk and, with_lost, those lost (at or after lost_since unless NULL), in local time.
SELECT message_id, account_name, chat_name, kind, status, offset_minutes,
       timezone('UTC', sent_at) + to_minutes(offset_minutes) AS local_sent_at,
       timezone('UTC', expires_at) + to_minutes(offset_minutes) AS local_expires_at
FROM media
WHERE status = 'at_risk'
   OR (status = 'lost' AND $with_lost AND ($lost_since IS NULL OR expires_at >= $lost_since))
ORDER BY expires_at, account_name, chat_name, export_seq
