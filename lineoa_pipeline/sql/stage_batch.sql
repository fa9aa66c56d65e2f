-- Stage one batch of exports (temp tables batch_files and batch_raw, rejects from read_batch.sql) into
-- _staged_messages, source_files, rejected_rows and quarantined_files. Runs inside one transaction.

-- A file with a structural error (unterminated quote, invalid UTF-8, ...) is quarantined whole.
CREATE OR REPLACE TEMP TABLE batch_bad_files AS
SELECT s.file_path AS read_path,
       arg_min(e.error_type || ' at line ' || e.line || ': ' || e.error_message, e.line) AS reason
FROM batch_rejects e JOIN batch_scans s USING (scan_id, file_id)
WHERE e.error_type NOT IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
GROUP BY ALL;

-- Rows with the wrong number of columns: rejected, the rest of their file loads. DuckDB numbers them by
-- CSV record (the 4 skipped rows included), not by physical line: `record` here, `line` below.
CREATE OR REPLACE TEMP TABLE batch_column_rejects AS
SELECT s.file_path AS read_path, e.line AS record,
       trim(any_value(e.csv_line), chr(13) || chr(10)) AS raw,
       'wrong column count: expected 5, found ' || max(CASE e.error_type WHEN 'TOO MANY COLUMNS'
           THEN regexp_extract(e.error_message, 'Found: (\d+)', 1) ELSE NULL END) AS too_many,
       'wrong column count: expected 5, found ' || min(e.column_idx) AS too_few,
       bool_or(e.error_type = 'TOO MANY COLUMNS') AS is_too_many
FROM batch_rejects e JOIN batch_scans s USING (scan_id, file_id)
WHERE e.error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
  AND s.file_path NOT IN (SELECT read_path FROM batch_bad_files)
GROUP BY s.file_path, e.line;

