-- The tables and views of the warehouse a reader's connection uses (its current database), for the notebooks.
SELECT database_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
UNION
SELECT database_name, view_name FROM duckdb_views()
WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
ORDER BY 2
