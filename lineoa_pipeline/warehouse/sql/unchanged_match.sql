-- The batch's files (batch_files) whose body a stored file has, for the same account, chat and time zone:
-- the stored file's counts are theirs. `?`: the batch's file ranks, encodings and body hashes. A stored file
-- with rejects is taken only when its rejected rows are told apart by its name (its count is theirs).
CREATE OR REPLACE TEMP TABLE batch_unchanged AS
WITH bodies AS (SELECT unnest(?::INTEGER[]) AS file_rank, unnest(?::VARCHAR[]) AS encoding,
                       unnest(?::VARCHAR[]) AS body_sha256)
SELECT DISTINCT ON (f.file_rank) f.file_rank, b.encoding, b.body_sha256, s.file_path AS like_file,
       s.rows_read, s.rejected
FROM bodies b
JOIN batch_files f USING (file_rank)
JOIN _file_bodies e ON e.account_name = f.account_name AND e.chat_name = f.chat_name
    AND e.utc_offset_minutes = f.utc_offset_minutes AND e.encoding = b.encoding AND e.body_sha256 = b.body_sha256
JOIN source_files s ON s.file_path = e.file_path AND s.sha256 = e.sha256
WHERE s.rejected = 0 OR s.rejected = (SELECT count(*) FROM rejected_rows r WHERE r.source_file = s.file_path)
ORDER BY f.file_rank, s.rejected;
