"""`lineoa run | status | demo | rebuild | ui | notebook | migrate | search | show | export | media`: parse
arguments, then run the command."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime

from lineoa_pipeline.commands import signals
from lineoa_pipeline.commands.history import EXIT_CODES as HISTORY_EXIT_CODES
from lineoa_pipeline.commands.history import HISTORY_COMMANDS, add_command, add_history_commands, run_history_command
from lineoa_pipeline.commands.media import EXIT_CODES as MEDIA_EXIT_CODES
from lineoa_pipeline.commands.media import add_media_commands, run_media_command
from lineoa_pipeline.commands.words import failed, speaking
from lineoa_pipeline.settings.config import (
    WEBHOOK_ENV,
    Settings,
    SettingsError,
    WebhookError,
    load_settings,
    webhook_url,
)
from lineoa_pipeline.settings.datadir import DEMO_DIR, DataDir, keep_private
from lineoa_pipeline.settings.language import AUTO, ENGLISH, N_, Language, Told, operator_language
from lineoa_pipeline.warehouse import lake

_RUN_EXIT = N_(
    "0 when every step succeeded (a quarantined file, a rejected row or a retention alert is not a failure); "
    "1 when a step failed; 2 for a bad setting in lineoa.toml or bad arguments; 130 (143) when SIGINT (SIGTERM) "
    "ended it, nothing half-loaded."
)
EXIT_CODES = {
    "run": _RUN_EXIT,
    "demo": _RUN_EXIT,
    "rebuild": _RUN_EXIT,
    "ui": N_(
        "130 (143) when stopped by Ctrl-C (SIGTERM); 1 when the port is in use; 2 for a host other machines "
        "reach without --read-only or --allow-remote-control, a bad setting or bad arguments."
    ),
    "notebook": N_(
        "does not return while JupyterLab runs; 1 when JupyterLab and JupySQL are not installed and were "
        "not installed now; 2 for a bad setting or bad arguments."
    ),
    "status": N_("0 with the report; 1 before the first run (no warehouse yet); 2 for a bad setting or bad arguments."),
    "migrate": N_(
        "0 when copied; 1 with no [warehouse], no embedded warehouse, a lake not empty or unreachable; "
        "2 for a bad setting or bad arguments."
    ),
    **HISTORY_EXIT_CODES,
    **MEDIA_EXIT_CODES,
}
# Times the retention arithmetic (a century of days either side) can reach without overflowing.
AS_OF_YEARS = (2000, 2999)


class UsageError(Told):
    """An argument or environment variable that cannot be used: one line, exit status 2."""


COMMANDS = {
    "run": N_("ingest the inbox and refresh every month it touches"),
    "demo": N_("write a realistic sample data directory and run the pipeline on it"),
    "rebuild": N_("recreate the warehouse from archive/ alone"),
    "status": N_("coverage, alerts and when to back up next"),
    "ui": N_("the Dagster UI (dagster dev) on this data directory and the instance the commands record in"),
    "notebook": N_("JupyterLab on notebooks/, whose SQL cells read this data directory (installed on first use)"),
    "migrate": N_("copy the embedded warehouse.duckdb into the lake that [warehouse] names"),
}


def build_parser(lang: Language = ENGLISH) -> argparse.ArgumentParser:
    """The command line in `lang`: each command with its options and, in its help, its exit codes."""
    parser = argparse.ArgumentParser(
        prog="lineoa",
        description=lang.gettext(
            "the LINE Official Account chat history pipeline: run, status, demo, rebuild, ui, "
            "notebook, migrate, search, show, export, media"
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
        sub = add_command(commands, name, text, EXIT_CODES[name], lang)
        if name == "demo":
            sub.add_argument(
                "--force",
                action="store_true",
                help=lang.gettext("write into a data directory that already has an archive"),
            )
        if name in ("run", "demo", "rebuild"):
            sub.add_argument("--verbose", action="store_true", help=lang.gettext("show Dagster's own log lines"))
        if name == "ui":
            sub.add_argument(
                "--host", default="127.0.0.1", help=lang.gettext("address to listen on (default: 127.0.0.1)")
            )
            sub.add_argument("--port", type=int, default=3000, help=lang.gettext("port to listen on (default: 3000)"))
            sub.add_argument(
                "--read-only",
                action="store_true",
                help=lang.gettext("Dagster's read-only UI: no launches, no wipes, no toggles"),
            )
            sub.add_argument(
                "--allow-remote-control",
                action="store_true",
                help=lang.gettext(
                    "let a --host other machines reach launch runs and wipe history (the UI has no login)"
                ),
            )
        if name == "migrate":
            sub.add_argument(
                "--to-lake", action="store_true", required=True, help=lang.gettext("into the [warehouse] lake")
            )
        if name == "status":
            sub.add_argument(
                "--as-of",
                type=_instant,
                help=lang.gettext("ISO-8601 time (default: now); without an offset it is in the settings' time zone"),
            )
            sub.add_argument("--json", action="store_true", help=lang.gettext("print JSON instead of tables"))
    add_history_commands(commands, lang)  # search, show, export
    add_media_commands(commands, lang)  # media pending, media save
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command, ended in one line by SIGINT or SIGTERM (exit status 130 or 143) or by a closed pipe."""
    with signals.listening():
        try:
            status = _main(argv)
            if not signals.heard():
                return status
        except KeyboardInterrupt:
            pass
        except BrokenPipeError:  # `lineoa show | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            return 141
        print(signals.INTERRUPTED, file=sys.stderr)
        return signals.exit_status()


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    lang = _language_before_parsing(argv)
    with speaking(lang):
        parser = build_parser(lang)
        args = parser.parse_args(argv)
        if args.command == "search" and not args.text:
            parser.error(lang.gettext("search: TEXT must not be empty"))
    keep_private()
    try:
        data_dir = _data_dir(args)
        if args.command == "ui":
            _check_ui_host(args)
        webhook_url(os.environ.get(WEBHOOK_ENV))
    except (UsageError, WebhookError) as exc:
        return failed(exc, lang, 2)
    try:
        settings = load_settings(data_dir.settings_file)
    except SettingsError as exc:
        text = lang.gettext(
            "bad setting in {file}: {problem}", file=str(data_dir.settings_file), problem=exc.told(lang)
        )
        return failed(text, lang, 2)
    lang = operator_language(settings.language)
    try:
        return _command(args, data_dir, settings, lang)
    except lake.LakeUnreachable as exc:  # one line: the cause, never a password (secrets.redact)
        return failed(exc, lang, 1)


