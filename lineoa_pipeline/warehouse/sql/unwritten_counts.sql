-- What earlier runs staged and never wrote (interrupted before their months job): the counts the run that
-- writes their months reports as its own. Files staged with nothing to write (no month pending) are done.
DELETE FROM _unwritten_files WHERE NOT EXISTS (SELECT 1 FROM _pending_months);

SELECT count(*), coalesce(sum(s.rows_read), 0), coalesce(sum(s.messages_new), 0), coalesce(sum(s.duplicates), 0),
       coalesce(sum(s.rejected), 0)
FROM source_files s
WHERE (s.file_path, s.sha256) IN (SELECT (file_path, sha256) FROM _unwritten_files);
