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
CREATE OR REPLACE VIEW response_buckets AS
WITH buckets(bucket, from_s, to_s) AS (
    VALUES ('under_1h', 0, 3600), ('1h_4h', 3600, 14400), ('4h_8h', 14400, 28800), ('8h_24h', 28800, 86400),
           ('over_24h', 86400, NULL), ('unanswered', NULL, NULL)
),
months AS (SELECT DISTINCT account_name, month FROM response_times)
SELECT m.account_name, m.month, b.bucket, count(r.asked_at) AS inquiries
FROM months m
CROSS JOIN buckets b
LEFT JOIN response_times r
    ON r.account_name = m.account_name AND r.month = m.month
   AND CASE WHEN b.from_s IS NULL THEN r.response_seconds IS NULL
            ELSE r.response_seconds >= b.from_s AND (b.to_s IS NULL OR r.response_seconds < b.to_s) END
GROUP BY m.account_name, m.month, b.bucket;
