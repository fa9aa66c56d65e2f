-- Each placeholder as one object of `lineoa status --json` (a row; DuckDB writes the JSON), timestamps
-- ISO 8601 in the account's offset (`local_ts` of history_macros.sql: no time-zone conversion per row).
SELECT account_name,
       chat_name,
       strftime(local_ts(media.sent_at, offset_minutes), '%Y-%m-%dT%H:%M:%S') || offset_text AS sent_at,
       kind,
       status,
       strftime(local_ts(media.expires_at, offset_minutes), '%Y-%m-%dT%H:%M:%S') || offset_text AS expires_at
FROM media
ORDER BY account_name, chat_name, media.sent_at, export_seq
