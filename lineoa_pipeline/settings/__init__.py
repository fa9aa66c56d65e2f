"""The data directory, `lineoa.toml` (schema, defaults, validation), durable file writes, and the language a
person reads (with its gettext catalogs in `locale/`). Imports only `line_export/`."""
