"""Time `lineoa search` (cold process and warm) and the transcripts at the size of a real account.

    .venv/bin/python bench/search_bench.py --size 1m|5m [--out docs/benchmarks.md] [--keep]
                                           [--transcripts-only | --search-only]

Generates one ja account's bulk backup (`write_scale_inbox`, as bench/run_bench.py does) and takes it in with
`lineoa run` (which also writes the search side table and every transcript). The generator repeats a pool of
38 texts, which DuckDB's dictionary compression would scan almost for free, so the bench then makes every
content distinct (its chat name and sequence number appended) and one message in three need folding (a
half-width kana or full-width Latin word appended), re-indexes and republishes: the figures below are for
distinct texts. Then it measures, each its own child process where it says cold:
- the search side table for every month (what a cold ingest adds) and for one month (an incremental run);
- `lineoa search` as a fresh process (interpreter, imports, open the snapshot, query) and warm (in process);
- the transcripts of every chat from scratch, again with nothing changed, and after next week's backup.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from run_bench import machine, write_doc  # bench/ is this script's folder, first on the path

from lineoa_pipeline.history.export import refresh_transcripts, transcripts_folder
from lineoa_pipeline.history.html import MANIFEST
from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.search import index_months, search
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.synthetic.scale import SCALE_SPAN_DAYS, SCALE_START, write_scale_inbox
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection

ROOT = Path(__file__).resolve().parent.parent
LINEOA = str(Path(sys.executable).with_name("lineoa"))
SIZES = {"1m": (5_000, 200), "5m": (55_000, 91)}  # chats, messages per chat
# Distinct contents; every third message carries text that needs folding (half-width kana, full-width Latin).
DISTINCT = """
UPDATE messages SET content = content || ' ' || chat_name || ' #' || export_seq::VARCHAR
    || CASE export_seq % 3 WHEN 0 THEN ' ｶﾞｲﾄﾞ ＬＩＮＥ' ELSE '' END
