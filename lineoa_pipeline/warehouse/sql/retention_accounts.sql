-- Every account the warehouse knows, its UTC offset (that of its latest export) and its latest bulk
-- backup downloaded by the as-of time.
SELECT s.account_name, coalesce(any_value(z.utc_offset_minutes), 0) AS offset_minutes,
       max(s.downloaded_at) FILTER (WHERE s.is_bulk AND s.downloaded_at <= $as_of)
           AS last_bulk_backup_at
FROM source_files s LEFT JOIN _account_zones z USING (account_name)
GROUP BY s.account_name
ORDER BY s.account_name
