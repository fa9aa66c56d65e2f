-- The soonest placeholders at risk of each account (at most $soonest of each), in local time, soonest deadline
-- first (`lineoa status`, which counts the rest; the alerts' own query is retention_alerts_new.sql).
SELECT message_id, account_name, chat_name, kind, status, offset_minutes,
       timezone('UTC', sent_at) + to_minutes(offset_minutes) AS local_sent_at,
       timezone('UTC', expires_at) + to_minutes(offset_minutes) AS local_expires_at
FROM media
WHERE status = 'at_risk'
QUALIFY row_number() OVER (PARTITION BY account_name ORDER BY expires_at, chat_name, export_seq) <= $soonest
ORDER BY expires_at, account_name, chat_name, export_seq
