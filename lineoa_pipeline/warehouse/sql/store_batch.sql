-- Store one batch typed by stage_batch.sql into messages, rejected_rows, quarantined_files, source_files,
-- _file_offsets, _unwritten_files and _pending_months. Runs inside one transaction: the batch is stored whole or not at all.

-- Stored once, as written: User as user, Account as staff, text, one_to_one; writing the month's partition
-- (write_months.sql) then classifies them from the settings.
INSERT INTO messages
SELECT r.message_id, r.account_name, r.chat_name, 'one_to_one', CASE r.st WHEN 'User' THEN 'user' ELSE 'staff' END,
       r.sender_name, r.sent_at, r.month, 'text', r.clean_content, r.source_file,
       b.seq + n.ordinal, r.utc_offset_minutes
FROM batch_new n JOIN batch_rows r USING (rn) JOIN batch_base b ON b.account_name = n.account_name;

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

INSERT INTO source_files BY NAME
WITH counts AS (
    SELECT read_path, count(*) AS rows_ok, count(*) FILTER (WHERE bad) AS rejected_typed
    FROM batch_rows GROUP BY read_path
),
new_counts AS (SELECT r.read_path, count(*) AS messages_new FROM batch_new JOIN batch_rows r USING (rn) GROUP BY ALL),
column_counts AS (SELECT read_path, count(*) AS rejected_columns FROM batch_column_rejects GROUP BY read_path)
SELECT f.source_file AS file_path, f.sha256, f.bytes, f.account_name, f.chat_name, f.downloaded_at, f.is_bulk,
       coalesce(c.rows_ok, 0) + coalesce(k.rejected_columns, 0) AS rows_read,
       coalesce(n.messages_new, 0) AS messages_new,
       coalesce(c.rows_ok, 0) - coalesce(c.rejected_typed, 0) - coalesce(n.messages_new, 0) AS duplicates,
       coalesce(c.rejected_typed, 0) + coalesce(k.rejected_columns, 0) AS rejected,
       now() AS ingested_at
FROM batch_files f
LEFT JOIN counts c USING (read_path)
LEFT JOIN new_counts n USING (read_path)
LEFT JOIN column_counts k USING (read_path)
WHERE f.read_path NOT IN (SELECT read_path FROM batch_bad_files);

INSERT INTO _file_offsets BY NAME
SELECT source_file AS file_path, utc_offset_minutes, ui_language, sha256, chat_name FROM batch_files
WHERE read_path NOT IN (SELECT read_path FROM batch_bad_files);

INSERT INTO _unwritten_files
SELECT source_file, sha256 FROM batch_files WHERE read_path NOT IN (SELECT read_path FROM batch_bad_files);

-- Months to (re)write: those with new messages, and every month of a chat that has just become a group.
INSERT INTO _pending_months
SELECT DISTINCT r.month FROM batch_new n JOIN batch_rows r USING (rn)
UNION
SELECT DISTINCT month FROM messages
WHERE (account_name, chat_name) IN (SELECT * FROM batch_group_chats EXCEPT SELECT * FROM _group_chats);

INSERT INTO _group_chats SELECT * FROM batch_group_chats EXCEPT SELECT * FROM _group_chats;
