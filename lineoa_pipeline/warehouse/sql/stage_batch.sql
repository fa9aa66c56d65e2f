-- Type one batch of exports (temp tables batch_files and batch_raw, rejects from read_batch.sql or
-- read_together.sql) into temp tables: its rows with their ids, which of them are new, its rejects and its
-- bad files. Temp tables only, outside any transaction (DuckDB scans a table made inside the open
-- transaction on one thread, and several times slower); store_batch.sql then writes them in one.

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
    SELECT b.rn, b.read_path, f.source_file, f.account_name, f.chat_name, f.utc_offset_minutes, b.st,
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

-- The chats one of this batch's files shows as a group: two or more distinct User names in that one file.
CREATE OR REPLACE TEMP TABLE batch_group_chats AS
SELECT DISTINCT account_name, chat_name
FROM (SELECT read_path, account_name, chat_name FROM batch_rows WHERE NOT bad AND st = 'User'
      GROUP BY ALL HAVING count(DISTINCT sender_name) >= 2);

-- What an earlier batch or run already staged (most of a weekly backup): probe with this batch's ids.
CREATE OR REPLACE TEMP TABLE batch_existing AS
SELECT message_id FROM messages WHERE message_id IN (SELECT message_id FROM batch_rows WHERE NOT bad);

-- The first file (in download order, then path: the read order rn) to hold a message stores it. Within a
-- file the occurrence number keeps ids apart, so a message twice in one batch is in two of its files.
-- ordinal numbers each account's in read order (a narrow sort: cheap).
CREATE OR REPLACE TEMP TABLE batch_new AS
WITH fresh AS (
    SELECT rn, account_name, message_id FROM batch_rows
    WHERE NOT bad AND message_id NOT IN (SELECT message_id FROM batch_existing)
),
repeats AS (SELECT message_id, min(rn) AS first_rn FROM fresh GROUP BY message_id HAVING count(*) > 1)
SELECT f.rn, f.account_name, row_number() OVER (PARTITION BY f.account_name ORDER BY f.rn) AS ordinal
FROM fresh f LEFT JOIN repeats r USING (message_id)
WHERE r.first_rn IS NULL OR r.first_rn = f.rn;

-- export_seq numbers an account's messages in the order they were staged: this batch's new ones follow every
-- one of the account staged before, in read order, with no gaps. So the same inputs give the same numbers
-- however many runs took them in, and whichever accounts a lake's run stages at once (ingest.py).
CREATE OR REPLACE TEMP TABLE batch_base AS
SELECT a.account_name, coalesce(max(m.export_seq), 0) AS seq
FROM (SELECT DISTINCT account_name FROM batch_new) a LEFT JOIN messages m USING (account_name)
GROUP BY a.account_name;
