-- Placeholders per account and status, with those at risk listed (local times, soonest deadline first).
SELECT account_name, status, count(*) AS placeholders,
       list({
           'message_id': message_id, 'account_name': account_name, 'chat_name': chat_name, 'kind': kind,
           'status': status, 'offset_minutes': offset_minutes,
           'local_sent_at': timezone('UTC', sent_at) + to_minutes(offset_minutes),
           'local_expires_at': timezone('UTC', expires_at) + to_minutes(offset_minutes)
       } ORDER BY expires_at, chat_name, export_seq) FILTER (WHERE status = 'at_risk') AS at_risk
FROM media
GROUP BY account_name, status