CREATE OR REPLACE TEMP MACRO unguard(v) AS
    CASE WHEN v[1] = '''' AND v[2] IN ('=', '+', '-', '@', chr(9), chr(13), chr(10)) THEN v[2:] ELSE v END;
CREATE OR REPLACE TEMP MACRO clean_field(v) AS
    replace(replace(replace(unguard(coalesce(v, '')), '_x000D_', ''), chr(13) || chr(10), chr(10)), chr(13), chr(10));
CREATE OR REPLACE TEMP MACRO newlines(v) AS length(coalesce(v, '')) - length(replace(coalesce(v, ''), chr(10), ''));

CREATE OR REPLACE TEMP TABLE batch_rows AS
WITH typed AS (
    SELECT f.source_file, f.account_name, f.chat_name, f.utc_offset_minutes, b.read_path, b.rn,
           b.st, b.sn, b.d, b.t, b.content,
           try_strptime(trim(b.d) || ' ' || trim(b.t), '%Y/%m/%d %H:%M:%S') AS local_ts,
           clean_field(b.sn) AS sender_name,
           clean_field(b.content) AS clean_content
    FROM batch_raw b JOIN batch_files f USING (read_path)
    WHERE b.read_path NOT IN (SELECT read_path FROM batch_bad_files)
)
SELECT *,
       timezone('UTC', local_ts - to_minutes(utc_offset_minutes)) AS sent_at,
       date_trunc('month', local_ts)::DATE AS month,
       CASE
           WHEN st IS NULL OR st NOT IN ('User', 'Account') THEN 'unknown sender type ' || coalesce('"' || st || '"', '(empty)')
           WHEN local_ts IS NULL THEN 'bad or empty date/time "' || coalesce(d, '') || ' ' || coalesce(t, '') || '"'
       END AS reject_reason
FROM typed;

-- The physical line each rejected record starts on: 5 + the lines of every record before it, read or
-- rejected. Only files with a rejected row need it. A rejected record sits just before the good row
-- numbered (good rows before it) + 1.
CREATE OR REPLACE TEMP TABLE batch_lines AS
WITH needed AS (
    SELECT read_path FROM batch_rows WHERE reject_reason IS NOT NULL
    UNION
    SELECT read_path FROM batch_column_rejects
),
good AS (
    SELECT read_path, rn, rn - min(rn) OVER (PARTITION BY read_path) + 1 AS ordinal, NULL::BIGINT AS record,
           1 + newlines(st) + newlines(sn) + newlines(d) + newlines(t) + newlines(content) AS span
    FROM batch_raw
    WHERE read_path IN (SELECT read_path FROM needed)
),
rejected AS (
    SELECT read_path, NULL::BIGINT AS rn,
           record - 4 - row_number() OVER (PARTITION BY read_path ORDER BY record) + 1 AS ordinal,
           record, 1 + newlines(raw) AS span
    FROM batch_column_rejects
)
SELECT read_path, rn, record,
       5 + coalesce(sum(span) OVER (PARTITION BY read_path ORDER BY ordinal, record NULLS LAST
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line
FROM (SELECT * FROM good UNION ALL SELECT * FROM rejected);

-- Identity: n numbers the rows of one file that share sender type, instant and content, in file order.
-- (Partitioning on the content's hash, not the content, keeps the sort cheap; rn is the file order.)
CREATE OR REPLACE TEMP TABLE batch_valid AS
SELECT *,
       md5(concat_ws(chr(31), account_name, chat_name, st, epoch_us(sent_at)::VARCHAR, clean_content,
           row_number() OVER (PARTITION BY hash(read_path, st, sent_at, clean_content) ORDER BY rn)::VARCHAR
       )) AS message_id
FROM batch_rows
WHERE reject_reason IS NULL;

-- Messages an earlier batch or run already staged: probe the staged table with this batch's ids.
CREATE OR REPLACE TEMP TABLE batch_existing AS
SELECT message_id FROM _staged_messages WHERE message_id IN (SELECT message_id FROM batch_valid);

-- The first file (in download order, then path: the scan order rn) to hold a message stores it. Within a
-- file the occurrence number keeps ids apart, so a message twice in one batch is in two of its files.
CREATE OR REPLACE TEMP TABLE batch_repeats AS
SELECT message_id, min(rn) AS first_rn FROM batch_valid GROUP BY message_id HAVING count(*) > 1;

CREATE OR REPLACE TEMP TABLE batch_new AS
SELECT v.* FROM batch_valid v LEFT JOIN batch_repeats r USING (message_id)
WHERE (r.first_rn IS NULL OR r.first_rn = v.rn)
  AND v.message_id NOT IN (SELECT message_id FROM batch_existing);

INSERT INTO _staged_messages
SELECT message_id, account_name, chat_name, st, sender_name, sent_at, month, clean_content, source_file,
       (SELECT coalesce(max(export_seq), 0) FROM _staged_messages) + rn
FROM batch_new;

INSERT INTO rejected_rows
SELECT r.source_file, l.line,
       concat_ws(',', r.st, coalesce(r.sn, ''), coalesce(r.d, ''), coalesce(r.t, ''), coalesce(r.content, '')),
       r.reject_reason
FROM batch_rows r JOIN batch_lines l ON l.read_path = r.read_path AND l.rn = r.rn
WHERE r.reject_reason IS NOT NULL
UNION ALL
SELECT f.source_file, l.line, r.raw, CASE WHEN r.is_too_many THEN r.too_many ELSE r.too_few END
FROM batch_column_rejects r
JOIN batch_lines l ON l.read_path = r.read_path AND l.record = r.record
JOIN batch_files f ON f.read_path = r.read_path;

INSERT INTO quarantined_files
SELECT f.source_file, f.sha256, b.reason, now()
FROM batch_bad_files b JOIN batch_files f USING (read_path);

INSERT INTO source_files
WITH counts AS (
    SELECT read_path, count(*) AS rows_ok, count(*) FILTER (WHERE reject_reason IS NOT NULL) AS rejected_typed
    FROM batch_rows GROUP BY read_path
),
new_counts AS (SELECT read_path, count(*) AS messages_new FROM batch_new GROUP BY read_path),
column_counts AS (SELECT read_path, count(*) AS rejected_columns FROM batch_column_rejects GROUP BY read_path)
SELECT f.source_file, f.sha256, f.bytes, f.account_name, f.downloaded_at, f.is_bulk,
       coalesce(c.rows_ok, 0) + coalesce(k.rejected_columns, 0) AS rows_read,
       coalesce(n.messages_new, 0) AS messages_new,
       coalesce(c.rows_ok, 0) - coalesce(c.rejected_typed, 0) - coalesce(n.messages_new, 0) AS duplicates,
       coalesce(c.rejected_typed, 0) + coalesce(k.rejected_columns, 0) AS rejected,
       now()
FROM batch_files f
LEFT JOIN counts c USING (read_path)
LEFT JOIN new_counts n USING (read_path)
LEFT JOIN column_counts k USING (read_path)
WHERE f.read_path NOT IN (SELECT read_path FROM batch_bad_files);

INSERT INTO _file_offsets
SELECT source_file, utc_offset_minutes FROM batch_files
WHERE read_path NOT IN (SELECT read_path FROM batch_bad_files);

-- Months to (re)write: those with new messages, and every month of a chat that has just become a group.
INSERT INTO _pending_months
SELECT DISTINCT month FROM batch_new
UNION
SELECT DISTINCT s.month
FROM _staged_messages s
JOIN (
    SELECT account_name, chat_name
    FROM _staged_messages
    WHERE sender_type_raw = 'User'
      AND (account_name, chat_name) IN (SELECT DISTINCT account_name, chat_name FROM batch_new WHERE st = 'User')
    GROUP BY ALL
    HAVING count(DISTINCT sender_name) >= 2
       AND count(DISTINCT sender_name) FILTER (WHERE message_id NOT IN (SELECT message_id FROM batch_new)) < 2
) g USING (account_name, chat_name);
