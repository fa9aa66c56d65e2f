/* ---
description: >
  Per account and month of asking: how many inquiries, how fast they were answered, and the share
  answered within the account's sla_minutes of business time (an unanswered inquiry counts as missed).
reads: [response_times]
columns:
  account_name: The account, as its exports name it.
  month: First day of the local month the inquiries were asked in.
  inquiries: Inquiries asked that month.
  answered: Those answered (at any later time).
  unanswered: Those not answered yet.
  median_response_seconds: Median wait of the answered ones, in seconds (quantile_cont).
  p90_response_seconds: 90th percentile of that wait, in seconds (quantile_cont).
  median_business_seconds: Median wait of the answered ones in business seconds.
  within_sla: Share of all the month's inquiries answered within sla_minutes of business time (0 to 1).
--- */
CREATE OR REPLACE VIEW monthly_response_stats AS
SELECT r.account_name, r.month,
       count(*) AS inquiries,
       count(r.replied_at) AS answered,
       count(*) - count(r.replied_at) AS unanswered,
       quantile_cont(r.response_seconds, 0.5) AS median_response_seconds,
       quantile_cont(r.response_seconds, 0.9) AS p90_response_seconds,
       quantile_cont(r.business_seconds, 0.5) AS median_business_seconds,
       count(*) FILTER (WHERE r.business_seconds <= 60 * a.sla_minutes) / count(*) AS within_sla
FROM response_times r
-- sync_settings writes every account's sla_minutes (the default included): the default lives in settings.py.
LEFT JOIN _cfg_accounts a USING (account_name)
GROUP BY r.account_name, r.month;
