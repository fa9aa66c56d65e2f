"""Time reading each analytics view in full against one plain pass over `messages`.

    .venv/bin/python bench/views_bench.py [--messages 1000000] [--repeat 10]

Synthesises `messages` with DuckDB's range(): two accounts (+09:00 with business hours and a holiday, +07:00
without), chats of 50 messages over about 14 months, each chat its own export, senders mixed user/staff/
auto_reply/api (the api messages broadcasts: one text to every chat within five minutes), 5% of user messages
a menu text, 10% of chats tagged. It times classifying every month (write_months: broadcasts, menu taps) and
marking the months a new month's broadcasts reach, once each; then each view, the best of `repeat` runs of
`CREATE OR REPLACE TEMP TABLE x AS SELECT ...`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb

from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.warehouse.classify import mark_broadcast_months, sync_settings, write_months
from lineoa_pipeline.warehouse.sqlfiles import run_script
from lineoa_pipeline.warehouse.views import VIEWS, create_views

PER_CHAT = 50
SETTINGS = {
    "accounts": {
        "clinic": {
            "sla_minutes": 30,
            "menu_texts": ["menu"],
            "business_hours": {
                "mon": ["09:00-12:00", "13:00-18:00"],
                "tue": ["09:00-18:00"],
                "wed": ["09:00-18:00"],
                "thu": ["09:00-18:00"],
                "fri": ["09:00-18:00"],
                "sat": ["10:00-14:00"],
                "holidays": ["2025-01-01", "2025-05-05", "2026-01-01"],
            },
        }
    }
}

# Message j of chat c: ~8.4 days apart on average, the sender from a hash of (c, j); an api message j goes to
# every chat within five minutes. Stored as staging stores them (user or staff, text): write_months classifies.
SYNTHESISE = """
INSERT INTO messages
WITH raw AS (
    SELECT i // $per_chat AS c, i % $per_chat AS j, hash(i) AS h FROM range($messages) t(i)
),
placed AS (
    SELECT c, j, h, h % 100 AS role,
           CASE WHEN c % 2 = 0 THEN 'clinic' ELSE 'studio' END AS account_name,
           CASE WHEN c % 2 = 0 THEN 540 ELSE 420 END AS offset_minutes,
           TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(CASE WHEN role >= 90 THEN j * 720000 + c % 300
               ELSE c % 86400 + j * 720000 + (h % 720000)::BIGINT END) AS sent_at
    FROM raw
)
SELECT md5(c::VARCHAR || '-' || j::VARCHAR), account_name, 'chat ' || c::VARCHAR, 'one_to_one',
       CASE WHEN role < 45 THEN 'user' ELSE 'staff' END,
       CASE WHEN role < 45 THEN 'user ' || c::VARCHAR WHEN role < 80 THEN 'sender ' || (h % 7)::VARCHAR
            WHEN role < 90 THEN '応答メッセージ' ELSE 'Unknown' END,
       sent_at,
       date_trunc('month', timezone('UTC', sent_at) + to_minutes(offset_minutes))::DATE,
       'text',
       CASE WHEN role >= 90 THEN 'notice ' || j::VARCHAR WHEN role < 45 AND h % 20 = 0 THEN 'menu' ELSE 'content' END,
       'chat ' || c::VARCHAR || '.csv', j, offset_minutes
FROM placed
"""


def _best_seconds(conn: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> float:
    """The fastest of `repeat` runs after a warm-up: the least disturbed by other work on the machine."""
    conn.execute(sql)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        conn.execute(sql)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(Path(tmp) / "bench.duckdb") as conn:
        conn.execute("SET TimeZone = 'UTC'")
        run_script(conn, "schema")
        start = time.perf_counter()
        conn.execute(SYNTHESISE, {"messages": args.messages, "per_chat": PER_CHAT})
        conn.execute(
            """INSERT INTO source_files
               SELECT DISTINCT source_file, '', 0, account_name, chat_name, ?, true, 0, 0, 0, 0, now() FROM messages""",
            [datetime(2026, 3, 1)],
        )
        conn.execute(
            """INSERT INTO _file_offsets SELECT file_path, CASE account_name WHEN 'clinic' THEN 540 ELSE 420 END,
                      sha256, chat_name
               FROM source_files"""
        )
        conn.execute(
            "INSERT INTO chat_tags SELECT DISTINCT account_name, chat_name, 'tag ' || (hash(chat_name) % 5)::VARCHAR "
            "FROM messages WHERE hash(chat_name) % 10 = 0"
        )
        sync_settings(conn, parse_settings(SETTINGS))
        conn.execute("CHECKPOINT")
        print(f"synthesised {args.messages:,} messages in {time.perf_counter() - start:.2f} s")
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
        threads = conn.execute("SELECT current_setting('threads')").fetchone()
        print(f"duckdb {duckdb.__version__}, threads {threads[0] if threads else '?'}")

        plain = _best_seconds(
            conn,
            "CREATE OR REPLACE TEMP TABLE x AS SELECT account_name, month, count(*) FROM messages GROUP BY ALL",
            args.repeat,
        )
        print(f"{'plain pass (account, month, count)':40} {plain * 1000:8.1f} ms")
        total = 0.0
        for view in VIEWS:
            seconds = _best_seconds(conn, f"CREATE OR REPLACE TEMP TABLE x AS SELECT * FROM {view}", args.repeat)
            rows = (conn.execute("SELECT count(*) FROM x").fetchone() or (0,))[0]
            total += seconds
            print(f"{view:40} {seconds * 1000:8.1f} ms  {seconds / plain:5.1f}x  ({rows:,} rows)")
        print(f"{f'all {len(VIEWS)} views':40} {total * 1000:8.1f} ms  {total / plain:5.1f}x")
        print(
            f"{'create_views (rebuild, once per run)':40} {min(refresh) * 1000:8.1f} ms  {min(refresh) / plain:5.1f}x"
        )


if __name__ == "__main__":
    main()
