"""`lineoa status`: the retention report of the published warehouse, as tables or as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.retention import compute_status, render_table, status_json
from lineoa_pipeline.settings import load_settings
from lineoa_pipeline.warehouse import connect


def run_status(data_dir: DataDir, as_of: datetime | None, as_json: bool, out: BinaryIO) -> None:
    """Write the report (UTF-8) as of `as_of` (default now; a naive time is in the settings' time zone), read
    through `connect()` so that it never waits for a run nor disturbs one. Raises NoWarehouseYet before any run."""
    settings = load_settings(data_dir.settings_file)
    zone = ZoneInfo(settings.timezone)
    at = datetime.now(zone) if as_of is None else as_of if as_of.tzinfo else as_of.replace(tzinfo=zone)
    conn = connect(data_dir.root)
    try:
        if as_json:
            status_json(conn, settings, at, out)
        else:
            out.write((render_table(compute_status(conn, settings, at)) + "\n").encode())
    finally:
        conn.close()