def _language_before_parsing(argv: Sequence[str]) -> Language:
    """The language of `--help` and of argparse's errors: the `language` setting of the data directory the
    arguments name (`--data-dir`, else $LINEOA_DATA_DIR, else data/) when it can be read, else the locale."""
    named = None
    for i, arg in enumerate(argv):
        if arg == "--data-dir" and i + 1 < len(argv):
            named = argv[i + 1]
        elif arg.startswith("--data-dir="):
            named = arg.split("=", 1)[1]
    try:
        setting = load_settings(DataDir.resolve(named).settings_file).language
    except (SettingsError, OSError):  # said once the arguments are parsed
        setting = AUTO
    return operator_language(setting)


def _command(args: argparse.Namespace, data_dir: DataDir, settings: Settings, lang: Language) -> int:
    if args.command == "migrate":
        from lineoa_pipeline.warehouse.connection import NoWarehouseYet, migrate_to_lake
        from lineoa_pipeline.warehouse.lake import LakeNotEmpty

        try:
            copied = migrate_to_lake(data_dir, on_wait=print)
        except (LakeNotEmpty, NoWarehouseYet, ValueError) as exc:
            return failed(exc, lang, 1)
        print(f"migrated into the lake: {copied.get('messages', 0):,} messages, {len(copied)} tables")
        return 0
    if args.command in HISTORY_COMMANDS:
        return run_history_command(args, data_dir, settings, lang)
    if args.command == "media":
        return run_media_command(args, data_dir, lang)
    if args.command == "notebook":
        from lineoa_pipeline.commands.notebook import NotebookUnavailable, ensure_group, open_notebook

        try:
            ensure_group(_agrees)
        except NotebookUnavailable as exc:
            return failed(exc, lang, 1)
        open_notebook(data_dir)
    if args.command == "status":
        from lineoa_pipeline.commands.status import run_status
        from lineoa_pipeline.warehouse.connection import NoWarehouseYet

        for warning in settings.warnings:  # a run says these in its log
            print(f"lineoa: warning: {warning}", file=sys.stderr)
        try:
            run_status(data_dir, args.as_of, args.json, sys.stdout.buffer)
        except NoWarehouseYet as exc:
            return failed(exc, lang, 1)
        return 0
    if args.command == "ui":
        return _ui(args, data_dir, settings, lang)
    if args.command in ("run", "rebuild") and settings.warehouse is not None:
        lake.open_lake(data_dir, settings.warehouse).close()  # unreachable: say so in one line, before any run
    from lineoa_pipeline.commands.run import (
        RebuildError,
        WarehouseBusy,
        ensure_not_held,
        rebuild_warehouse,
        run_pipeline,
    )

    if args.command == "demo":
        from lineoa_pipeline.commands.demo import DemoRefused, write_demo_data

        try:
            write_demo_data(data_dir.root, force=args.force)
        except DemoRefused as exc:
            return failed(exc, lang, 2)
        print(f"demo data written to {data_dir.root}")
    # Dagster's modules are hundreds of thousands of objects that live as long as the process: every full
    # collection during the run walked them all (~0.5 s of CPU of a weekly run at 1M messages).
    gc.freeze()
    started = time.monotonic()
    try:
        ensure_not_held(data_dir)
        run = rebuild_warehouse if args.command == "rebuild" else run_pipeline
        summary = run(data_dir, verbose=args.verbose)
    except (WarehouseBusy, RebuildError) as exc:
        return failed(exc, lang, 1)
    print(
        lang.gettext(
            "{summary}; took {seconds} s", summary=summary.describe(lang), seconds=f"{time.monotonic() - started:.1f}"
        )
    )
    if advice := summary.advice(lang):
        print(lang.gettext("note: {advice}", advice=advice))
    return 0 if summary.ok else 1


