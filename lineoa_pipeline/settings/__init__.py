"""The data directory, `lineoa.toml` (schema, defaults, validation), safe and durable file writes, and the
small rules about secrets and hosts every layer shares. Imports only `line_export/`."""
