-- Each placeholder as one line of `lineoa status --json`'s "media" array: a JSON object built as text (to_json
-- escapes the names; the rest is ASCII), timestamps ISO 8601 in the account's offset (`local_iso` of
-- history_macros.sql).
SELECT '{"account_name":' || to_json(account_name) || ',"chat_name":' || to_json(chat_name)
       || ',"sent_at":"' || local_iso(media.sent_at, offset_minutes)
       || '","kind":"' || kind || '","status":"' || status
       || '","expires_at":"' || local_iso(media.expires_at, offset_minutes) || '"}' AS line
FROM media
ORDER BY account_name, chat_name, media.sent_at, export_seq
