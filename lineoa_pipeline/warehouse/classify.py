"""Classifying `messages` by the settings (sender_type, kind, chat_type), one range of month partitions at a time."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import NamedTuple

import duckdb

from lineoa_pipeline.line_export.names import name_key
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.warehouse.sqlfiles import (
    insert_rows,
    load_sql,
    retry_conflicts,
    run_script,
    statements,
    transaction,
)


def sync_settings(conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Write the settings the SQL reads (`_cfg_*`), resolved for every account the warehouse knows."""
    _sync_chat_keys(conn)
    run_script(conn, "settings_tables")
    accounts = [r[0] for r in conn.execute("SELECT DISTINCT account_name FROM source_files").fetchall()]
    accounts = sorted(set(accounts) | set(settings.accounts))
    rows: dict[str, list[tuple]] = {
        "_cfg_sender_roles": [],
        "_cfg_placeholders": [],
        "_cfg_chat_types": [],
        "_cfg_accounts": [],
        "_cfg_menu_texts": [],
        "_cfg_business_hours": [],
        "_cfg_holidays": [],
    }
    for account in accounts:
        s = settings.for_account(account)
        rows["_cfg_sender_roles"] += [(account, n, "auto_reply") for n in s.auto_reply_names]
        rows["_cfg_sender_roles"] += [(account, n, "api") for n in s.api_sender_names if n not in s.auto_reply_names]
        rows["_cfg_placeholders"] += [(account, text, kind) for text, kind in s.placeholders.items()]
        rows["_cfg_chat_types"] += [(account, name_key(chat), kind) for chat, kind in s.chat_types.items()]
        rows["_cfg_accounts"] += [
            (
                account,
                s.sla_minutes,
                s.business_hours is not None,
                s.api_answers,
                s.broadcast_min_chats,
                s.broadcast_window_minutes,
            )
        ]
        rows["_cfg_menu_texts"] += [(account, text) for text in sorted({_nfkc(t) for t in s.menu_texts})]
        for weekday, ranges in (s.business_hours or {}).items():
            rows["_cfg_business_hours"] += [(account, weekday + 1, start, end) for start, end in ranges]
        rows["_cfg_holidays"] += [(account, day) for day in s.holidays]
    for table, values in rows.items():
        insert_rows(conn, table, values)


def mark_reclassified_months(conn: duckdb.DuckDBPyConnection) -> int:
    """Make stale every month written under other classification settings (sender roles, placeholder
    texts, chat types, menu texts, what makes a broadcast) than the ones `sync_settings` last wrote, so
    that a change of `lineoa.toml` reaches all of history at the next run. Returns how many months."""
    stale = conn.execute(load_sql("mark_reclassified_months")).fetchone()  # rows inserted (a lake has no RETURNING)
    return stale[0] if stale else 0


def mark_broadcast_months(conn: duckdb.DuckDBPyConnection) -> list[date]:
    """Make stale the months whose broadcasts the pending months' messages may change (a broadcast's window
    crosses month ends): returns them. Run after staging, with the settings synced."""
    run_script(conn, "broadcast_months")  # into a temp table first, then inserted: a lake has no RETURNING
    return sorted({r[0] for r in conn.execute("SELECT month FROM broadcast_stale").fetchall()})


class MonthsWritten(NamedTuple):
    """What writing a range of months did: the rows they hold, and how many of them changed class."""

    rows: int
    reclassified: int


def write_months(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> MonthsWritten:
    """Write the `messages` partitions from `first` to `last` (month starts): classify their rows by the
    current settings, in one transaction; only the rows whose class changes are written."""
    _find_menu_taps(conn, first, last)

    def write() -> tuple[int] | None:
        with transaction(conn):
            classify, *bookkeeping = statements("write_months")
            changed = conn.execute(classify, {"first": first, "last": last}).fetchone()
            for statement in bookkeeping:  # those of the written months take them, the rest none
                conn.execute(statement, {"first": first, "last": last} if "$first" in statement else None)
        return changed

    changed = retry_conflicts(write)  # a lake's concurrent writer of the same months: run it again after theirs
    row = conn.execute("SELECT count(*) FROM messages WHERE month BETWEEN ? AND ?", [first, last]).fetchone()
    return MonthsWritten(row[0] if row else 0, changed[0] if changed else 0)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _find_menu_taps(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> None:
    """The temp table `menu_taps` (account_name, content): the user contents of months `first`..`last` whose
    NFKC is one of their account's menu texts. DuckDB has no NFKC, so Python normalises each distinct
    content once, only for the accounts that set menu texts."""
    conn.execute("CREATE OR REPLACE TEMP TABLE menu_taps (account_name VARCHAR, content VARCHAR)")
    menus: dict[str, set[str]] = {}
    for account, text in conn.execute("SELECT account_name, nfkc_content FROM _cfg_menu_texts").fetchall():
        menus.setdefault(account, set()).add(text)
    if not menus:
        return
    contents = conn.execute(
        """SELECT DISTINCT account_name, content FROM messages
           WHERE month BETWEEN ? AND ? AND sender_type = 'user' AND account_name IN (SELECT unnest(?))""",
        [first, last, list(menus)],
    ).fetchall()
    insert_rows(conn, "menu_taps", [(a, c) for a, c in contents if _nfkc(c) in menus[a]])


def _sync_chat_keys(conn: duckdb.DuckDBPyConnection) -> None:
    new = conn.execute(
        """SELECT DISTINCT account_name, chat_name FROM messages
           ANTI JOIN _chat_keys USING (account_name, chat_name)"""
    ).fetchall()
    insert_rows(conn, "_chat_keys", [(a, c, name_key(c)) for a, c in new])
