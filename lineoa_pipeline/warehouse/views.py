"""The analytics views: one file each in `sql/views/`, its description, inputs and columns in front matter.

Each `sql/views/<name>.sql` starts with a YAML block comment, and everything that describes a view (the
Dagster asset, its dependencies and column schema, the user's reference) is read from it:

    /* ---
    description: >
      One row per inquiry. ...
    reads: [messages]            # the tables and views the SQL reads
    columns:
      account_name: The account, as its exports name it.
    --- */
    CREATE OR REPLACE VIEW <name> AS ...
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.warehouse import cycles
from lineoa_pipeline.warehouse.classify import sync_settings
from lineoa_pipeline.warehouse.sqlfiles import SQL_DIR, front_matter, load_sql, retry_conflicts, run_script, transaction
from lineoa_pipeline.warehouse.tables import Table, create_schema

VIEWS_DIR = SQL_DIR / "views"
_PER_CHAT_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")


@dataclass(frozen=True)
class View(Table):
    """One `sql/views/<name>.sql`: a table's description and columns, and the tables and views it reads."""

    reads: tuple[str, ...] = ()


def load_views(folder: Path = VIEWS_DIR) -> tuple[View, ...]:
    """Every view in `folder`, each after the views it reads."""
    views = {v.name: v for v in map(_read_view, sorted(folder.glob("*.sql")))}
    graph = TopologicalSorter({name: [r for r in v.reads if r in views] for name, v in views.items()})
    return tuple(views[name] for name in graph.static_order())


def _read_view(path: Path) -> View:
    meta, statements = front_matter(path, ("description", "reads", "columns"))
    return View(path.stem, path, meta["description"], meta["columns"], statements, tuple(meta["reads"]))


VIEW_SPECS = load_views()
VIEWS = tuple(v.name for v in VIEW_SPECS)


def create_views(
    conn: duckdb.DuckDBPyConnection, views: tuple[View, ...] = VIEW_SPECS, side_inputs: str | None = None
) -> None:
    """Refresh the views' tables and (re)create the views, in one transaction; with `side_inputs` (the hash of
    the settings, tags and media they are built from), record it beside them.

    Run it after every change to `messages` or the settings (a run: once, before publishing the snapshot).
    A view whose SQL reads `_refresh_chats` keeps rows per chat in the tables it creates `IF NOT EXISTS`,
    rewritten only for the chats whose messages, account settings or view SQL changed since (a weekly backup
    costs what it changed).
    Without settings tables (`sync_settings` has never run) it writes them from the defaults.
    """

    def create() -> None:
        with transaction(conn):
            has_settings = conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = '_cfg_accounts'"
            ).fetchone()
            if not has_settings or not has_settings[0]:
                sync_settings(conn, Settings())
            cycles.register(conn)
            per_chat = [
                table
                for v in views
                if any("_refresh_chats" in s for s in v.statements)
                for s in v.statements
                for table in _PER_CHAT_TABLE.findall(s)
            ]
            if per_chat:
                _changed_chats(conn, views, per_chat)
            for view in views:
                for statement in view.statements:
                    conn.execute(statement)
            if per_chat:
                run_script(conn, "views_record_chats")
            if side_inputs is not None:
                conn.execute(load_sql("record_side_inputs"), [side_inputs])

    retry_conflicts(create)  # a lake's concurrent run rebuilt them first: rebuild on its snapshot


def _changed_chats(conn: duckdb.DuckDBPyConnection, views: tuple[View, ...], tables: list[str]) -> None:
    """Fill `_refresh_chats` with the chats whose rows in the per-chat `tables` are stale (and `_chat_prints`
    with every chat's fingerprint); when that is every chat, or a table is missing, drop them: rebuild all."""
    code = hashlib.sha256("\n".join(s for v in views for s in v.statements).encode()).digest()
    run_script(conn, "views_changed_chats", [], [int.from_bytes(code[:8]) >> 1])
    changed, chats = conn.execute(
        "SELECT (SELECT count(*) FROM _refresh_chats), (SELECT count(*) FROM _chat_prints)"
    ).fetchone() or (0, 0)
    present = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND list_contains(?, table_name)",
        [tables],
    ).fetchone() or (0,)
    if changed == chats or present[0] < len(tables):
        for table in tables:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        run_script(conn, "views_rebuild_all")


def column_types(views: tuple[View, ...] = VIEW_SPECS) -> dict[str, dict[str, str]]:
    """Each table's and view's columns and their DuckDB types, in order, as an empty warehouse gives them."""
    with duckdb.connect() as conn:
        create_schema(conn)
        create_views(conn, views)
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns ORDER BY ordinal_position"
        ).fetchall()
    types: dict[str, dict[str, str]] = {}
    for table, column, dtype in rows:
        types.setdefault(table, {})[column] = dtype
    return types
