"""Time reading each analytics view in full against one plain pass over `messages`.

    .venv/bin/python bench/views_bench.py [--messages 1000000] [--repeat 10]

Synthesises `messages` with DuckDB's range(): two accounts (+09:00 with business hours and a holiday, +07:00
without), chats of 50 messages over about 14 months, senders mixed user/staff/auto_reply/api, 10% of chats
tagged. Each timing is the best of `repeat` runs of `CREATE OR REPLACE TEMP TABLE x AS SELECT ...`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from lineoa_pipeline.classify import sync_settings
from lineoa_pipeline.settings import parse_settings
from lineoa_pipeline.sqlfiles import run_script
from lineoa_pipeline.views import VIEWS, create_views

PER_CHAT = 50
SETTINGS = {
    "accounts": {
        "clinic": {
            "sla_minutes": 30,
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

# Message j of chat c: ~8.4 days apart on average, the sender from a hash of (c, j).
SYNTHESISE = """
INSERT INTO messages
WITH raw AS (
    SELECT i // $per_chat AS c, i % $per_chat AS j, hash(i) AS h FROM range($messages) t(i)
),
placed AS (
    SELECT c, j, h,
           CASE WHEN c % 2 = 0 THEN 'clinic' ELSE 'studio' END AS account_name,
           CASE WHEN c % 2 = 0 THEN 540 ELSE 420 END AS offset_minutes,
           TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(c % 86400 + j * 720000 + (h % 720000)::BIGINT) AS sent_at
    FROM raw
)
SELECT md5(c::VARCHAR || '-' || j::VARCHAR), account_name, 'chat ' || c::VARCHAR, 'one_to_one',
       CASE WHEN h % 100 < 45 THEN 'user' WHEN h % 100 < 80 THEN 'staff'
            WHEN h % 100 < 90 THEN 'auto_reply' ELSE 'api' END,
       'sender ' || (h % 7)::VARCHAR,
       sent_at,
       date_trunc('month', timezone('UTC', sent_at) + to_minutes(offset_minutes))::DATE,
       'text', 'content', 'bench.csv', j
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
        for account, offset in (("clinic", 540), ("studio", 420)):
            conn.execute(
                "INSERT INTO source_files VALUES (?, '', 0, ?, NULL, ?, true, 0, 0, 0, 0, now())",
                [f"{account}.zip", account, datetime(2026, 3, 1)],
            )
            conn.execute("INSERT INTO _file_offsets VALUES (?, ?)", [f"{account}.zip", offset])
        conn.execute(
            "INSERT INTO chat_tags SELECT DISTINCT account_name, chat_name, 'tag ' || (hash(chat_name) % 5)::VARCHAR "
            "FROM messages WHERE hash(chat_name) % 10 = 0"
        )
        sync_settings(conn, parse_settings(SETTINGS))
        conn.execute("CHECKPOINT")
        print(f"synthesised {args.messages:,} messages in {time.perf_counter() - start:.2f} s")
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
        print(f"{'all four views':40} {total * 1000:8.1f} ms  {total / plain:5.1f}x")
        print(
            f"{'create_views (rebuild, once per run)':40} {min(refresh) * 1000:8.1f} ms  {min(refresh) / plain:5.1f}x"
        )


if __name__ == "__main__":
    main()
