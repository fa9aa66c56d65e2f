-- Record the body hashes of a batch's stored files (batch_files less batch_bad_files), in the transaction that
-- stores them. `?`: their file ranks, encodings and body hashes.
INSERT INTO _file_bodies
WITH bodies AS (SELECT unnest(?::INTEGER[]) AS file_rank, unnest(?::VARCHAR[]) AS encoding,
                       unnest(?::VARCHAR[]) AS body_sha256)
SELECT f.source_file, f.sha256, f.account_name, f.chat_name, f.utc_offset_minutes, b.encoding, b.body_sha256
FROM bodies b JOIN batch_files f USING (file_rank)
WHERE f.read_path NOT IN (SELECT read_path FROM batch_bad_files);
