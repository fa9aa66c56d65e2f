"""The warehouse as a DuckLake (`[warehouse]` in lineoa.toml): the catalog in PostgreSQL, the data as Parquet.

The same tables and views as the embedded `warehouse.duckdb`, written by the same SQL: only the ATTACH
differs. Readers attach the lake read-only and see the latest committed snapshot (no copy is made), or an
earlier one (time travel). Writers need no file lock: DuckLake detects two transactions that touch the same
data and fails the later commit, which `sqlfiles.retry_conflicts` then runs again on the newer snapshot.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from lineoa_pipeline.settings.config import LakeSettings, load_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.secrets import redact
from lineoa_pipeline.warehouse.sqlfiles import retry_conflicts, sql_literal, transaction
from lineoa_pipeline.warehouse.tables import schema_statements

LAKE = "lake"
_METADATA = f"__ducklake_metadata_{LAKE}"
# DuckLake tables have no keys: the writers keep `_inputs` and `_inbox_files` unique by anti-joins instead.
_KEY = re.compile(r"\s+PRIMARY KEY\b", re.IGNORECASE)
# The first writers of a new lake each create its catalog tables; all but one fail on PostgreSQL's unique
# names, and then attach what the winner created.
_RACED = re.compile(r"Failed to initialize DuckLake.*(already exists|duplicate key)")
CREATE_ATTEMPTS = 5
_EXTENSIONS = (("duckdb_extension_ducklake", "ducklake"), ("duckdb_extension_postgres_scanner", "postgres_scanner"))


class LakeUnreachable(RuntimeError):
    """The lake's catalog cannot be attached (PostgreSQL down, refused, bad credentials)."""


class LakeNotCreated(LakeUnreachable):
    """The catalog answers but holds no lake yet (a reader came before the first writer)."""


class LakeNotEmpty(RuntimeError):
    """The lake already holds a warehouse: a migration would mix two histories."""


def configured(data_dir: DataDir) -> LakeSettings | None:
    """The data directory's `[warehouse]`, or None for the embedded warehouse file."""
    return load_settings(data_dir.settings_file).warehouse


def data_path(data_dir: DataDir, lake: LakeSettings) -> str:
    """Where DuckLake writes Parquet: `data_path`, relative to the data directory unless absolute or a URL."""
    if "://" in lake.data_path:
        return lake.data_path.rstrip("/") + "/"
    return str(data_dir.root / Path(lake.data_path).expanduser()) + os.sep


