"""SQL lives in `sql/*.sql`, loaded by name; a file may hold several statements."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).parent / "sql"


@cache
def load_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of `sql/<name>.sql`, split at each `;` that ends a line."""
    return tuple(s.strip() for s in re.split(r";\s*\n", load_sql(name) + "\n") if _has_code(s))


def run_script(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    for statement in statements(name):
        conn.execute(statement)


def _has_code(chunk: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in chunk.splitlines())


def insert_rows(conn: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert many rows in one statement: one list parameter per column, unnested together."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    conn.execute(f"INSERT INTO {table} SELECT {', '.join('unnest(?)' for _ in columns)}", [list(c) for c in columns])
