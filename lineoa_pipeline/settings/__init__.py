"""The data directory, `lineoa.toml` (schema, defaults, validation) and durable file writes. Imports only
`line_export/`."""
