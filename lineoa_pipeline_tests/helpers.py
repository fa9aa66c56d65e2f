"""What the tests share besides fixtures: the project's root and the shared samples beside a checkout, the
message a test writes in an export, the `lineoa` command in a real process, data directories on either
warehouse and their tables, readers and writers in real processes, and a tick of the retention sensor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.retention.sensors import retention_sensor
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.counts import StageReport
from lineoa_pipeline.ingest.staging import stage_pending
from lineoa_pipeline.line_export.render import ChatMessage
from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.synthetic.scale import write_scale_inbox
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.connection import connect, write_connection, writer_lanes
from lineoa_pipeline_tests.postgres import Postgres
from lineoa_pipeline_tests.processes import stop_group
from lineoa_pipeline_tests.reader_process import STATE

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"  # absent in a user's clone: the tests that read it skip


def msg(sender_type: str, name: str, when: str, content: str) -> ChatMessage:
    """A message as an export lists it: `User` or `Account`, the sender's name, local time, content."""
    return ChatMessage(sender_type, name, datetime.fromisoformat(when), content)


def jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    """`records` written to `path` as `alerts.jsonl` holds them, a line each (what `deliver` and `compose`
    read); returns `path`."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# --- the `lineoa` command in a real process ----------------------------------------------------------


def lineoa_command(*args: str) -> list[str]:
    """The argv of the installed `lineoa` console script (the venv's), for real subprocesses."""
    script = Path(sys.executable).with_name("lineoa")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "lineoa_pipeline.commands.cli", *args]


def lineoa_env() -> dict[str, str]:
    """The environment for a `lineoa` subprocess: no data directory or Dagster instance leaks in from ours."""
    return {k: v for k, v in os.environ.items() if k not in ("LINEOA_DATA_DIR", "DAGSTER_HOME")}


RUN_TIMEOUT = 600.0  # seconds: a `lineoa run`, a Dagster run or a UI backfill of a test's data


