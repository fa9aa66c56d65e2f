"""The data directory, `lineoa.toml` (schema, defaults, validation), safe and durable file writes, the small
rules about secrets and hosts every layer shares, and the language a person reads (with its gettext catalogs
in `locale/`). Imports only `line_export/`."""
