"""Dagster only: the assets, checks, jobs, sensors and schedules, a folder per area, each calling the domain
packages (`ingest/`, `retention/`, `history/`, `warehouse/`). Nothing below imports it."""