def run_lineoa(
    *args: str, data_dir: Path | None = None, timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """`lineoa ARGS` as a user or cron starts it: a fresh process in a group of its own (on `data_dir` as
    LINEOA_DATA_DIR, when given), ended with its group however the call ends; its output is returned, never
    printed."""
    env = lineoa_env() | ({"LINEOA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"} if data_dir else {})
    return run_in_group(lineoa_command(*args), cwd=ROOT, env=env, timeout=timeout)


def run_in_group(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, stderr: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """`argv` in a process group of its own, its output collected (`stderr=subprocess.STDOUT` merges the two);
    the whole group is ended however the call ends (a timeout, a failed assertion, Ctrl-C)."""
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        stop_group(proc, grace=5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# --- readers and writers in real processes (warehouse/test_readers, test_lake) -------------------------

# Two weekly bulk backups of one more account: the second repeats most of the first, plus a week of news.
CHATS, MESSAGES_PER_CHAT, SPAN_DAYS = 400, 150, 365


def reader_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}  # an ephemeral instance
    return env | {"LINEOA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def started(argv: list[str], data_dir: Path, stderr: int) -> subprocess.Popen[str]:
    """`argv` in a process group of its own on `data_dir`, its output piped (stderr: PIPE or STDOUT)."""
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=reader_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def published_state(data_dir: Path) -> list[int]:
    """The published state, read by a connection of this process (opened and closed here)."""
    conn = connect(data_dir)
    try:
        row = conn.execute(STATE).fetchone()
    finally:
        conn.close()
    return [int(v) for v in row or ()]


class Reader:
    """`reader_process` in a real process of its own; `finish()` stops it and returns what it saw."""

    def __init__(self, data_dir: Path, mode: str, stop_file: Path) -> None:
        self.proc = started(
            [sys.executable, "-m", "lineoa_pipeline_tests.reader_process", str(data_dir), str(stop_file), mode],
            data_dir,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()  # the connection is open once this line arrives
        assert json.loads(ready or "{}").get("ready"), f"reader did not start: {ready}{self.proc.stderr.read()}"

    def finish(self) -> dict:
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, f"reader exited {self.proc.returncode}: {err}"
        return json.loads(out.strip().splitlines()[-1])


def weekly_backup(data_dir: Path, history_from: datetime, downloaded_at: datetime) -> dict[str, int]:
    """The bulk backup of one more account downloaded at `downloaded_at`: the year before it of a history that
    starts at `history_from` (the same history each week, so next week's backup overlaps this one)."""
    return write_scale_inbox(
        data_dir / "inbox" / "weekly",
        chats=CHATS,
        messages_per_chat=MESSAGES_PER_CHAT,
        as_zip=True,
        start=history_from,
        downloaded_at=downloaded_at,
        span_days=SPAN_DAYS,
    )


BuildWarehouse = Callable[..., DataDir]


def demo_data_dir(root: Path, now: datetime | None = None, first: str = "", then: str = "") -> DataDir:
    """The demo's data directory at `root` before any run (`lineoa demo` as of `now`), with the settings text
    `first` put before its lineoa.toml and `then` after it (what a test adds)."""
    write_demo_data(root, now)
    data_dir = DataDir(root)
    text = data_dir.settings_file.read_text(encoding="utf-8")
    data_dir.settings_file.write_text(first + text + then, encoding="utf-8")
    return data_dir


# --- data directories on either warehouse, and their tables ------------------------------------------


def use_lake(data_dir: DataDir, postgres: Postgres, writers: int = 2) -> str:
    """Point `data_dir` at a new, empty lake (its own database): `[warehouse]` added to its lineoa.toml."""
    table = (
        f'\n[warehouse]\ncatalog = "{postgres.catalog(postgres.new_database())}"\ndata_path = "lake"\n'
        f"writers = {writers}\n"
    )
    data_dir.root.mkdir(parents=True, exist_ok=True)
    with open(data_dir.settings_file, "a", encoding="utf-8") as settings:
        settings.write(table)
    return table


def write_settings(data_dir: DataDir, text: str) -> None:
    """Write `text` as the data directory's lineoa.toml, keeping the `[warehouse]` table `use_lake` added."""
    kept = ""
    if data_dir.settings_file.exists():
        table = tomllib.loads(data_dir.settings_file.read_text(encoding="utf-8")).get("warehouse")
        if table:
            kept = "\n[warehouse]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())
    data_dir.settings_file.write_text(text + kept, encoding="utf-8")


def open_warehouse(data_dir: DataDir) -> duckdb.DuckDBPyConnection:
    """A read-only connection to what the writers left: the warehouse file, or the lake's latest snapshot."""
    if lake.configured(data_dir) is not None:
        return connect(data_dir.root)
    conn = duckdb.connect(str(data_dir.warehouse), read_only=True)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


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

    def ingest(
        self, settings: Mapping[str, Any] | None = None, together: bool = True, log: Callable[[str], None] = _quiet
    ) -> StageReport:
        """Take in whatever is new in the inbox and rewrite every month of `messages` with `settings`;
        `together=False` has DuckDB read each file on its own (the reference for reading files together);
        `log` gets what a run would log."""
        with write_connection(self.data_dir) as conn:
            archive_inbox(conn, self.data_dir, log=log)
            writers, open_writer = writer_lanes(self.data_dir)  # a lake's accounts stage in lanes, as in a run
            report = stage_pending(
                conn, self.data_dir, log=log, together=together, writers=writers, open_writer=open_writer
            )
            sync_settings(conn, parse_settings(dict(settings or {})))
            write_months(conn, *ALL_MONTHS)
        return report

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of `sql` over the warehouse, opened read-only (`ingest` leaves it checkpointed)."""
        conn = open_warehouse(self.data_dir)
        try:
            return conn.execute(sql, list(params)).fetchall()
        finally:
            conn.close()


def read_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """The public tables' rows (see TABLE_QUERIES), for comparing two warehouses."""
    return {table: conn.execute(query).fetchall() for table, query in TABLE_QUERIES.items()}


def snapshot_tables(data_dir: DataDir) -> dict[str, list[tuple[Any, ...]]]:
    """The public tables as a reader sees them: the published snapshot (or the lake), opened read-only."""
    conn = connect(data_dir.root)
    try:
        return read_tables(conn)
    finally:
        conn.close()


# --- the retention sensor -------------------------------------------------------------------------------


def retention_tick(data_dir: DataDir, cursor: str | None = None) -> dg.SensorResult:
    """One evaluation of the retention sensor on `data_dir` (after the tick whose cursor is `cursor`)."""
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))}
        )
        return retention_sensor(context)
