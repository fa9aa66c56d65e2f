-- How many non-blank lines of a JSON-lines file are not JSON (a damaged line, skipped by its readers).
SELECT count(*) FROM read_ndjson_objects($path, ignore_errors = true) WHERE json IS NULL
