"""Time reading each analytics view in full against one plain pass over `messages`, on chats of every shape.

    .venv/bin/python bench/views_bench.py [--messages 1000000] [--repeat 10] [--shape spread --shape daily ...]

Synthesises `messages` with DuckDB's range(): two accounts (+09:00 with business hours and a holiday, +07:00
without), each chat its own export, senders mixed user/staff/auto_reply/api (the api messages broadcasts: one
text to every chat within five minutes), 5% of user messages a menu text, 10% of chats tagged. The chats take
one of these shapes (`SHAPES`): `spread`, 50 messages about 8.4 days apart (14 months); `daily`, 800 messages
about 11 hours apart (a customer who writes every day for a year: one chain of some 365 reply cycles);
`one_chat`, every message in one chat 150 s apart; `bursts`, 50 messages a minute apart; `singletons`, a chat
per message. Per shape it times classifying every month (write_months: broadcasts, menu taps) and marking the
months a new month's broadcasts reach, once each; the views' refresh (create_views); then each view, the best
of `repeat` runs of `CREATE OR REPLACE TEMP TABLE x AS SELECT ...`, against a plain pass over `messages`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.synthetic.shapes import SHAPE_SETTINGS, SHAPES, synthesise_shape
from lineoa_pipeline.warehouse.classify import mark_broadcast_months, sync_settings, write_months
from lineoa_pipeline.warehouse.tables import create_schema
from lineoa_pipeline.warehouse.views import VIEWS, create_views


def _best_seconds(conn: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> float:
    """The fastest of `repeat` runs after a warm-up: the least disturbed by other work on the machine."""
    conn.execute(sql)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        conn.execute(sql)
        times.append(time.perf_counter() - start)
    return min(times)


def bench_shape(conn: duckdb.DuckDBPyConnection, shape: str, messages: int, repeat: int) -> None:
    """Synthesise `messages` in chats of `shape` into an empty warehouse and print what each step costs."""
    create_schema(conn)
    start = time.perf_counter()
    synthesise_shape(conn, shape, messages)
    sync_settings(conn, parse_settings(SHAPE_SETTINGS))
    conn.execute("CHECKPOINT")
    chats = (conn.execute("SELECT count(DISTINCT chat_name) FROM messages").fetchone() or (0,))[0]
    print(f"\n## {shape}: {messages:,} messages in {chats:,} chats, synthesised in {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    written = write_months(conn, date(2000, 1, 1), date(2100, 1, 1))
    print(
        f"{'write_months, every month (classify)':40} {(time.perf_counter() - start) * 1000:8.1f} ms  "
        f"({written.reclassified:,} rows classified anew)"
    )
    conn.execute("INSERT INTO _pending_months SELECT max(month) FROM messages")
    start = time.perf_counter()
    reached = mark_broadcast_months(conn)
    print(
        f"{'mark_broadcast_months (after staging)':40} {(time.perf_counter() - start) * 1000:8.1f} ms  "
        f"({len(reached)} months reached)"
    )
    conn.execute("DELETE FROM _pending_months")
    classes = conn.execute("SELECT sender_type, kind, count(*) FROM messages GROUP BY ALL ORDER BY ALL").fetchall()
    print("classes: " + ", ".join(f"{s}/{k} {n:,}" for s, k, n in classes))
    refresh = []
    for _ in range(3):
        start = time.perf_counter()
        create_views(conn)
        refresh.append(time.perf_counter() - start)
    plain = _best_seconds(
        conn,
        "CREATE OR REPLACE TEMP TABLE x AS SELECT account_name, month, count(*) FROM messages GROUP BY ALL",
        repeat,
    )
    print(f"{'plain pass (account, month, count)':40} {plain * 1000:8.1f} ms")
    total = 0.0
    for view in VIEWS:
        seconds = _best_seconds(conn, f"CREATE OR REPLACE TEMP TABLE x AS SELECT * FROM {view}", repeat)
        rows = (conn.execute("SELECT count(*) FROM x").fetchone() or (0,))[0]
        total += seconds
        print(f"{view:40} {seconds * 1000:8.1f} ms  {seconds / plain:5.1f}x  ({rows:,} rows)")
    print(f"{f'all {len(VIEWS)} views':40} {total * 1000:8.1f} ms  {total / plain:5.1f}x")
    print(f"{'create_views (rebuild, once per run)':40} {min(refresh) * 1000:8.1f} ms  {min(refresh) / plain:5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--shape", action="append", choices=list(SHAPES), help="repeatable; default: every shape")
    args = parser.parse_args()
    print(f"duckdb {duckdb.__version__}, load average {os.getloadavg()[0]:.2f}")
    for shape in args.shape or SHAPES:
        with tempfile.TemporaryDirectory() as tmp, duckdb.connect(Path(tmp) / "bench.duckdb") as conn:
            conn.execute("SET TimeZone = 'UTC'")
            bench_shape(conn, shape, args.messages, args.repeat)


if __name__ == "__main__":
    main()
