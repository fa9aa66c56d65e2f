-- Store the batch's unchanged files (batch_unchanged) as parsing them would: every row a duplicate but the
-- rejected ones, which are those of the file they repeat. Runs inside one transaction.
INSERT INTO rejected_rows
SELECT f.source_file, r.line, r.raw, r.reason
FROM batch_unchanged u
JOIN batch_files f USING (file_rank)
JOIN rejected_rows r ON r.source_file = u.like_file
WHERE u.rejected > 0;

-- Its chat is a group already when it is one: the file it repeats, of the same chat, recorded the same rows.
INSERT INTO source_files BY NAME
SELECT f.source_file AS file_path, f.sha256, f.bytes, f.account_name, f.chat_name, f.downloaded_at, f.is_bulk,
       u.rows_read, 0 AS messages_new, u.rows_read - u.rejected AS duplicates, u.rejected, now() AS ingested_at
FROM batch_unchanged u JOIN batch_files f USING (file_rank);

INSERT INTO _file_offsets BY NAME
SELECT f.source_file AS file_path, f.utc_offset_minutes, f.ui_language, f.sha256, f.chat_name
FROM batch_unchanged u JOIN batch_files f USING (file_rank);

INSERT INTO _unwritten_files SELECT f.source_file, f.sha256 FROM batch_unchanged u JOIN batch_files f USING (file_rank);

INSERT INTO _file_bodies
SELECT f.source_file, f.sha256, f.account_name, f.chat_name, f.utc_offset_minutes, u.encoding, u.body_sha256
FROM batch_unchanged u JOIN batch_files f USING (file_rank);
