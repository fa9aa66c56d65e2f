"""The warehouse's public tables: one file each in `sql/tables/`, its description and columns in front matter.

Each `sql/tables/<name>.sql` opens as a view's file does (see `views.py`), with the statements that make
the table after it; the UI's column schemas and `docs/reference.md` are read from it. The internal tables
(their names start with an underscore) are in `sql/schema.sql`, made after these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lineoa_pipeline.warehouse.sqlfiles import SQL_DIR, front_matter, statements

TABLES_DIR = SQL_DIR / "tables"


@dataclass(frozen=True)
class Table:
    """One `sql/tables/<name>.sql`: what a row is, each column's meaning in order, the statements that make it."""

    name: str
    path: Path
    description: str
    columns: Mapping[str, str]
    statements: tuple[str, ...]


def _read_table(path: Path) -> Table:
    meta, made_by = front_matter(path, ("description", "columns"))
    return Table(path.stem, path, meta["description"], meta["columns"], made_by)


TABLE_SPECS = tuple(map(_read_table, sorted(TABLES_DIR.glob("*.sql"))))


def schema_statements() -> tuple[str, ...]:
    """Every statement that makes the warehouse's tables, in order: the public ones, then `schema.sql`."""
    return (*(s for table in TABLE_SPECS for s in table.statements), *statements("schema"))


def create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Make every table the warehouse lacks (and bring an older warehouse's up to date)."""
    for statement in schema_statements():
        conn.execute(statement)
