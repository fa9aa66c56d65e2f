"""SQL lives in `sql/*.sql`, loaded by name; a file may hold several statements, and a table's or a view's
file opens with a YAML front matter that describes it (`front_matter`)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import yaml

T = TypeVar("T")
CONFLICT_ATTEMPTS = 12

SQL_DIR = Path(__file__).parent / "sql"
_FRONT_MATTER = re.compile(r"\A/\* ---\n(.*?)\n--- \*/\n", re.S)


def front_matter(path: Path, keys: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A described `.sql` file's leading `/* --- <YAML> --- */` block, which must hold exactly `keys` (its
    `description` folded to one line, its `columns` as name -> meaning), and the statements after it."""
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ValueError(f"{path.name}: no front matter (a leading `/* --- ... --- */` block)")
    meta = yaml.safe_load(match.group(1))
    if not isinstance(meta, dict) or set(meta) != set(keys):
        raise ValueError(f"{path.name}: the front matter must hold {', '.join(keys[:-1])} and {keys[-1]}")
    meta["description"] = " ".join(str(meta["description"]).split())
    meta["columns"] = {str(c): str(d) for c, d in meta["columns"].items()}
    return meta, split_statements(text[match.end() :])


@cache
def load_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of `sql/<name>.sql`."""
    return split_statements(load_sql(name))


def split_statements(sql: str) -> tuple[str, ...]:
    """The statements of a SQL text as DuckDB's parser splits them, each without its closing `;`."""
    return tuple(s.query.strip().removesuffix(";").rstrip() for s in duckdb.extract_statements(sql))


def run_script(conn: duckdb.DuckDBPyConnection, name: str, *params: list[Any]) -> None:
    """Run the statements of `sql/<name>.sql` in order; `params[i]`, if given, are the i-th statement's."""
    for index, statement in enumerate(statements(name)):
        conn.execute(statement, params[index] if index < len(params) else None)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Everything written inside the block, committed together or (on any exception) not at all."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")  # a commit that fails (a lake's conflict) leaves no transaction to roll back


def retry_conflicts(work: Callable[[], T]) -> T:
    """`work()`, run again (after a short random pause) while its commit conflicts with another writer's.

    Only a lake raises these across processes (the embedded file has one writer): DuckLake fails the later
    of two commits that touch the same data, and rolls it back whole, so running it again is safe.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return work()
        except duckdb.TransactionException as exc:
            if "conflict" not in str(exc).lower() or attempt == CONFLICT_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.05, 0.25) * attempt)
    raise AssertionError("unreachable")


def insert_rows(conn: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert many rows in one statement, from a frame of their Python values (columns in the table's order):
    DuckDB converts a column at a time, where a list parameter per column costs ~1 µs a value (the 55,000
    files of a 5M backup in `batch_files`: 0.17 s against 0.9-1.2 s)."""
    if not rows:
        return
    import pandas as pd  # here: importing it takes 0.3 s, which a reader that inserts nothing never pays

    columns = list(zip(*rows, strict=True))
    frame = pd.DataFrame({f"c{i}": pd.Series(c, dtype=object) for i, c in enumerate(columns)})
    conn.register("_insert_rows", frame)
    try:
        conn.execute(f"INSERT INTO {table} SELECT * FROM _insert_rows")
    finally:
        conn.unregister("_insert_rows")


_PARAMETER = re.compile(r"\$([a-z_]+)")


def execute_with_literals(
    conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> duckdb.DuckDBPyConnection:
    """Run `sql` with each `$name` replaced by the SQL literal of `params[name]`.

    For the readers' fast paths only: binding any Python value makes DuckDB 1.5's client import pandas
    first, a second of its own, more than `lineoa status` may take. `sql_literal` quotes a string the one
    way DuckDB reads it back verbatim (tested with quotes, backslashes, newlines and `$` names).
    """
    literals = {name: sql_literal(value) for name, value in params.items()}
    return conn.execute(_PARAMETER.sub(lambda m: literals[m.group(1)], sql))


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # a NUL (kept in names as the export wrote it) ends a string literal: it joins the pieces as chr(0)
        quoted = "'" + value.replace("'", "''").replace("\x00", "' || chr(0) || '") + "'"
        return f"({quoted})" if "\x00" in value else quoted
    if isinstance(value, datetime) and value.tzinfo is not None:
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    if isinstance(value, list):
        return "[" + ", ".join(map(sql_literal, value)) + "]"
    raise TypeError(f"no SQL literal for {value!r}")
