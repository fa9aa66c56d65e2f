"""The embedded warehouse file against a DuckLake over PostgreSQL, side by side in one benchmark run.

    .venv/bin/python bench/lake_bench.py [--messages 5000000] [--accounts 2] [--account-messages 1000000]

It starts its own PostgreSQL (Debian's `postgresql`, as the tests do), each lake in a database of its own, and
writes the markdown table it prints to --out when given.

1. Cold: one ja account's bulk zip of --messages (`write_scale_inbox`) taken in by `lineoa run` (a child
   process) into each warehouse. Meanwhile this process opens `connect()` every 0.5 s and reads every view
   (a reader during the run), timing each open-and-read. Then the size on disk of each warehouse: the file
   and its readers' snapshot, or the lake's Parquet and its catalog database.
2. Accounts: --accounts accounts of --account-messages each (a bulk zip each) into one data directory on a
   lake, with `writers = 1` and `writers = 2` (a run stages that many accounts at once).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from lineoa_pipeline.synthetic.scale import write_scale_inbox
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect
from lineoa_pipeline.warehouse.lake import extension_file
from lineoa_pipeline.warehouse.views import VIEWS
from lineoa_pipeline_tests.postgres import Postgres, running_postgres

ROOT = Path(__file__).resolve().parent.parent
LINEOA = str(Path(sys.executable).with_name("lineoa"))
PER_CHAT = 200


def read_views(data_dir: Path, stop: threading.Event, latencies: list[float]) -> None:
    """Until `stop`: open a reader, count every view's rows, close it; each round's seconds in `latencies`."""
    reads = [f'SELECT count(*) FROM "{view}"' for view in VIEWS]
    while not stop.wait(0.5):
        started = time.perf_counter()
        try:
            conn = connect(data_dir)
        except NoWarehouseYet:
            continue
        try:
            for read in reads:
                conn.execute(read).fetchall()
        except duckdb.Error:  # the views do not exist before the first run's views step
            continue
        finally:
            conn.close()
        latencies.append(time.perf_counter() - started)


def lineoa_run(data_dir: Path, with_reader: bool) -> tuple[float, list[float]]:
    """Wall seconds of a cold `lineoa run`, and the reader's latencies during it."""
    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=read_views, args=(data_dir, stop, latencies))
    if with_reader:
        thread.start()
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in ("LINEOA_DATA_DIR", "DAGSTER_HOME")}
    done = subprocess.run(
        [LINEOA, "run", "--data-dir", str(data_dir)], capture_output=True, text=True, check=False, env=env
    )
    wall = time.perf_counter() - started
    stop.set()
    if with_reader:
        thread.join()
    if done.returncode:
        raise SystemExit(f"lineoa run failed in {data_dir}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"  {data_dir.name}: {done.stdout.strip().splitlines()[-1]}", flush=True)
    return wall, latencies


def new_data_dir(work: Path, name: str, postgres: Postgres | None, writers: int = 2) -> tuple[Path, str | None]:
    data_dir = work / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if postgres is None:
        return data_dir, None
    database = postgres.new_database()
    (data_dir / "lineoa.toml").write_text(
        f'[warehouse]\ncatalog = "{postgres.catalog(database)}"\ndata_path = "lake"\nwriters = {writers}\n'
    )
    return data_dir, database


def size_mb(data_dir: Path, postgres: Postgres | None, database: str | None) -> float:
    """The warehouse's bytes: the file and its snapshot, or the lake's Parquet and its catalog database."""
    stored = [data_dir / name for name in (["lake"] if database else ["warehouse.duckdb", "warehouse.snapshot.duckdb"])]
    total = sum(f.stat().st_size for path in stored for f in [path, *path.rglob("*")] if f.is_file())
    if postgres and database:
        conn = duckdb.connect()
        conn.execute(f"LOAD '{extension_file('duckdb_extension_postgres_scanner', 'postgres_scanner')}'")
        conn.execute(f"ATTACH '{postgres.catalog(database).removeprefix('postgres:')}' AS pg (TYPE postgres)")
        query = "SELECT * FROM postgres_query('pg', 'SELECT pg_database_size(current_database())')"
        total += (conn.execute(query).fetchone() or (0,))[0]
        conn.close()
    return total / 2**20


def ms(values: list[float]) -> str:
    if not values:
        return "no read"
    return f"{statistics.median(values) * 1000:,.0f} ms (max {max(values) * 1000:,.0f}; {len(values)} reads)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--accounts", type=int, default=2)
    parser.add_argument("--account-messages", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "lake")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    lines = [
        "| warehouse | messages | cold `lineoa run` | reader during the run: open + every view (median) | on disk |",
        "|---|--:|--:|---|--:|",
    ]
    with running_postgres() as postgres:
        for kind in ("embedded", "lake"):
            server = postgres if kind == "lake" else None
            data_dir, database = new_data_dir(args.work, f"cold-{kind}", server)
            made = write_scale_inbox(
                data_dir / "inbox", chats=args.messages // PER_CHAT, messages_per_chat=PER_CHAT, as_zip=True
            )
            wall, latencies = lineoa_run(data_dir, with_reader=True)
            lines.append(
                f"| {kind} | {made['messages']:,} | {wall:,.1f} s | {ms(latencies)} | "
                f"{size_mb(data_dir, server, database):,.0f} MB |"
            )
            print(lines[-1], flush=True)
        lines += [
            "",
            f"| lake, {args.accounts} accounts of {args.account_messages:,} messages | cold `lineoa run` |",
            "|---|--:|",
        ]
        walls = {}
        for writers in (1, 2):
            data_dir, _ = new_data_dir(args.work, f"accounts-writers-{writers}", postgres, writers)
            for account in range(args.accounts):
                write_scale_inbox(
                    data_dir / "inbox" / f"account-{account}",
                    chats=args.account_messages // PER_CHAT,
                    messages_per_chat=PER_CHAT,
                    as_zip=True,
                    seed=account,
                    account_name=f"サンプル店 {account + 1}",
                )
            walls[writers], _ = lineoa_run(data_dir, with_reader=False)
            lines.append(f"| writers = {writers} | {walls[writers]:,.1f} s |")
            print(lines[-1], flush=True)
        lines.append(f"| speed-up | {walls[1] / walls[2]:.2f}x |")
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
