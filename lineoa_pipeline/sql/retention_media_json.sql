-- Each placeholder as one object of `lineoa status --json`, timestamps ISO 8601 in the account's offset.
-- Rendered here because a warehouse holds hundreds of thousands of them: too many for Python objects.
SELECT json_object(
           'account_name', account_name,
           'chat_name', chat_name,
           'sent_at', strftime(timezone('UTC', sent_at) + to_minutes(offset_minutes), '%Y-%m-%dT%H:%M:%S')
               || offset_text,
           'kind', kind,
           'status', status,
           'expires_at', strftime(timezone('UTC', expires_at) + to_minutes(offset_minutes), '%Y-%m-%dT%H:%M:%S')
               || offset_text
       )::VARCHAR
FROM media
ORDER BY account_name, chat_name, sent_at, export_seq
