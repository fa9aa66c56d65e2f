-- The waiting chats that have waited longer than their account's sla_minutes of business time.
SELECT w.*, a.sla_minutes
FROM waiting_chats w JOIN _cfg_accounts a USING (account_name)
WHERE w.business_seconds > 60 * a.sla_minutes
