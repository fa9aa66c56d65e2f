-- Stage one batch of exports (temp tables batch_files and batch_raw, rejects from read_batch.sql or
-- read_together.sql) into messages, source_files, rejected_rows and quarantined_files. Runs inside one
-- transaction.

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
-- The guard, then `_x000D_`, then CRLF and CR as LF; the test first lets the many plain fields through
-- untouched (three replaces over every field cost more than the whole typing of a row).
CREATE OR REPLACE TEMP MACRO clean_field(v) AS
    CASE WHEN v IS NULL THEN ''
         WHEN v[1] = '''' OR contains(v, '_x000D_') OR contains(v, chr(13))
             THEN replace(replace(replace(unguard(v), '_x000D_', ''), chr(13) || chr(10), chr(10)), chr(13), chr(10))
         ELSE v END;
-- A field written back as CSV (quoted when it holds a quote, comma or line break), for a rejected row's raw.
CREATE OR REPLACE TEMP MACRO csv_field(v) AS
    CASE WHEN regexp_matches(coalesce(v, ''), '[",\r\n]') THEN '"' || replace(v, '"', '""') || '"' ELSE coalesce(v, '') END;
-- A message's identity (INTERFACE.md): its n-th occurrence in one file of (account, chat, sender type as
-- written, instant, content).
CREATE OR REPLACE TEMP MACRO message_id(account, chat, st, sent_at, content, n) AS
    md5(concat_ws(chr(31), account, chat, st, epoch_us(sent_at)::VARCHAR, content, n::VARCHAR));
CREATE OR REPLACE TEMP MACRO newlines(v) AS length(coalesce(v, '')) - length(replace(coalesce(v, ''), chr(10), ''));

-- Typed rows with their identity (rn = read order); the raw fields stay in batch_raw for the rare rejected
-- row. The id takes n = 1 here, as nearly every row is alone in its group; repeated groups are renumbered below.
CREATE OR REPLACE TEMP TABLE batch_rows AS
WITH raw AS (
    SELECT rn, read_path, st, sn, content,
           try_strptime(trim(d) || ' ' || trim(t), '%Y/%m/%d %H:%M:%S') AS local_ts
    FROM batch_raw
    WHERE read_path NOT IN (SELECT read_path FROM batch_bad_files)
),
typed AS (
    SELECT b.rn, b.read_path, f.source_file, f.account_name, f.chat_name, b.st,
           clean_field(b.sn) AS sender_name, clean_field(b.content) AS clean_content,
           -- the instant: local time less the file's offset (plain arithmetic, no time-zone lookup per row)
           make_timestamptz(epoch_us(b.local_ts) - f.utc_offset_minutes::BIGINT * 60000000) AS sent_at,
           date_trunc('month', b.local_ts)::DATE AS month,
           b.local_ts IS NULL OR b.st IS NULL OR b.st NOT IN ('User', 'Account') AS bad
    FROM raw b JOIN batch_files f USING (read_path)
)
SELECT *, CASE WHEN NOT bad THEN message_id(account_name, chat_name, st, sent_at, clean_content, 1) END AS message_id
FROM typed;

-- The physical line each rejected record starts on: 5 + the lines of every record before it, read or
-- rejected. Only files with a rejected row need it. A rejected record sits just before the good row
-- numbered (good rows before it) + 1.
CREATE OR REPLACE TEMP TABLE batch_lines AS
WITH needed AS (
    SELECT read_path FROM batch_rows WHERE bad
    UNION
    SELECT read_path FROM batch_column_rejects
),
good AS (
    SELECT read_path, rn, rn - min(rn) OVER (PARTITION BY read_path) + 1 AS ordinal,
           NULL::BIGINT AS record,
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

-- Identity: n numbers the rows of one file that share sender type, instant and content, in file order. Only
-- the groups an aggregate finds repeated (keyed by one hash, so that the grouping stays cheap; the window then
-- partitions by the fields themselves) are numbered, and their rows after the first take their own ids.
CREATE OR REPLACE TEMP TABLE batch_repeats AS
WITH keyed AS (SELECT rn, read_path, message_id, hash(read_path, message_id) AS k FROM batch_rows WHERE NOT bad)
SELECT rn, row_number() OVER (PARTITION BY read_path, message_id ORDER BY rn) AS n
FROM keyed
WHERE k IN (SELECT k FROM keyed GROUP BY k HAVING count(*) > 1);

UPDATE batch_rows r
SET message_id = message_id(r.account_name, r.chat_name, r.st, r.sent_at, r.clean_content, p.n)
FROM batch_repeats p
WHERE p.rn = r.rn AND p.n > 1;

-- What an earlier batch or run already staged (most of a weekly backup): probe with this batch's ids.
CREATE OR REPLACE TEMP TABLE batch_existing AS
SELECT message_id FROM messages WHERE message_id IN (SELECT message_id FROM batch_rows WHERE NOT bad);

-- The first file (in download order, then path: the read order rn) to hold a message stores it. Within a
-- file the occurrence number keeps ids apart, so a message twice in one batch is in two of its files.
-- ordinal numbers them in read order (a narrow sort: cheap).
CREATE OR REPLACE TEMP TABLE batch_new AS
WITH fresh AS (
    SELECT rn, message_id FROM batch_rows
    WHERE NOT bad AND message_id NOT IN (SELECT message_id FROM batch_existing)
),
repeats AS (SELECT message_id, min(rn) AS first_rn FROM fresh GROUP BY message_id HAVING count(*) > 1)
SELECT f.rn, row_number() OVER (ORDER BY f.rn) AS ordinal
FROM fresh f LEFT JOIN repeats r USING (message_id)
WHERE r.first_rn IS NULL OR r.first_rn = f.rn;

-- Staged before this batch: export_seq up to here; this batch's new messages follow, in read order, with
-- no gaps (the same inputs give the same numbers however many runs took them in).
CREATE OR REPLACE TEMP TABLE batch_base AS SELECT coalesce(max(export_seq), 0) AS seq FROM messages;

-- Stored once, as written: User as user, Account as staff, text, one_to_one; writing the month's partition
-- (write_months.sql) then classifies them from the settings.
INSERT INTO messages
SELECT r.message_id, r.account_name, r.chat_name, 'one_to_one', CASE r.st WHEN 'User' THEN 'user' ELSE 'staff' END,
       r.sender_name, r.sent_at, r.month, 'text', r.clean_content, r.source_file,
       (SELECT seq FROM batch_base) + n.ordinal
FROM batch_new n JOIN batch_rows r USING (rn);

INSERT INTO rejected_rows
SELECT f.source_file, l.line,
       concat_ws(',', csv_field(b.st), csv_field(b.sn), csv_field(b.d), csv_field(b.t), csv_field(b.content)),
       CASE
           WHEN b.st IS NULL OR b.st NOT IN ('User', 'Account') THEN 'unknown sender type ' || coalesce('"' || b.st || '"', '(empty)')
           ELSE 'bad or empty date/time "' || coalesce(b.d, '') || ' ' || coalesce(b.t, '') || '"'
       END
FROM batch_rows r
JOIN batch_raw b ON b.rn = r.rn
JOIN batch_lines l ON l.rn = r.rn
JOIN batch_files f ON f.read_path = r.read_path
WHERE r.bad
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
    SELECT read_path, count(*) AS rows_ok, count(*) FILTER (WHERE bad) AS rejected_typed
    FROM batch_rows GROUP BY read_path
),
new_counts AS (SELECT r.read_path, count(*) AS messages_new FROM batch_new JOIN batch_rows r USING (rn) GROUP BY ALL),
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

-- Months to (re)write: those with new messages, and every month of a chat staged before that has just
-- become a group (a chat new in this batch has all its months among the first kind).
INSERT INTO _pending_months
WITH new_rows AS (SELECT r.* FROM batch_new n JOIN batch_rows r USING (rn))
SELECT DISTINCT month FROM new_rows
UNION
SELECT DISTINCT s.month
FROM messages s
JOIN (
    SELECT account_name, chat_name
    FROM messages
    WHERE sender_type = 'user'
      AND (account_name, chat_name) IN (SELECT DISTINCT account_name, chat_name FROM new_rows WHERE st = 'User')
    GROUP BY ALL
    HAVING count(*) FILTER (WHERE export_seq <= (SELECT seq FROM batch_base)) > 0
       AND count(DISTINCT sender_name) >= 2
       AND count(DISTINCT sender_name) FILTER (WHERE export_seq <= (SELECT seq FROM batch_base)) < 2
) g USING (account_name, chat_name);
