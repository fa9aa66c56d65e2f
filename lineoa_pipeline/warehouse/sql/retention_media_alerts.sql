-- Placeholders at risk and, with_lost, those lost, in local time. With lost_since (NULL: every lost one),
-- only those lost at or after it, or whose export was ingested after ingested_after: an old export added
-- late brings placeholders lost long before, and they are listed once, not at every check.
SELECT message_id, account_name, chat_name, kind, status, offset_minutes,
       timezone('UTC', sent_at) + to_minutes(offset_minutes) AS local_sent_at,
       timezone('UTC', expires_at) + to_minutes(offset_minutes) AS local_expires_at
FROM media
WHERE status = 'at_risk'
   OR (status = 'lost' AND $with_lost AND ($lost_since IS NULL OR expires_at >= $lost_since
       OR source_file IN (SELECT file_path FROM source_files WHERE ingested_at > $ingested_after)))
ORDER BY expires_at, account_name, chat_name, export_seq
