-- Each placeholder as one line of `lineoa status --json`'s "media" array: a JSON object built as text (to_json
-- escapes the names; the rest is ASCII), timestamps ISO 8601 in the account's offset (`local_ts` of
-- history_macros.sql: no time-zone conversion per row).
SELECT '{"account_name":' || to_json(account_name) || ',"chat_name":' || to_json(chat_name)
       || ',"sent_at":"' || strftime(local_ts(media.sent_at, offset_minutes), '%Y-%m-%dT%H:%M:%S') || offset_text
       || '","kind":"' || kind || '","status":"' || status
       || '","expires_at":"' || strftime(local_ts(media.expires_at, offset_minutes), '%Y-%m-%dT%H:%M:%S') || offset_text
       || '"}' AS line
FROM media
ORDER BY account_name, chat_name, media.sent_at, export_seq
