/* ---
description: >
  Who answered: per account, month of asking and staff sender name, the inquiries answered and
  their median wait.
reads: [response_times]
columns:
  account_name: The account, as its exports name it.
  month: First day of the local month the inquiries were asked in.
  replied_by: The staff sender name that answered.
  answered: Inquiries of that month this sender answered first.
  median_response_seconds: Median wait of those inquiries, in seconds (quantile_cont).
--- */
CREATE OR REPLACE VIEW staff_response_stats AS
SELECT account_name, month, replied_by,
       count(*) AS answered,
       quantile_cont(response_seconds, 0.5) AS median_response_seconds
FROM response_times
WHERE replied_at IS NOT NULL
GROUP BY account_name, month, replied_by;
