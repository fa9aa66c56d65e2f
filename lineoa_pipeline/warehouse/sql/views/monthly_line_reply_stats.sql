/* ---
description: >
  LINE's reply time per account and calendar month (LINE itself shows a rolling 30-day mean): the cycles
  started in the month, how many were replied to within 24 hours, and the mean of their reply_seconds.
reads: [line_reply_times]
columns:
  account_name: The account, as its exports name it.
  month: First day of the local month the cycles started in.
  cycles: Cycles started in the month.
  replied: Of those, the cycles replied to within 86,400 s.
  average_reply_seconds: Mean reply_seconds of the replied cycles (DOUBLE); NULL when none replied.
--- */
CREATE OR REPLACE VIEW monthly_line_reply_stats AS
SELECT account_name, month, count(*) AS cycles, count(replied_at) AS replied,
       avg(reply_seconds)::DOUBLE AS average_reply_seconds
FROM line_reply_times
GROUP BY account_name, month;
