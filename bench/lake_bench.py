"""The embedded warehouse file against a DuckLake over PostgreSQL, side by side in one session.

    PGPASSWORD=… .venv/bin/python bench/lake_bench.py --catalog 'postgres:dbname=… host=… user=…' \
        [--messages 1000000] [--out docs/benchmarks.md]

The catalog's database must be empty (each data directory's lake is made in it). One ja account's bulk zip
(`write_scale_inbox`) is ingested cold by `lineoa run` in a child process into each warehouse; meanwhile
this process opens `connect()` and reads `monthly_response_stats` every 0.5 s, timing each read (a reader
during a run). Then the size on disk of each: `warehouse.duckdb` and its snapshot, or the lake's Parquet.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from lineoa_pipeline.synthetic.scale import write_scale_inbox
from lineoa_pipeline.warehouse import NoWarehouseYet, connect

ROOT = Path(__file__).resolve().parent.parent
LINEOA = str(Path(sys.executable).with_name("lineoa"))
READ = "SELECT count(*), sum(inquiries) FROM monthly_response_stats"


def reader(data_dir: Path, stop: threading.Event, latencies: list[float]) -> None:
    while not stop.wait(0.5):
        started = time.perf_counter()
        try:
            conn = connect(data_dir)
        except NoWarehouseYet:
            continue
        try:
            conn.execute(READ).fetchall()
        except duckdb.Error:  # the views do not exist before the first run ends
            continue
        finally:
            conn.close()
        latencies.append(time.perf_counter() - started)


def run(data_dir: Path) -> tuple[float, list[float]]:
    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=reader, args=(data_dir, stop, latencies))
    thread.start()
    started = time.perf_counter()
    done = subprocess.run([LINEOA, "run", "--data-dir", str(data_dir)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    stop.set()
    thread.join()
    if done.returncode:
        raise SystemExit(f"lineoa run failed in {data_dir}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(done.stdout.strip().splitlines()[-1])
    return wall, latencies


def size_mb(paths: list[Path]) -> float:
    return sum(f.stat().st_size for p in paths if p.exists() for f in ([p] if p.is_file() else p.rglob("*"))) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", required=True, help="a DuckLake catalog: postgres:dbname=… (empty database)")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "lake")
    args = parser.parse_args()
    per_chat = 200
    rows = []
    for kind in ("embedded", "lake"):
        data_dir = args.work / kind
        subprocess.run(["rm", "-rf", str(data_dir)], check=True)
        data_dir.mkdir(parents=True)
        generated = write_scale_inbox(
            data_dir / "inbox", chats=args.messages // per_chat, messages_per_chat=per_chat, as_zip=True
        )
        if kind == "lake":
            (data_dir / "lineoa.toml").write_text(f'[warehouse]\ncatalog = "{args.catalog}"\ndata_path = "lake"\n')
        wall, latencies = run(data_dir)
        stored = ["warehouse.duckdb", "warehouse.snapshot.duckdb"] if kind == "embedded" else ["lake"]
        mb = size_mb([data_dir / name for name in stored])
        rows.append(
            f"| {kind} | {generated['messages']:,} | {wall:.1f} s | "
            f"{statistics.median(latencies) * 1000 if latencies else float('nan'):.0f} ms "
            f"({len(latencies)} reads, max {max(latencies, default=float('nan')) * 1000:.0f} ms) | {mb:,.0f} MB |"
        )
        print(rows[-1], flush=True)
    print("| warehouse | messages | cold `lineoa run` | reader during the run (median) | on disk |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
