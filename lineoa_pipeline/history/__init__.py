"""Reading the history back: search, transcripts that read like the LINE chat screen, exports for sharing.
Imports `warehouse/`, `settings/` and `line_export/`."""
