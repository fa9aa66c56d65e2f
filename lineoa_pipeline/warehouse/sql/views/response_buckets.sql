/* ---
description: >
  The month's inquiries by how long they waited (wall-clock seconds, as helpdesks report the first-response
  distribution): six rows for every account and month with an inquiry, zeros included. under_1h [0, 1 h),
  1h_4h [1 h, 4 h), 4h_8h [4 h, 8 h), 8h_24h [8 h, 24 h), over_24h (24 h or more), unanswered.
reads: [response_times]
columns:
  account_name: The account, as its exports name it.
  month: First day of the local month the inquiries were asked in.
  bucket: under_1h, 1h_4h, 4h_8h, 8h_24h, over_24h or unanswered.
  inquiries: How many of the month's inquiries fall in the bucket.
--- */
-- One pass over the inquiries, each into its bucket; then the six rows of every account and month.
CREATE OR REPLACE VIEW response_buckets AS
WITH counted AS (
    SELECT account_name, month,
           CASE WHEN response_seconds IS NULL THEN 'unanswered'
                WHEN response_seconds < 3600 THEN 'under_1h'
                WHEN response_seconds < 14400 THEN '1h_4h'
                WHEN response_seconds < 28800 THEN '4h_8h'
                WHEN response_seconds < 86400 THEN '8h_24h'
                ELSE 'over_24h' END AS bucket,
           count(*) AS inquiries
    FROM response_times
    GROUP BY ALL
),
buckets(bucket) AS (VALUES ('under_1h'), ('1h_4h'), ('4h_8h'), ('8h_24h'), ('over_24h'), ('unanswered'))
SELECT m.account_name, m.month, b.bucket, coalesce(c.inquiries, 0) AS inquiries
FROM (SELECT DISTINCT account_name, month FROM counted) m
CROSS JOIN buckets b
LEFT JOIN counted c USING (account_name, month, bucket);
