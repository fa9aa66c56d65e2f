-- The message rows of one account for the xlsx and csv exports, in transcript order: sent_at as ISO text with
-- its offset (the csv), and as the local time with the offset apart (the workbook's date-time cells). With
-- guard, a value that starts with =, +, -, @, a tab or a line break gets a leading ' (LINE's own guard).
-- Values come in as literals (history/reader.py), so no parameter name may appear in a comment.
SELECT guard(account_name, $guard) AS account_name, guard(chat_name, $guard) AS chat_name, local_iso AS sent_at,
       local AS sent_local, right(local_iso, 6) AS utc_offset,
       sender_type, guard(sender_name, $guard) AS sender_name, kind, guard(content, $guard) AS content,
       guard(media_file, $guard) AS media_file
FROM history_messages
WHERE name_is(account_name, $account)
ORDER BY stored_chat_name, sent_at, export_seq
