"""The `lineoa` command line: parsing arguments, running the Dagster jobs in-process, the Dagster instance
and UI, and what each command prints. May import every other package; nothing imports it."""
