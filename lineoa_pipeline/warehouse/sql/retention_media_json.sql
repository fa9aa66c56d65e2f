-- Each placeholder as one object of `lineoa status --json` (a row; DuckDB writes the JSON), timestamps
-- ISO 8601 in the account's offset: local time by adding the offset to the instant's microseconds, with no
-- time-zone conversion per row.
SELECT account_name,
       chat_name,
       strftime(make_timestamp(epoch_us(media.sent_at) + offset_minutes * 60000000::BIGINT), '%Y-%m-%dT%H:%M:%S')
           || offset_text AS sent_at,
       kind,
       status,
       strftime(make_timestamp(epoch_us(media.expires_at) + offset_minutes * 60000000::BIGINT), '%Y-%m-%dT%H:%M:%S')
           || offset_text AS expires_at
FROM media
ORDER BY account_name, chat_name, media.sent_at, export_seq
