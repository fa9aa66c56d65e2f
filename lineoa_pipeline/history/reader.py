"""What `search`, `show` and `export` share: the published warehouse opened read-only, and their filters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from lineoa_pipeline.line_export.names import name_key
from lineoa_pipeline.warehouse.connection import connect
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, statements


@dataclass(frozen=True)
class Filters:
    """Which messages a reader wants: `chat` is matched by its name key, dates are inclusive local dates."""

    account: str | None = None
    chat: str | None = None
    sender: str | None = None
    since: date | None = None
    until: date | None = None

    def params(self) -> dict[str, Any]:
        """The `$names` the history SQL files take (dates as ISO text: the SQL casts them)."""
        return {
            "account": self.account,
            "chat_key": None if self.chat is None else name_key(self.chat),
            "sender": self.sender,
            "from_date": None if self.since is None else self.since.isoformat(),
            "to_date": None if self.until is None else self.until.isoformat(),
        }


@contextmanager
def open_history(data_dir: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """The latest published warehouse (never waits for a run), with the local-time macros in place."""
    conn = connect(data_dir)
    try:
        for statement in statements("history_macros"):
            conn.execute(statement)
        yield conn
    finally:
        conn.close()


def query(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Run `sql/<name>.sql` with its `$names` as literals: binding values would make DuckDB's client import
    pandas first, a second of its own on every `lineoa search`."""
    (statement,) = statements(name)
    return execute_with_literals(conn, statement, params)
