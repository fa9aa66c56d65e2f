"""The warehouse: one writer at a time (a lock file), and readers on a snapshot they can never block.

DuckDB lets one process write a file, and a reader in another process holds a lock that stops the writer.
So writers take `.lineoa.lock` in the data directory (waiting their turn), and at the end of each
successful run the warehouse is copied whole to `warehouse.snapshot.duckdb` and renamed into place.
`connect()` opens that snapshot read-only: a notebook never touches the writer's file, a run never breaks
an open reader (the rename leaves the reader on the copy it opened), and a reader always sees a whole run.

With `[warehouse]` in lineoa.toml the same tables live in a DuckLake instead (`lake.py`): no snapshot copy,
readers attach the lake read-only, and writers need the lock only to take the inbox in (`exclusive`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

import duckdb

from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.files import fsync_dir
from lineoa_pipeline.settings.language import N_, Told
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.sqlfiles import sql_literal
from lineoa_pipeline.warehouse.tables import create_schema
from lineoa_pipeline.warehouse.views import create_views

OpenWriter = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]  # a new writer connection
# DuckDB spills past this; with Python and Dagster beside it a cold 1M run peaks at ~1.2 GB (1 GB: ~1.4-1.6 GB)
WRITER_MEMORY = "800MB"
LOCK_POLL_SECONDS = 0.2  # a waiting writer sleeps this long between tries: no measurable CPU
LOCK_REPORT_SECONDS = 60.0
LOCK_TIMEOUT_SECONDS = 3 * 3600.0  # a writer holds it minutes at most (a 5M-message cold run: about one)
_held = threading.local()
_process_lock = threading.RLock()


class NoWarehouseYet(Told, FileNotFoundError):
    """No run has published a warehouse in this data directory yet."""


class WarehouseBusy(Told, TimeoutError):
    """Another writer held the warehouse longer than a writer waits for it."""


@contextmanager
def writer_lock(
    data_dir: DataDir, on_wait: Callable[[str], None] | None = None, timeout: float = LOCK_TIMEOUT_SECONDS
) -> Iterator[None]:
    """Hold the data directory's writer lock (re-entrant within a process).

    The one mechanism every writer (a `lineoa` command, a sensor's or a schedule's run, a backfill) takes
    turns through. A writer that must wait says who holds the lock, then every minute that it still waits;
    it sleeps between tries (no CPU), so SIGINT and SIGTERM end it at once, and it gives up with
    `WarehouseBusy` after `timeout` seconds.
    """
    with _process_lock:
        depth = getattr(_held, "depth", {})
        _held.depth = depth
        key = str(data_dir.root)
        if depth.get(key):
            depth[key] += 1
            try:
                yield
            finally:
                depth[key] -= 1
            return
        data_dir.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _take(fd, data_dir.lock_file, on_wait, timeout)
            # who holds it, for the writers that wait (the lock is the flock, not this text)
            os.ftruncate(fd, 0)
            holder = f"process {os.getpid()} ({_command()}) since {datetime.now().astimezone():%H:%M:%S}"
            os.pwrite(fd, holder.encode(), 0)
            depth[key] = 1
            try:
                yield
            finally:
                depth[key] = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _take(fd: int, lock_file: Path, on_wait: Callable[[str], None] | None, timeout: float) -> None:
    started = time.monotonic()
    said = -LOCK_REPORT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - started
        holder = lock_file.read_text(encoding="utf-8", errors="replace").strip() or "another process"
        if waited >= timeout:
            raise WarehouseBusy(
                N_("gave up after {minutes} min waiting for {holder} to release {lock}"),
                minutes=round(waited / 60),
                holder=holder,
                lock=str(lock_file),
            )
        if on_wait and waited - said >= LOCK_REPORT_SECONDS:
            said = waited
            after = f" (still, after {waited / 60:.0f} min)" if waited else ""
            on_wait(f"waiting for another run that holds the warehouse{after}: {holder}, lock {lock_file}")
        time.sleep(LOCK_POLL_SECONDS)


def _command() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:2]]) if sys.argv and sys.argv[0] else "python"


@contextmanager
def write_connection(
    data_dir: DataDir, on_wait: Callable[[str], None] | None = None, exclusive: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the writer's file, under the writer lock, with the schema in place; closed after.

    With a lake, the lock is taken only when `exclusive` (taking the inbox in: two runs must not stage the
    same files); other writes run at once, and DuckLake's conflict detection orders them.
    """
    if (settings := lake.configured(data_dir)) is not None:
        with (
            writer_lock(data_dir, on_wait) if exclusive else nullcontext(),
            lake.write_connection(data_dir, settings, WRITER_MEMORY) as conn,
        ):
            yield conn
        return
    with writer_lock(data_dir, on_wait):
        conn = duckdb.connect(data_dir.warehouse)
        try:
            conn.execute("SET TimeZone = 'UTC'")
            # under a Thai locale ICU's calendar is Buddhist (the year 2569): dates here are Gregorian
            conn.execute("SET Calendar = 'gregorian'")
            # Bounded, so a 5M-message ingest stays well under the machine's memory (DuckDB spills past it).
            conn.execute(f"SET memory_limit = '{WRITER_MEMORY}'")
            create_schema(conn)
            yield conn
            conn.execute("CHECKPOINT")
        finally:
            conn.close()