def _data_dir(args: argparse.Namespace) -> DataDir:
    """The data directory the command works on. A folder named by `--data-dir` or `LINEOA_DATA_DIR` must
    exist (a typo must not start an empty warehouse), except for `demo`, which makes its own."""
    # demo never takes $LINEOA_DATA_DIR: that is where real exports go
    chosen = DataDir.resolve(args.data_dir or DEMO_DIR) if args.command == "demo" else DataDir.resolve(args.data_dir)
    from_env = args.command != "demo" and os.environ.get("LINEOA_DATA_DIR")
    named = "--data-dir" if args.data_dir else "LINEOA_DATA_DIR" if from_env else ""
    root = chosen.root
    if root.exists() and not root.is_dir():
        if named:
            raise UsageError(N_("{name} {folder} is a file, not a folder"), name=named, folder=str(root))
        raise UsageError(N_("the data directory {folder} is a file, not a folder"), folder=str(root))
    if named and args.command != "demo" and not root.exists():  # the default data/ is made on first use
        raise UsageError(
            N_(
                "{name} {folder}: no such folder (create it and put exports in its inbox/, "
                "or try `lineoa demo --data-dir {folder}` for a sample)"
            ),
            name=named,
            folder=str(root),
        )
    return chosen


def _ui(args: argparse.Namespace, data_dir: DataDir, settings: Settings, lang: Language) -> int:
    """The port is taken first, so that a second `lineoa ui` on it ends at once, before Dagster loads."""
    from lineoa_pipeline.commands.ui_guard import PortInUse, listen

    try:
        listener = listen(args.host, args.port)
    except PortInUse as exc:
        return failed(exc, lang, 1)
    from lineoa_pipeline.commands.ui import Stopped, serve_ui

    try:
        serve_ui(listener, args.host, data_dir, read_only=args.read_only, allowed_hosts=settings.ui_allowed_hosts)
    except Stopped as exc:
        print(f"lineoa: ui stopped ({exc})", file=sys.stderr)
        return 128 + exc.signum
    return 0


def _check_ui_host(args: argparse.Namespace) -> None:
    from lineoa_pipeline.commands.ui_guard import refuse_remote_host

    refused = refuse_remote_host(args.host, args.read_only, args.allow_remote_control)
    if refused:
        raise UsageError(refused)


def _agrees(question: str) -> bool:
    """A yes (the default) to `question` on a terminal; no without one (cron, CI: nothing installs unasked)."""
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [Y/n] ").strip().lower() in ("", "y", "yes")


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r} (e.g. 2026-03-01T09:00:00+09:00)") from None
    first, last = AS_OF_YEARS
    if not first <= moment.year <= last:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: give a time between the years {first} and {last}")
    return moment


if __name__ == "__main__":
    sys.exit(main())
