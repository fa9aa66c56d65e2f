"""`lineoa search` against an oracle: Python's NFKC + casefold over every message, the contract's order."""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import date, datetime, timedelta

import duckdb
import pytest

from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.search import NEEDS_FOLDING, STABLE_RANGES, fold, hits_text, search
from lineoa_pipeline.line_export.names import name_key
from lineoa_pipeline.warehouse.sqlfiles import sql_literal
from lineoa_pipeline_tests.history.sample import BANGKOK, CLINIC, HANAKO, History


def _oracle(history: History, text: str, filters: Filters, limit: int) -> list[str]:
    """The message_ids the contract asks for, computed in Python over every stored message."""
    conn = duckdb.connect(str(history.data_dir.snapshot), read_only=True)
    conn.execute("SET TimeZone = 'UTC'")
    rows = conn.execute(
        """SELECT m.message_id, m.account_name, m.chat_name, m.sender_type, m.sent_at, m.export_seq, m.content,
                  m.utc_offset_minutes
           FROM messages m"""
    ).fetchall()
    conn.close()
    needle = fold(text)
    kept = []
    for message_id, account, chat, sender, sent_at, seq, content, offset in rows:
        local = (sent_at + timedelta(minutes=offset)).replace(tzinfo=None)
        if (
            needle in fold(content)
            and filters.account in (None, account)
            and (filters.chat is None or name_key(filters.chat) == name_key(chat))
            and filters.sender in (None, sender)
            and (filters.since is None or local.date() >= filters.since)
            and (filters.until is None or local.date() <= filters.until)
        ):
            kept.append((sent_at, account, chat, seq, message_id))
    kept.sort(key=lambda k: (-k[0].timestamp(), k[1], k[2], -k[3]))
    return [k[4] for k in kept[:limit]]


QUERIES = [
    ("abc", Filters()),  # ＡＢＣ, abc and MiXeD ... abc
    ("ＡＢＣ", Filters()),
    ("ABC", Filters(account=BANGKOK)),
    ("カタカナ", Filters()),  # ｶﾀｶﾅ (half-width) and カタカナ
    ("ｶﾀｶﾅ", Filters(account=CLINIC, chat="山田　花子")),  # chat by its name key
    ("ガイド", Filters()),  # ｶﾞｲﾄﾞ composes on NFKC
    ("予約", Filters(sender="staff")),
    ("STRASSE", Filters()),  # ß folds to ss
    ("mixed case", Filters()),
    ("予約", Filters(since=date(2026, 2, 27))),  # not the one of January
    ("abc", Filters(until=date(2026, 2, 27))),
    ("o", Filters(since=date(2026, 2, 28), until=date(2026, 2, 28))),  # local dates: +09:00 and +07:00
    ("。", Filters(since=date(2026, 2, 28))),  # from a month's last day (its month is read first, in the scan)
    ("example", Filters(since=date(2026, 3, 1), until=date(2026, 3, 31))),  # a whole month
    ("<script>", Filters()),
    ("。", Filters()),
    ("zzz", Filters()),
]


@pytest.mark.parametrize(("text", "filters"), QUERIES)
def test_search_matches_the_oracle(history: History, text: str, filters: Filters) -> None:
    with open_history(history.data_dir.root) as conn:
        got = [h.message_id for h in search(conn, text, filters, limit=50)]
    assert got == _oracle(history, text, filters, 50)
    assert bool(got) == (text != "zzz")  # every query but the last finds something


def test_search_finds_what_folding_finds_and_limits(history: History) -> None:
    with open_history(history.data_dir.root) as conn:
        hits = search(conn, "ａｂｃ", Filters(), limit=2)
        assert len(hits) == 2 and hits[0].sent_at >= hits[1].sent_at
        (bangkok,) = search(conn, "booking", Filters(), limit=50)
        assert bangkok.sent_at == "2026-02-28T23:30:00+07:00" and bangkok.account_name == BANGKOK
        with pytest.raises(ValueError, match="empty"):
            search(conn, "", Filters(), limit=50)


def test_stable_ranges_are_their_own_folded_form() -> None:
    """Every code point the side table skips folds to itself and never composes with its neighbour."""
    seconds = set()
    for cp in range(sys.maxunicode + 1):
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    for first, last in STABLE_RANGES:
        for cp in range(first, last + 1):
            char = chr(cp)
            assert fold(char) == char and unicodedata.combining(char) == 0 and cp not in seconds, hex(cp)


def test_needs_folding_pattern_agrees_with_python() -> None:
    samples = ["abc", "ABC", "ｶﾀｶﾅ", "カタカナ", "予約。", "　", "か\u3099", "😀", "Straße", "１０時", "\n\t", "〜"]
    conn = duckdb.connect()
    flagged = conn.execute(
        f"SELECT list(regexp_matches(s, {sql_literal(NEEDS_FOLDING)})) FROM unnest(?) AS t(s)", [samples]
    ).fetchone()[0]
    stable = {cp for first, last in STABLE_RANGES for cp in range(first, last + 1)}
    assert flagged == [any(ord(c) not in stable for c in s) for s in samples]
    assert flagged[:4] == [False, True, True, False]


def test_terminal_highlight(history: History) -> None:
    with open_history(history.data_dir.root) as conn:
        hits = search(conn, "abc", Filters(account=BANGKOK), limit=50)
    plain, marked = hits_text(hits, "abc", highlight=False), hits_text(hits, "abc", highlight=True)
    assert "\x1b" not in plain and "2026-02-28 23:40:00+07:00" in plain
    assert "\x1b[7mＡＢＣ\x1b[27m booking" in marked and "\x1b[7mabc\x1b[27m ok" in marked


def test_hits_json_shape(history: History) -> None:
    from lineoa_pipeline.history.search import hits_json

    with open_history(history.data_dir.root) as conn:
        hits = search(conn, "花子です", Filters(), limit=50)
    (row,) = json.loads(hits_json(hits))
    assert set(row) == {"message_id", "account_name", "chat_name", "sender_type", "sender_name", "sent_at", "content"}
    assert row["chat_name"] == name_key(HANAKO) and row["sent_at"] == "2026-03-01T09:05:00+09:00"
    assert datetime.fromisoformat(row["sent_at"]).utcoffset() == timedelta(hours=9)


def test_search_a_warehouse_from_before_search(history: History) -> None:
    """Without the side table (an older warehouse, until its next run) search is still exact."""
    expected = {text: _oracle(history, text, Filters(), 50) for text in ("ＡＢＣ", "ガイド", "予約")}
    conn = duckdb.connect(str(history.data_dir.snapshot))
    conn.execute("DROP TABLE _search_text; DROP TABLE _search_months")
    conn.close()
    with open_history(history.data_dir.root) as reader:
        for text, ids in expected.items():
            assert [h.message_id for h in search(reader, text, Filters(), 50)] == ids
