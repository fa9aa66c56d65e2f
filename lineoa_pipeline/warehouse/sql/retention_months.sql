-- Backup coverage and retention alert of every month of every account, as of the as-of time.
-- Per account (in parallel lists): its UTC offset in minutes, and the one_to_one text
-- retention and warning in days. A day is 24 hours, so retention is added as seconds, never as days.
WITH cfg AS (
    SELECT unnest($accounts) AS account_name, unnest($offsets) AS offset_minutes,
           unnest($days)::BIGINT AS days, unnest($warns)::BIGINT AS warns
),
firsts AS (
    SELECT account_name, min(sent_at) AS first_at FROM messages GROUP BY account_name
),
month_starts AS (  -- local midnight of the first of each month, from the earliest message to as-of
    SELECT c.*, unnest(generate_series(
               date_trunc('month', timezone('UTC', f.first_at) + to_minutes(c.offset_minutes)),
               date_trunc('month', timezone('UTC', $as_of) + to_minutes(c.offset_minutes)),
               INTERVAL 1 MONTH)) AS local_start
    FROM cfg c JOIN firsts f USING (account_name)
),
bounded AS (
    SELECT account_name, local_start::DATE AS month, offset_minutes, warns,
           timezone('UTC', local_start - to_minutes(offset_minutes)) AS start_at,
           timezone('UTC', local_start + INTERVAL 1 MONTH - to_minutes(offset_minutes)) AS end_at,
           to_seconds(days * 86400) AS retention
    FROM month_starts
),
backups AS (  -- a bulk backup is one download time, however many chat files its zip holds
    SELECT DISTINCT account_name, downloaded_at
    FROM source_files
    WHERE is_bulk AND downloaded_at <= $as_of
),
covered AS (
    SELECT m.account_name, m.month, m.offset_minutes, m.start_at + m.retention AS cutoff_at,
           m.end_at + m.retention AS final_at, m.warns,
           CASE
               WHEN bool_or(b.downloaded_at >= m.end_at AND b.downloaded_at - m.retention <= m.start_at)
                   THEN 'complete'
               -- the range [D - retention, D] overlaps the month [start, end)
               WHEN bool_or(b.downloaded_at >= m.start_at AND b.downloaded_at - m.retention < m.end_at)
                   THEN 'partial'
               ELSE 'missing'
           END AS coverage
    FROM bounded m LEFT JOIN backups b USING (account_name)
    GROUP BY ALL
)
SELECT account_name, month, offset_minutes, coverage,
       CASE
           WHEN coverage = 'complete' THEN 'ok'
           WHEN $as_of >= final_at THEN 'lost'
           WHEN $as_of >= cutoff_at - to_seconds(warns * 86400) THEN 'at_risk'
           ELSE 'ok'
       END AS alert,
       cutoff_at, final_at
FROM covered
ORDER BY account_name, month
