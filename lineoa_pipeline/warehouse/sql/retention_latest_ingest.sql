-- When the warehouse last took in an export: the retention sensor's mark of what it has checked.
SELECT max(ingested_at) FROM source_files
