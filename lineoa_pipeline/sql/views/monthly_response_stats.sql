-- Per account and month of asking: how many inquiries, how fast they were answered, and the share answered
-- within `sla_minutes` of business time (an unanswered inquiry counts as missed).
CREATE OR REPLACE VIEW monthly_response_stats AS
SELECT r.account_name, r.month,
       count(*) AS inquiries,
       count(r.replied_at) AS answered,
       count(*) - count(r.replied_at) AS unanswered,
       quantile_cont(r.response_seconds, 0.5) AS median_response_seconds,
       quantile_cont(r.response_seconds, 0.9) AS p90_response_seconds,
       quantile_cont(r.business_seconds, 0.5) AS median_business_seconds,
       count(*) FILTER (WHERE r.business_seconds <= 60 * coalesce(a.sla_minutes, 60)) / count(*) AS within_sla
FROM response_times r
LEFT JOIN _cfg_accounts a USING (account_name)
GROUP BY r.account_name, r.month;
