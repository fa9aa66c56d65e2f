-- The placeholders of one chat (named as export file names do, or by its display name: matched by name_key)
-- sent in [$local_from, $local_to) local time, in message order: what `lineoa media save` matches a file to.
SELECT message_id, account_name, chat_name, kind, status, offset_minutes,
       local_ts(sent_at, offset_minutes) AS local_sent_at,
       local_ts(expires_at, offset_minutes) AS local_expires_at
FROM media
WHERE name_is(account_name, $account)
  AND chat_name IN (SELECT chat_name FROM _chat_keys WHERE name_is(account_name, $account) AND name_key = $chat_key)
  AND local_ts(sent_at, offset_minutes) >= $local_from::TIMESTAMP
  AND local_ts(sent_at, offset_minutes) < $local_to::TIMESTAMP
ORDER BY sent_at, export_seq
