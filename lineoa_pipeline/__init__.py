"""lineoa_pipeline: LINE Official Account chat exports kept safe and useful.

The way one export travels, a package a step (each imports only the packages listed after it):

- `commands/`   the `lineoa` command line and what each command prints; runs the Dagster jobs in-process.
- `defs/`       Dagster only: assets, checks, jobs, sensors and schedules that call the domain packages
                (`definitions.py` loads them).
- `ingest/`     inbox -> `archive/<sha256>` -> staged rows: discovering, decoding, staging, unchanged files,
                tags and media manifests (the side inputs).
- `retention/`  coverage of every month and media file against LINE's deadlines, and the alerts it raises.
- `history/`    reading the history back: search, transcripts, exports.
- `synthetic/`  made-up LINE chats for the demo, the tests and the benchmarks.
- `warehouse/`  the warehouse: the embedded DuckDB file or the lake, the month writes, the views, every
                `.sql` file.
- `settings/`   `lineoa.toml`, the data directory, durable file writes.
- `line_export/` what LINE's chat exports look like: their formats, names, and writing them.
"""
