"""Reading the history back: search, transcripts that read like the LINE chat screen, exports for sharing,
and text from the data made safe to print on a terminal. Imports `warehouse/`, `settings/` and `line_export/`."""
