"""The warehouse: the embedded DuckDB file (one writer, the readers' snapshot) or a DuckLake, the month
writes that classify messages, the views, and every `.sql` file (`sql/`). Imports `settings/` and
`line_export/`."""
