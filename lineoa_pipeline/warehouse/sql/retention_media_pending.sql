-- Placeholders not saved (pending, at risk or lost), soonest deadline first, in local time: what
-- `lineoa media pending` lists. $account (NULL: every account) and $until (NULL: no bound on the deadline).
SELECT message_id, account_name, chat_name, kind, status, offset_minutes,
       local_ts(sent_at, offset_minutes) AS local_sent_at,
       local_ts(expires_at, offset_minutes) AS local_expires_at
FROM media
WHERE status <> 'saved'
  AND ($account IS NULL OR name_is(account_name, $account))
  AND ($until IS NULL OR expires_at <= $until)
ORDER BY expires_at, account_name, chat_name, export_seq
