-- Placeholders at risk, in local time, soonest deadline first (`lineoa status`; the alerts' own query is
-- retention_alerts_new.sql).
SELECT message_id, account_name, chat_name, kind, status, offset_minutes,
       timezone('UTC', sent_at) + to_minutes(offset_minutes) AS local_sent_at,
       timezone('UTC', expires_at) + to_minutes(offset_minutes) AS local_expires_at
FROM media
WHERE status = 'at_risk'
ORDER BY expires_at, account_name, chat_name, export_seq
