-- Placeholders per account and status, in one pass: how many, and for `at_risk` the soonest $soonest of them
-- (`lineoa status`, which counts the rest; the alerts' own query is retention_alerts_new.sql), each a struct
-- in local time, soonest deadline first.
SELECT account_name, status, count(*) AS placeholders,
       min_by(
           struct_pack(
               message_id, account_name, chat_name, kind, status, offset_minutes,
               local_sent_at := local_ts(sent_at, offset_minutes),
               local_expires_at := local_ts(expires_at, offset_minutes)
           ),
           struct_pack(expires_at, chat_name, export_seq),
           $soonest
       ) FILTER (WHERE status = 'at_risk') AS soonest
FROM media
GROUP BY account_name, status
