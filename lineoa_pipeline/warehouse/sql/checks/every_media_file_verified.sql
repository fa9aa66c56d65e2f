-- Manifest rows whose file is missing or differs (checksum or size), counted per verification.
SELECT verification, count(*) FROM media_files WHERE verification <> 'ok' GROUP BY 1 ORDER BY 1;
