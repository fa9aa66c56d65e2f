"""Taking exports in: walking the inbox, archiving every byte, recognising and decoding exports, staging
their rows once (unchanged files counted without parsing), and the side inputs (tags, media manifests).
Imports `warehouse/`, `settings/` and `line_export/`."""
