-- Stage one batch of exports (temp tables batch_files and batch_raw, rejects from read_batch.sql) into
-- _staged_messages, source_files, rejected_rows and quarantined_files. Runs inside one transaction.

-- A file with a structural error (unterminated quote, invalid UTF-8, ...) is quarantined whole.
CREATE OR REPLACE TEMP TABLE batch_bad_files AS
SELECT s.file_path AS read_path,
       arg_min(e.error_type || ' at line ' || e.line || ': ' || e.error_message, e.line) AS reason
FROM batch_rejects e JOIN batch_scans s USING (scan_id, file_id)
WHERE e.error_type NOT IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
GROUP BY ALL;

-- Rows with the wrong number of columns: rejected, the rest of their file loads.
CREATE OR REPLACE TEMP TABLE batch_column_rejects AS
SELECT s.file_path AS read_path, e.line,
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
WITH ordered AS (
    SELECT f.*, b.st, b.sn, b.d, b.t, b.content,
           b.rn - min(b.rn) OVER (PARTITION BY b.read_path) + 1 AS ordinal,
           1 + newlines(b.st) + newlines(b.sn) + newlines(b.d) + newlines(b.t) + newlines(b.content) AS span
    FROM batch_raw b JOIN batch_files f USING (read_path)
    WHERE b.read_path NOT IN (SELECT read_path FROM batch_bad_files)
),
lined AS (  -- physical line: 4 metadata/header lines, the lines of the rows before, the rejected lines before
    SELECT *, 5 + coalesce(sum(span) OVER (PARTITION BY read_path ORDER BY ordinal
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS naive_line
    FROM ordered
),
reject_marks AS (
    SELECT read_path, line - row_number() OVER (PARTITION BY read_path ORDER BY line) + 1 AS naive_line
    FROM batch_column_rejects
),
typed AS (
    SELECT l.*,
           l.naive_line + (SELECT count(*) FROM reject_marks m
                           WHERE m.read_path = l.read_path AND m.naive_line <= l.naive_line) AS line,
           try_strptime(trim(l.d) || ' ' || trim(l.t), '%Y/%m/%d %H:%M:%S') AS local_ts,
           clean_field(l.sn) AS sender_name,
           clean_field(l.content) AS clean_content
    FROM lined l
)
SELECT *,
       timezone('UTC', local_ts - to_minutes(utc_offset_minutes)) AS sent_at,
       date_trunc('month', local_ts)::DATE AS month,
       CASE
           WHEN st IS NULL OR st NOT IN ('User', 'Account') THEN 'unknown sender type ' || coalesce('"' || st || '"', '(empty)')
           WHEN local_ts IS NULL THEN 'bad or empty date/time "' || coalesce(d, '') || ' ' || coalesce(t, '') || '"'
       END AS reject_reason
FROM typed;

CREATE OR REPLACE TEMP TABLE batch_valid AS
SELECT *,
       md5(concat_ws(chr(31), account_name, chat_name, st, epoch_us(sent_at)::VARCHAR, clean_content,
           row_number() OVER (PARTITION BY read_path, st, sent_at, clean_content ORDER BY ordinal)::VARCHAR
       )) AS message_id
FROM batch_rows
WHERE reject_reason IS NULL;

-- The first file (in download order, then path) to hold a message stores it; a message already staged
-- by an earlier run is a duplicate.
CREATE OR REPLACE TEMP TABLE batch_new AS
WITH first_seen AS (
    SELECT * FROM batch_valid
    QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY file_rank, ordinal) = 1
)
SELECT f.* FROM first_seen f ANTI JOIN _staged_messages s ON s.message_id = f.message_id;

INSERT INTO _staged_messages
SELECT message_id, account_name, chat_name, st, sender_name, sent_at, month, clean_content, source_file,
       (SELECT coalesce(max(export_seq), 0) FROM _staged_messages)
           + row_number() OVER (ORDER BY file_rank, ordinal)
FROM batch_new;

INSERT INTO rejected_rows
SELECT source_file, line, concat_ws(',', st, sn, d, t, content), reject_reason
FROM batch_rows WHERE reject_reason IS NOT NULL
UNION ALL
SELECT f.source_file, r.line, r.raw, CASE WHEN r.is_too_many THEN r.too_many ELSE r.too_few END
FROM batch_column_rejects r JOIN batch_files f USING (read_path);

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
