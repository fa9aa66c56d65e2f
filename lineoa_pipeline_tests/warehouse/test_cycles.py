"""LINE's reply cycles found in one vectorised pass: the same cycles as a message-by-message walk, whatever the
chats' shapes, and a cost that follows the messages, not the cycles a chat chains."""

from __future__ import annotations

import time
from datetime import date

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.synthetic.shapes import SHAPE_SETTINGS, synthesise_shape
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.cycles import cycle_starts
from lineoa_pipeline.warehouse.tables import create_schema
from lineoa_pipeline.warehouse.views import create_views

DAY = 86400


def _walk(chats: list[int], seconds: list[int]) -> list[int]:
    """The reference: ask by ask, a new cycle when the chat changes or the ask is past the open cycle's reach."""
    starts, opened = [], None
    for i, (chat, s) in enumerate(zip(chats, seconds, strict=True)):
        if opened is None or chats[opened] != chat or s > seconds[opened] + DAY:
            starts.append(i)
            opened = i
    return starts


# Chats as lists of gaps between asks: often within a day (a chain), sometimes exactly at or just past it.
GAPS = st.sampled_from([0, 0, 1, 3600, 40000, DAY - 1, DAY, DAY + 1, 100000, 10 * DAY])


@given(st.lists(st.lists(GAPS, min_size=1, max_size=80), min_size=1, max_size=12), st.integers(-(10**9), 10**9))
def test_cycle_starts_match_a_walk_ask_by_ask(chats: list[list[int]], origin: int) -> None:
    chat_ids, seconds = [], []
    for c, gaps in enumerate(chats):
        s = origin
        for gap in gaps:
            s += gap
            chat_ids.append(c * 7)  # chat numbers need not be dense
            seconds.append(s)
    assert cycle_starts(chat_ids, seconds, [s + DAY for s in seconds]) == _walk(chat_ids, seconds)


def test_no_asks_no_cycles() -> None:
    assert cycle_starts([], [], []) == []


def test_a_year_of_daily_asks_chains_a_cycle_a_day() -> None:
    seconds = [i * 50000 for i in range(700)]  # every 13.9 hours: one chain of cycles, none ever closes early
    starts = cycle_starts([1] * len(seconds), seconds, [s + DAY for s in seconds])
    assert starts == _walk([1] * len(seconds), seconds)
    assert len(starts) == 700 // 2 + 700 % 2  # each cycle holds two asks


def _refresh_seconds(tmp_path_factory: pytest.TempPathFactory, shape: str, messages: int) -> float:
    with duckdb.connect(tmp_path_factory.mktemp(shape) / "warehouse.duckdb") as conn:
        conn.execute("SET TimeZone = 'UTC'")
        create_schema(conn)
        synthesise_shape(conn, shape, messages)
        sync_settings(conn, parse_settings(SHAPE_SETTINGS))
        write_months(conn, date(2000, 1, 1), date(2100, 1, 1))
        create_views(conn)  # warm
        start = time.perf_counter()
        create_views(conn)
        return time.perf_counter() - start


@pytest.mark.slow
def test_refreshing_the_views_costs_the_same_whatever_the_chats_shape(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A recursive query iterates once per cycle of the longest chain: a year of daily messages took it 17 times
    # as long as the same messages in chats of a few weeks. Measured against each other in one process, so the
    # machine's load weighs on both alike.
    spread = _refresh_seconds(tmp_path_factory, "spread", 100_000)
    daily = _refresh_seconds(tmp_path_factory, "daily", 100_000)
    one_chat = _refresh_seconds(tmp_path_factory, "one_chat", 100_000)
    assert daily < 3 * spread, (daily, spread)
    assert one_chat < 3 * spread, (one_chat, spread)
