-- Who answered: per account, month of asking and staff sender name.
CREATE OR REPLACE VIEW staff_response_stats AS
SELECT account_name, month, replied_by,
       count(*) AS answered,
       quantile_cont(response_seconds, 0.5) AS median_response_seconds
FROM response_times
WHERE replied_at IS NOT NULL
GROUP BY account_name, month, replied_by;
