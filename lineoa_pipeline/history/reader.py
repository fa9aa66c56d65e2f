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
from lineoa_pipeline.settings.config import CHAT_TYPES, MEDIA_KINDS, Settings, load_settings
from lineoa_pipeline.settings.datadir import DataDir
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
    """The latest published warehouse (never waits for a run), with the local-time macros and the media
    retention of the settings (`history_retention`) in place."""
    conn = connect(data_dir)
    try:
        for statement in statements("history_macros"):
            conn.execute(statement)
        _retention(conn, load_settings(DataDir.resolve(data_dir).settings_file))
        yield conn
    finally:
        conn.close()


def _retention(conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    accounts = [row[0] for row in conn.execute("SELECT DISTINCT account_name FROM source_files").fetchall()]
    cfg = [
        (account, chat_type, kind, settings.for_account(account).retention[chat_type].days(kind)[0])
        for account in accounts
        for chat_type in CHAT_TYPES
        for kind in MEDIA_KINDS
    ]
    (statement,) = statements("history_retention")
    names = ("accounts", "chat_types", "kinds", "days")
    execute_with_literals(conn, statement, {name: [c[i] for c in cfg] for i, name in enumerate(names)})


def query(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Run `sql/<name>.sql` with its `$names` as literals: binding values would make DuckDB's client import
    pandas first, a second of its own on every `lineoa search`."""
    (statement,) = statements(name)
    return execute_with_literals(conn, statement, params)