"""
QUERIES = [  # (label, TEXT, extra arguments)
    ("common word (予約)", "予約", []),
    ("rare: one chat's sequence number", "#4242", []),
    ("no match", "存在しない言葉", []),
    ("full-width query (ＬＩＮＥ) matching folded text", "ＬＩＮＥ", []),
    ("half-width kana (ｶﾞｲﾄﾞ) with --sender user", "ｶﾞｲﾄﾞ", ["--sender", "user"]),
    ("common word, one month (--from/--to)", "予約", ["--from", "2025-06-01", "--to", "2025-06-30"]),
]


def timed(argv: list[str], data_dir: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """Wall and CPU seconds of a child process (start-up and imports included), and its output's last line;
    `ok`: the exit codes that are not a failure."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["LINEOA_DATA_DIR"] = str(data_dir)
    log = data_dir.parent / "child.log"
    with open(log, "wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if os.waitstatus_to_exitcode(status) not in ok:
        raise SystemExit(f"{argv} failed: {lines[-5:]}")
    return wall, usage.ru_utime + usage.ru_stime, lines[-1] if lines else ""


def clock(fn, repeat: int = 1) -> tuple[float, float, object]:
    """Median wall and CPU seconds (this process, DuckDB's threads included) of `repeat` calls."""
    times, cpus, result = [], [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(times), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="1m")
    parser.add_argument("--out", type=Path, help="replace this size's section of this file (as run_bench.py does)")
    parser.add_argument("--keep", action="store_true", help="keep bench/out/search-<size>/")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--transcripts-only", action="store_true", help="only the transcripts, on a kept folder")
    only.add_argument("--search-only", action="store_true", help="the ingest and the searches, not the transcripts")
    args = parser.parse_args()
    chats, per_chat = SIZES[args.size]
    work = ROOT / "bench" / "out" / f"search-{args.size}"
    data_dir = DataDir(work / "data")
    lines = [f"## Search and transcripts, {args.size.upper()} messages ({chats:,} chats x {per_chat})", ""]

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    def ingest_and_search() -> None:
        gen = write_scale_inbox(data_dir.inbox, chats=chats, messages_per_chat=per_chat, as_zip=True)
        wall, cpu, last = timed([LINEOA, "run"], data_dir.root)
        say(f"- `lineoa run`, cold, with search side table and transcripts: {wall:.1f} s, {cpu:.1f} s CPU ({last})")

        with write_connection(data_dir) as conn:
            started = time.perf_counter()
            conn.execute(DISTINCT)
            conn.execute("DELETE FROM _search_months")
            say(f"- made {gen['messages']:,} contents distinct (bench only): {time.perf_counter() - started:.1f} s")
            seconds, cpu, rows = clock(lambda: index_months(conn, date(2000, 1, 1), date(2000, 1, 1)))
            say(f"- search side table, every month (cold): {seconds:.1f} s, {cpu:.1f} s CPU, {rows:,} rows to fold")
            last_month = (SCALE_START + timedelta(days=SCALE_SPAN_DAYS)).date().replace(day=1)
            seconds, cpu, rows = clock(lambda: index_months(conn, last_month, last_month))
            say(f"- search side table, one month (an incremental run): {seconds:.1f} s, {cpu:.1f} s CPU, {rows:,} rows")
        publish_snapshot(data_dir)
        sizes = {p.name: p.stat().st_size / 2**20 for p in (data_dir.warehouse, data_dir.snapshot)}
        say(f"- snapshot {sizes[data_dir.snapshot.name]:,.0f} MB")

        say("")
        say("| search | cold process: wall s | CPU s | warm, median of 5: wall s | CPU s | hits |")
        say("|---|--:|--:|--:|--:|--:|")
        with open_history(data_dir.root) as conn:
            for label, text, extra in QUERIES:
                # a search that finds nothing exits 1
                cold, cold_cpu, _ = timed([LINEOA, "search", text, "--json", *extra], data_dir.root, ok=(0, 1))
                filters = Filters(
                    sender=extra[1] if "--sender" in extra else None,
                    since=date.fromisoformat(extra[1]) if "--from" in extra else None,
                    until=date.fromisoformat(extra[3]) if "--to" in extra else None,
                )
                warm, warm_cpu, hits = clock(lambda t=text, f=filters: search(conn, t, f, 50), repeat=5)
                say(f"| {label} | {cold:.2f} | {cold_cpu:.2f} | {warm:.2f} | {warm_cpu:.2f} | {len(hits)} |")  # type: ignore

    def transcripts() -> None:
        say("")
        shutil.rmtree(transcripts_folder(data_dir), ignore_errors=True)
        seconds, cpu, report = clock(lambda: refresh_transcripts(data_dir, Settings()))
        say(f"- transcripts from scratch: {seconds:.1f} s, {cpu:.1f} s CPU, {report}")
        seconds, cpu, report = clock(lambda: refresh_transcripts(data_dir, Settings()))
        say(f"- transcripts, nothing changed: {seconds:.1f} s, {cpu:.1f} s CPU, {report}")
        manifest = (transcripts_folder(data_dir) / MANIFEST).read_bytes()
        write_scale_inbox(
            data_dir.inbox / "next",
            chats=chats,
            messages_per_chat=per_chat,
            as_zip=True,
            downloaded_at=SCALE_START + timedelta(days=SCALE_SPAN_DAYS + 7),
        )
        wall, cpu, last = timed([LINEOA, "run"], data_dir.root)
        say(f"- `lineoa run` with next week's backup: {wall:.1f} s, {cpu:.1f} s CPU ({last})")
        (transcripts_folder(data_dir) / MANIFEST).write_bytes(manifest)  # as before that run: the refresh alone
        seconds, cpu, report = clock(lambda: refresh_transcripts(data_dir, Settings()))
        say(f"- transcripts after next week's backup (incremental): {seconds:.1f} s, {cpu:.1f} s CPU, {report}")

    if args.transcripts_only:
        say("(the transcripts only, on the data directory a previous `--keep` left)")
    else:
        shutil.rmtree(work, ignore_errors=True)
        ingest_and_search()
    if not args.search_only:
        transcripts()
    say(f"\nload average at the end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    say(f"Measured on {machine()}.")
    (work.parent / f"search-{args.size}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.out:
        write_doc(args.out, "\n".join(lines) + "\n")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
