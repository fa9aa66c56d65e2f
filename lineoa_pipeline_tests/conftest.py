"""Shared fixtures: a real warehouse built from export files, as `lineoa run` builds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, settings

from lineoa_pipeline.archive import archive_inbox
from lineoa_pipeline.batches import StageReport
from lineoa_pipeline.classify import sync_settings, write_months
from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.ingest import stage_pending
from lineoa_pipeline.instance import INSTANCE_SETTINGS
from lineoa_pipeline.settings import parse_settings
from lineoa_pipeline.warehouse import write_connection

BuildWarehouse = Callable[..., DataDir]


@pytest.fixture
def build_warehouse(tmp_path: Path) -> BuildWarehouse:
    """`build(inbox, settings)`: write `inbox` (relative path -> bytes) into a fresh data directory, ingest
    it and write every month of `messages` with `settings` (a parsed lineoa.toml table); returns the DataDir.
    """

    def build(inbox: Mapping[str, bytes], settings: Mapping[str, Any] | None = None) -> DataDir:
        data_dir = DataDir(tmp_path / "data")
        data_dir.create()
        for relative, data in inbox.items():
            path = data_dir.inbox / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        with write_connection(data_dir) as conn:
            archive_inbox(conn, data_dir, log=lambda _: None)
            stage_pending(conn, data_dir, log=lambda _: None)
            sync_settings(conn, parse_settings(dict(settings or {})))
            write_months(conn, date(2019, 1, 1), date(2030, 1, 1))
        return data_dir

    return build


# --- ingest, pipeline and table helpers (ingest/, test_hostile_inputs, test_rebuild, ...) ---------------

# Hypothesis: a fixed number of examples per property (CI runs exactly these), each a real ingest (~0.1 s);
# HYPOTHESIS_PROFILE=thorough for 20 times as many. No example database is written into the repository.
settings.register_profile(
    "ci", max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2_000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ALL_MONTHS = (date(2000, 1, 1), date(2099, 12, 1))
# Every public table, ordered, without the columns that record when a run happened.
TABLE_QUERIES = {
    "messages": "SELECT * FROM messages ORDER BY ALL",
    "source_files": "SELECT * EXCLUDE (ingested_at) FROM source_files ORDER BY ALL",
    "quarantined_files": "SELECT * EXCLUDE (quarantined_at) FROM quarantined_files ORDER BY ALL",
    "rejected_rows": "SELECT * FROM rejected_rows ORDER BY ALL",
}


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class IngestDir:
    """A data directory that a test drops exports into and ingests with the real code `lineoa run` calls
    (archive, staging, settings, month partitions), without the Dagster run around it."""

    data_dir: DataDir

    def drop(self, relative: str, data: bytes) -> Path:
        path = self.data_dir.inbox / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def ingest(self, settings: Mapping[str, Any] | None = None, together: bool = True) -> StageReport:
        """Take in whatever is new in the inbox and rewrite every month of `messages` with `settings`;
        `together=False` has DuckDB read each file on its own (the reference for reading files together)."""
        with write_connection(self.data_dir) as conn:
            archive_inbox(conn, self.data_dir, log=_quiet)
            report = stage_pending(conn, self.data_dir, log=_quiet, together=together)
            sync_settings(conn, parse_settings(dict(settings or {})))
            write_months(conn, *ALL_MONTHS)
        return report

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of `sql` over the warehouse file, opened read-only (`ingest` leaves it checkpointed)."""
        conn = duckdb.connect(str(self.data_dir.warehouse), read_only=True)
        try:
            conn.execute("SET TimeZone = 'UTC'")
            return conn.execute(sql, list(params)).fetchall()
        finally:
            conn.close()


@pytest.fixture
def ingest_dir(tmp_path: Path) -> IngestDir:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    return IngestDir(data_dir)


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Dagster instance with the project's settings for the session's in-process runs: a new instance
    takes seconds to create (its storage migrations), one per test would add minutes to the suite."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(INSTANCE_SETTINGS, home / "dagster.yaml")
    return home


@pytest.fixture
def pipeline_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dagster_home: Path) -> DataDir:
    """An empty data directory that `run_pipeline` and `lineoa` (in this process) use, as `LINEOA_DATA_DIR`,
    recording their runs in the session's instance (`DAGSTER_HOME`)."""
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    monkeypatch.setenv("LINEOA_DATA_DIR", str(data_dir.root))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return data_dir


def read_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """The public tables' rows (see TABLE_QUERIES), for comparing two warehouses."""
    return {table: conn.execute(query).fetchall() for table, query in TABLE_QUERIES.items()}


def snapshot_tables(data_dir: DataDir) -> dict[str, list[tuple[Any, ...]]]:
    """The public tables as a reader sees them: the published snapshot, opened read-only."""
    conn = duckdb.connect(str(data_dir.snapshot), read_only=True)
    try:
        return read_tables(conn)
    finally:
        conn.close()


def lineoa_command(*args: str) -> list[str]:
    """The argv of the installed `lineoa` console script (the venv's), for real subprocesses."""
    script = Path(sys.executable).with_name("lineoa")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "lineoa_pipeline.cli", *args]


def lineoa_env() -> dict[str, str]:
    """The environment for a `lineoa` subprocess: no data directory or Dagster instance leaks in from ours."""
    return {k: v for k, v in os.environ.items() if k not in ("LINEOA_DATA_DIR", "DAGSTER_HOME")}


def run_lineoa(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`lineoa ARGS` in a fresh process; its output is returned, never printed."""
    return subprocess.run(
        lineoa_command(*args), capture_output=True, text=True, timeout=timeout, env=lineoa_env(), check=False
    )