def writer_lanes(data_dir: DataDir) -> tuple[int, OpenWriter | None]:
    """How many connections may stage at once, and how to open one more: a lake's `writers` (its commits need
    no file lock); the embedded file has one writer."""
    if (settings := lake.configured(data_dir)) is None:
        return 1, None
    return settings.writers, lambda: lake.write_connection(data_dir, settings, WRITER_MEMORY)


def publish_snapshot(data_dir: DataDir, on_wait: Callable[[str], None] | None = None) -> Path | None:
    """Copy the warehouse whole beside it and rename the copy into place for readers (None with a lake:
    its readers see every committed snapshot already)."""
    if lake.configured(data_dir) is not None:
        published_marker(data_dir).touch()
        return None
    with writer_lock(data_dir, on_wait):
        if not data_dir.warehouse.exists():
            with write_connection(data_dir):
                pass
        for leftover in data_dir.root.glob(".snapshot.*.tmp"):  # a copy a killed run never renamed into place
            leftover.unlink(missing_ok=True)
        tmp = data_dir.root / f".snapshot.{uuid.uuid4().hex}.tmp"
        try:
            shutil.copyfile(data_dir.warehouse, tmp)
            with open(tmp, "rb+") as copy:
                os.fsync(copy.fileno())
            os.replace(tmp, data_dir.snapshot)
            fsync_dir(data_dir.root)
        finally:
            tmp.unlink(missing_ok=True)
    return data_dir.snapshot


def published_marker(data_dir: DataDir) -> Path:
    """The file whose time says when readers last got a whole run: the snapshot, or with a lake (which
    readers see as it commits) a marker touched where the snapshot would have been published."""
    return data_dir.root / ".lake-published" if lake.configured(data_dir) is not None else data_dir.snapshot


def connect(
    data_dir: str | os.PathLike[str] | None = None, at: datetime | int | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the latest published warehouse, for notebooks and `lineoa status`.

    It never blocks a run and a run never breaks it; open a new one to see newer runs. With a lake, `at`
    (a time, or a snapshot id) reads the warehouse as it was then (time travel).
    """
    resolved = DataDir.resolve(data_dir)
    if (settings := lake.configured(resolved)) is not None:
        missing = NoWarehouseYet(
            N_("no warehouse in the lake of {folder} yet: run `lineoa run` first"), folder=str(resolved.root)
        )
        try:
            conn = lake.open_lake(resolved, settings, read_only=True, at=at)
        except lake.LakeNotCreated:
            raise missing from None
        if not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'messages'").fetchone()[0]:
            conn.close()
            raise missing
        return conn
    if at is not None:
        raise ValueError("reading an earlier state (at=) needs the lake warehouse ([warehouse] in lineoa.toml)")
    if not resolved.snapshot.exists():
        raise NoWarehouseYet(N_("no warehouse in {folder} yet: run `lineoa run` first"), folder=str(resolved.root))
    # ATTACH rather than connect(path): DuckDB shares one database per path within a process, so a second
    # connect(path) would see the snapshot an older, still open connection holds, not the latest run's.
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    # under a Thai locale ICU's calendar is Buddhist (the year 2569): dates here are Gregorian
    conn.execute("SET Calendar = 'gregorian'")
    conn.execute(f"ATTACH {sql_literal(str(resolved.snapshot))} AS warehouse (READ_ONLY)")
    conn.execute("USE warehouse")
    return conn


def migrate_to_lake(data_dir: DataDir, on_wait: Callable[[str], None] | None = None) -> dict[str, int]:
    """Copy the embedded `warehouse.duckdb` into the (empty) lake that `[warehouse]` names, every table in one
    transaction, then create the views there; returns the rows copied per table. The file stays as it was."""
    if lake.configured(data_dir) is None:
        raise ValueError(f"no [warehouse] in {data_dir.settings_file}: set the lake to migrate to first")
    if not data_dir.warehouse.exists():
        raise NoWarehouseYet(N_("no embedded warehouse in {folder} to migrate"), folder=str(data_dir.root))
    with write_connection(data_dir, on_wait, exclusive=True) as conn:
        copied = lake.migrate(data_dir, conn)
        create_views(conn)
    return copied
