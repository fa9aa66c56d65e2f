"""`lineoa run | status | demo | rebuild | ui`: parse arguments, then run the Dagster jobs in-process."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime

from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.settings import SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lineoa", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "ingest the inbox and refresh every month it touches"),
        ("demo", "write a realistic sample data directory and run the pipeline on it"),
        ("rebuild", "recreate the warehouse from archive/ alone"),
        ("status", "coverage, alerts and when to back up next"),
        ("ui", "the Dagster UI (dagster dev) on this data directory and the instance the commands record in"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--data-dir", help="data directory (default: $LINEOA_DATA_DIR, else data/)")
        if name in ("run", "demo", "rebuild"):
            sub.add_argument("--verbose", action="store_true", help="show Dagster's own log lines")
        if name == "ui":
            sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
            sub.add_argument("--port", type=int, default=3000, help="port to listen on (default: 3000)")
        if name == "status":
            sub.add_argument(
                "--as-of",
                type=_instant,
                help="ISO-8601 time (default: now); without an offset it is in the settings' time zone",
            )
            sub.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    data_dir = DataDir.resolve(args.data_dir)
    try:
        load_settings(data_dir.settings_file)
    except SettingsError as exc:
        print(f"lineoa: bad setting in {data_dir.settings_file}: {exc}", file=sys.stderr)
        return 2
    if args.command == "status":
        from lineoa_pipeline.status_cmd import run_status
        from lineoa_pipeline.warehouse import NoWarehouseYet

        try:
            run_status(data_dir, args.as_of, args.json, sys.stdout.buffer)
        except NoWarehouseYet as exc:
            print(f"lineoa: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "ui":
        from lineoa_pipeline.instance import serve_ui

        serve_ui(data_dir, args.host, args.port)
    if args.command == "demo":
        from lineoa_pipeline.demo import write_demo_data

        write_demo_data(data_dir.root)
        print(f"demo data written to {data_dir.root}")
    from lineoa_pipeline.runner import rebuild_warehouse, run_pipeline

    started = time.monotonic()
    run = rebuild_warehouse if args.command == "rebuild" else run_pipeline
    summary = run(data_dir, verbose=args.verbose)
    print(f"{summary}; took {time.monotonic() - started:.1f} s")
    if summary.advice:
        print(f"note: {summary.advice}")
    return 0 if summary.ok else 1


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r} (e.g. 2026-03-01T09:00:00+09:00)") from None


if __name__ == "__main__":
    sys.exit(main())