def open_lake(
    data_dir: DataDir, lake: LakeSettings, read_only: bool = False, at: datetime | int | None = None
) -> duckdb.DuckDBPyConnection:
    """A new connection with the lake attached as `lake` and in use; `at`: the snapshot (a time or a
    snapshot id) to read instead of the latest. Raises LakeUnreachable naming the cause, never the password."""
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        # under a Thai locale ICU's calendar is Buddhist (the year 2569): dates here are Gregorian
        conn.execute("SET Calendar = 'gregorian'")
        # DuckLake 1.5 writes a join's min and max values into its catalog query as SQL text, and a value
        # with a NUL character cuts that text short (a syntax error in PostgreSQL): chat text may hold one.
        conn.execute("SET disabled_optimizers = 'join_filter_pushdown'")
        for package, name in _EXTENSIONS:
            conn.execute(f"LOAD {sql_literal(extension_file(package, name))}")
        options = [f"DATA_PATH {sql_literal(data_path(data_dir, lake))}"]
        if read_only:
            options.append("READ_ONLY")
        if isinstance(at, datetime):
            options.append(f"SNAPSHOT_TIME {sql_literal(at.isoformat())}")
        elif at is not None:
            options.append(f"SNAPSHOT_VERSION {int(at)}")
        # a host that never answers would otherwise hold the run for libpq's default of minutes
        os.environ.setdefault("PGCONNECT_TIMEOUT", "10")
        attach = f"ATTACH {sql_literal('ducklake:' + lake.catalog)} AS {LAKE} ({', '.join(options)})"
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                conn.execute(attach)
                break
            except duckdb.Error as exc:
                cause = " ".join(redact(str(exc)).split())  # libpq's reason spans lines: one line, for logs
                if _RACED.search(cause) and attempt < CREATE_ATTEMPTS:
                    time.sleep(random.uniform(0.2, 0.5) * attempt)  # another writer created it: attach that
                    continue
                unreachable = LakeNotCreated if read_only and "does not exist" in cause else LakeUnreachable
                catalog = redact(lake.catalog)
                raise unreachable(f"the lake warehouse (catalog {catalog}) cannot be attached: {cause}") from None
        conn.execute(f"USE {LAKE}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def write_connection(data_dir: DataDir, lake: LakeSettings, memory: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writer's connection to the lake with the schema in place; statements outside a transaction are
    retried when a concurrent writer's commit conflicts with them."""
    conn = open_lake(data_dir, lake)
    # The temp tables of staging spill beside the data directory's other scratch, in a folder of this
    # connection's own: DuckDB names its spill files alike in every database, so two writers (two processes,
    # or a run's staging lanes) spilling into one folder would overwrite each other's.
    spill = data_dir.root / ".lake-spill" / uuid.uuid4().hex
    spill.parent.mkdir(mode=0o700, exist_ok=True)  # DuckDB makes the folder itself, not its parent
    try:
        conn.execute(f"SET memory_limit = {sql_literal(memory)}")
        conn.execute(f"SET temp_directory = {sql_literal(str(spill))}")
        retry_conflicts(lambda: _create_schema(conn))
        yield RetryingConnection(conn)  # type: ignore[misc]
    finally:
        conn.close()
        shutil.rmtree(spill, ignore_errors=True)


def _create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """The tables (`tables/*.sql`, `schema.sql`) without keys, `messages` partitioned by month in its files, in
    one transaction."""
    with transaction(conn):
        for statement in schema_statements():
            conn.execute(_KEY.sub("", statement))
        partitioned = conn.execute(
            f"""SELECT count(*) FROM {_METADATA}.ducklake_partition_info p
                JOIN {_METADATA}.ducklake_table t USING (table_id)
                WHERE t.table_name = 'messages' AND t.end_snapshot IS NULL AND p.end_snapshot IS NULL"""
        ).fetchone()
        if not partitioned or not partitioned[0]:
            conn.execute("ALTER TABLE messages SET PARTITIONED BY (year(month), month(month))")


class RetryingConnection:
    """A lake connection whose statements outside an explicit transaction retry on a commit conflict (each
    commits alone, so running it again on the newer snapshot is running it a moment later). A transaction
    block is retried whole by its caller (`retry_conflicts`)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._conn = conn
        self._in_transaction = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, sql: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if verb in ("BEGIN", "COMMIT", "ROLLBACK", "ABORT", "END"):
            self._in_transaction = verb == "BEGIN"
            return self._conn.execute(sql, parameters)
        if self._in_transaction:
            return self._conn.execute(sql, parameters)
        return retry_conflicts(lambda: self._conn.execute(sql, parameters))


def snapshots(conn: duckdb.DuckDBPyConnection) -> list[tuple[int, datetime]]:
    """The lake's snapshots (id, commit time), oldest first: what `connect(at=…)` can read."""
    return conn.execute(f"SELECT snapshot_id, snapshot_time FROM ducklake_snapshots('{LAKE}') ORDER BY 1").fetchall()


def maintain(data_dir: DataDir, lake: LakeSettings) -> dict[str, int]:
    """Write the rows small commits left inlined in the catalog to Parquet, merge the small files many runs
    leave (and rewrite those that month writes mostly deleted), expire snapshots older than
    `keep_snapshots_days`, and delete the files no kept snapshot reads. Returns the counts before and after."""
    conn = open_lake(data_dir, lake)
    try:
        before = _counts(conn)
        for call in ("flush_inlined_data", "rewrite_data_files", "merge_adjacent_files"):
            retry_conflicts(lambda call=call: conn.execute(f"CALL ducklake_{call}('{LAKE}')"))
        retry_conflicts(
            lambda: conn.execute(
                f"CALL ducklake_expire_snapshots('{LAKE}', older_than => now() - to_days(?))",
                [lake.keep_snapshots_days],
            )
        )
        conn.execute(f"CALL ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)")
        after = _counts(conn)
    finally:
        conn.close()
    return {
        "files_before": before[0],
        "files_after": after[0],
        "snapshots_before": before[1],
        "snapshots_after": after[1],
    }


def _counts(conn: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    row = conn.execute(
        f"""SELECT (SELECT count(*) FROM {_METADATA}.ducklake_data_file WHERE end_snapshot IS NULL),
                   (SELECT count(*) FROM {_METADATA}.ducklake_snapshot)"""
    ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def extension_file(package: str, name: str) -> str:
    """The extension shipped inside its PyPI package (DuckDB never downloads one here)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise LakeUnreachable(f"the Python package {package} is missing: it carries DuckDB's {name} extension")
    return str(Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension")


def drop_everything(data_dir: DataDir, lake: LakeSettings) -> None:
    """Drop every table and view of the lake in one transaction (a rebuild starts from nothing)."""
    conn = open_lake(data_dir, lake)
    try:

        def drop() -> None:
            with transaction(conn):
                views = conn.execute(
                    "SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal", [LAKE]
                ).fetchall()
                tables = conn.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [LAKE]
                ).fetchall()
                for (view,) in views:
                    conn.execute(f'DROP VIEW IF EXISTS "{view}"')
                for (table,) in tables:
                    conn.execute(f'DROP TABLE IF EXISTS "{table}"')

        retry_conflicts(drop)
    finally:
        conn.close()


def migrate(data_dir: DataDir, conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Copy every table of the embedded `warehouse.duckdb` into the lake `conn` writes (an empty one), in one
    transaction; returns the rows copied per table. The views are created afterwards by the caller."""
    if (conn.execute("SELECT count(*) FROM source_files").fetchone() or (0,))[0]:
        raise LakeNotEmpty("the lake already holds a warehouse: `lineoa rebuild` recreates it from archive/")
    conn.execute(f"ATTACH {sql_literal(str(data_dir.warehouse))} AS embedded (READ_ONLY)")
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'embedded' ORDER BY 1"
            ).fetchall()
        ]
        existing = {
            r[0]
            for r in conn.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [LAKE]).fetchall()
        }
        copied: dict[str, int] = {}
        with transaction(conn):
            for table in tables:
                source = f'embedded.main."{table}"'
                if table in existing:
                    conn.execute(f'DELETE FROM "{table}"')
                    conn.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM {source}')
                else:
                    conn.execute(f'CREATE TABLE "{table}" AS SELECT * FROM {source}')
                copied[table] = (conn.execute(f'SELECT count(*) FROM "{table}"').fetchone() or (0,))[0]
    finally:
        conn.execute("DETACH embedded")
    return copied
