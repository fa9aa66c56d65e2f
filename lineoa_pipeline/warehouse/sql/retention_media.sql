-- Every media placeholder sent by the as-of time, with its status. Retention and warning in days come per
-- (account, chat type, kind) in parallel lists, with the account's UTC offset (minutes and "+09:00").
-- A day is 24 hours, so days are added as seconds. The retention_media_*.sql queries read this as `media`.
WITH cfg AS (
    SELECT unnest($accounts) AS account_name, unnest($chat_types) AS chat_type, unnest($kinds) AS kind,
           unnest($offsets) AS offset_minutes, unnest($offset_texts) AS offset_text,
           to_seconds(unnest($days)::BIGINT * 86400) AS retention,
           to_seconds(unnest($warns)::BIGINT * 86400) AS warning
),
saved AS (  -- one verified manifest row is enough: the loader pairs files with placeholders
    SELECT message_id FROM media_files WHERE verification = 'ok'
)
SELECT m.message_id, m.account_name, m.chat_name, m.kind, m.sent_at, m.export_seq, m.source_file,
       c.offset_minutes, c.offset_text,
       m.sent_at + c.retention AS expires_at,
       CASE
           WHEN m.message_id IN (SELECT message_id FROM saved) THEN 'saved'
           WHEN $as_of >= m.sent_at + c.retention THEN 'lost'
           WHEN $as_of >= m.sent_at + c.retention - c.warning THEN 'at_risk'
           ELSE 'pending'
       END AS status
FROM messages m
JOIN cfg c USING (account_name, chat_type, kind)
-- list_contains over the literal list (see execute_with_literals), not IN: DuckDB 1.5 turns an IN list into a zone-map hint plus a filter after the scan, which
-- then reads message_id and the rest for every message; this filter runs inside the scan. Twice as fast.
WHERE list_contains($media_kinds, m.kind) AND m.sent_at <= $as_of
