"""A refresh of the views rewrites the chats that changed and only those: a weekly backup costs what it changed,
and the views read the same as after a rebuild of every chat."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.synthetic.shapes import SHAPE_SETTINGS, synthesise_shape
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.tables import create_schema
from lineoa_pipeline.warehouse.views import VIEWS, create_views

EVERY_MONTH = (date(2000, 1, 1), date(2100, 1, 1))
TABLES = ("_response_times", "_line_reply_times")
# A week later, a tenth of the chats write again: copies of their first messages, a week after their last.
NEXT_WEEK = """
INSERT INTO messages
SELECT md5(message_id || ' again'), account_name, chat_name, chat_type, sender_type, sender_name,
       sent_at + (SELECT max(sent_at) - min(sent_at) FROM messages n WHERE n.chat_name = m.chat_name)
               + INTERVAL 7 DAY,
       month, 'text', content, source_file, export_seq + 1000, utc_offset_minutes
FROM messages m
WHERE hash(chat_name) % 10 = 3 AND export_seq < 10
"""


@pytest.fixture
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    with duckdb.connect(tmp_path / "warehouse.duckdb") as conn:
        conn.execute("SET TimeZone = 'UTC'")
        create_schema(conn)
        synthesise_shape(conn, "spread", 20_000)
        sync_settings(conn, parse_settings(SHAPE_SETTINGS))
        write_months(conn, *EVERY_MONTH)
        create_views(conn)
        yield conn


def _mark_every_row(conn: duckdb.DuckDBPyConnection) -> None:
    """Mark each stored row so that a row rewritten since shows: a rewrite computes it afresh, unmarked."""
    conn.execute("UPDATE _response_times SET replied_by = 'marked'")
    conn.execute("UPDATE _line_reply_times SET reply_seconds = -1")


def _marked_chats(conn: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """(chats whose every row is still marked, chats with a rewritten row) over both tables."""
    rows = conn.execute(
        """SELECT chat_name, bool_and(marked) FROM (
               SELECT chat_name, replied_by = 'marked' AS marked FROM _response_times
               UNION ALL SELECT chat_name, reply_seconds = -1 FROM _line_reply_times)
           GROUP BY ALL"""
    ).fetchall()
    return {c for c, kept in rows if kept}, {c for c, kept in rows if not kept}


def _chats(conn: duckdb.DuckDBPyConnection, where: str) -> set[str]:
    return {c for (c,) in conn.execute(f"SELECT DISTINCT chat_name FROM messages WHERE {where}").fetchall()}


def _every_view(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {name: conn.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in VIEWS}


def test_a_refresh_rewrites_only_the_chats_whose_messages_changed(conn: duckdb.DuckDBPyConnection) -> None:
    _mark_every_row(conn)
    conn.execute(NEXT_WEEK)
    write_months(conn, *EVERY_MONTH)
    changed = _chats(conn, "export_seq >= 1000")
    create_views(conn)
    kept, rewritten = _marked_chats(conn)
    assert rewritten == changed
    assert len(kept) > 5 * len(changed) > 0


def test_a_refreshed_warehouse_reads_as_one_rebuilt_whole(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(NEXT_WEEK)
    write_months(conn, *EVERY_MONTH)
    create_views(conn)
    refreshed = _every_view(conn)
    conn.execute("DELETE FROM _view_chats")  # every chat is stale: rebuilt whole
    create_views(conn)
    assert _every_view(conn) == refreshed
    assert sum(map(len, refreshed.values())) > 10_000


def test_a_change_of_settings_reaches_every_chat(conn: duckdb.DuckDBPyConnection) -> None:
    _mark_every_row(conn)
    settings = {"accounts": {**SHAPE_SETTINGS["accounts"], "studio": {"api_answers": True}}}
    sync_settings(conn, parse_settings(settings))
    create_views(conn)
    kept, rewritten = _marked_chats(conn)
    studio = _chats(conn, "account_name = 'studio'")
    assert rewritten == studio  # the clinic's settings did not change: its chats are as they were
    sync_settings(conn, parse_settings({}))
    create_views(conn)
    assert _marked_chats(conn) == (set(), kept | rewritten)


def test_a_reclassified_month_rewrites_the_chats_it_changed(conn: duckdb.DuckDBPyConnection) -> None:
    _mark_every_row(conn)
    tapped = _chats(conn, "kind = 'menu_tap' AND account_name = 'clinic'")
    settings = {"accounts": {"clinic": {**SHAPE_SETTINGS["accounts"]["clinic"], "menu_texts": []}}}
    sync_settings(conn, parse_settings(settings))
    write_months(conn, *EVERY_MONTH)  # the clinic's menu taps are user texts again
    create_views(conn)
    kept, rewritten = _marked_chats(conn)
    assert rewritten == tapped and len(kept) > len(tapped) > 0
    assert [t for t in TABLES if conn.execute(f"SELECT count(*) FROM {t}").fetchone() == (0,)] == []
