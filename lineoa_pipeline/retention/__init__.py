"""LINE's retention rules: each month's and media file's state and deadline, the alerts they raise and the
channels that carry them. Imports `warehouse/`, `settings/` and `line_export/`."""
