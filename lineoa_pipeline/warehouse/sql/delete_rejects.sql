-- Before a load of tags or manifests replaces its rejects: those of its CSVs ($prefix: 'tags/%' or 'media/%').
-- An export's rejects (it has a source_files row) stay, whatever its inbox path.
DELETE FROM rejected_rows
WHERE source_file LIKE $prefix AND source_file NOT IN (SELECT file_path FROM source_files);
