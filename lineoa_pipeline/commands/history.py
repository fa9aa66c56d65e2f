"""`lineoa search | show | export`: read the history back from the published warehouse (never waits for a run).

Registered on the command line's parser by `add_history_commands`; this module stays light to import, the
work is imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from lineoa_pipeline.commands.words import failed
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import LANGUAGES, N_, Language

HISTORY_COMMANDS = ("search", "show", "export")
MAX_LIMIT = 1_000_000_000  # `--limit`: beyond any warehouse, within DuckDB's LIMIT
SENDER_TYPES = ("user", "staff", "auto_reply", "api", "broadcast")


def add_history_commands(commands: argparse._SubParsersAction, lang: Language) -> None:
    search = add_command(
        commands,
        "search",
        N_("messages whose content contains TEXT (NFKC, case-folded), newest first"),
        EXIT_CODES["search"],
        lang,
    )
    search.add_argument(
        "text", metavar="TEXT", help=lang.gettext("what to look for (full-width, half-width and case ignored)")
    )
    search.add_argument("--account", help=lang.gettext("only this account (exact name)"))
    search.add_argument("--chat", help=lang.gettext("only this chat (white space, brackets and width ignored)"))
    search.add_argument("--sender", choices=SENDER_TYPES, help=lang.gettext("only messages of this sender type"))
    _dates(search, lang)
    search.add_argument(
        "--limit", type=_positive, default=50, help=lang.gettext("at most this many messages (default 50)")
    )
    search.add_argument("--json", action="store_true", help=lang.gettext("print JSON instead of lines"))

    show = add_command(
        commands, "show", N_("one chat's transcript, with a line per local date"), EXIT_CODES["show"], lang
    )
    show.add_argument("--account", required=True, help=lang.gettext("the account (exact name)"))
    show.add_argument("--chat", required=True, help=lang.gettext("the chat (white space, brackets and width ignored)"))
    _dates(show, lang)
    _lang(show, lang)

    export = add_command(
        commands,
        "export",
        N_("the history as HTML pages like the LINE chat screen, xlsx or csv"),
        EXIT_CODES["export"],
        lang,
    )
    export.add_argument(
        "--out",
        required=True,
        type=Path,
        help=lang.gettext("folder to write into: new, empty, or an earlier export (replaced whole)"),
    )
    export.add_argument("--account", help=lang.gettext("only this account (exact name)"))
    export.add_argument("--chat", help=lang.gettext("only this chat (white space, brackets and width ignored)"))
    export.add_argument("--format", choices=("html", "xlsx", "csv"), default="html", help=lang.gettext("default: html"))
    export.add_argument(
        "--mask", action="store_true", help=lang.gettext("replace customer names, phones, e-mails and URLs")
    )
    _lang(export, lang)


def run_history_command(args: argparse.Namespace, data_dir: DataDir, settings: Settings, lang: Language) -> int:
    from lineoa_pipeline.history.reader import Filters, open_history
    from lineoa_pipeline.warehouse.connection import NoWarehouseYet

    filters = Filters(
        account=args.account,
        chat=args.chat,
        sender=getattr(args, "sender", None),
        since=getattr(args, "since", None),
        until=getattr(args, "until", None),
    )
    out = sys.stdout
    try:
        if args.command == "export":
            from lineoa_pipeline.history.export import NothingToExport, export
            from lineoa_pipeline.history.output import OutNotAnExport

            try:
                written = export(
                    data_dir, args.out, args.format, filters, args.mask, settings=settings, lang=args.lang, said=lang
                )
                print(written, file=out)
            except OutNotAnExport as exc:
                return failed(exc, lang, 2)
            except NothingToExport as exc:
                return failed(exc, lang, 1)
            return 0
        with open_history(data_dir.root) as conn:
            if args.command == "search":
                from lineoa_pipeline.history.search import hits_json, hits_text, search

                try:
                    hits = search(conn, args.text, filters, args.limit)
                except ValueError as exc:
                    print(f"lineoa search: {exc}", file=sys.stderr)
                    return 2
                if args.json:
                    print(hits_json(hits), file=out)
                elif hits:
                    print(hits_text(hits, args.text, highlight=out.isatty()), file=out)
                if not hits:
                    return failed(lang.gettext("search: no message contains {text}", text=repr(args.text)), lang, 1)
                return 0
            from lineoa_pipeline.history.labels import account_languages
            from lineoa_pipeline.history.terminal import printable_lines
            from lineoa_pipeline.history.transcript import select_messages, show_text, transcript

            languages = account_languages(conn, settings, args.lang)
            select_messages(conn, filters, languages)
            shown = 0
            for line in show_text(transcript(conn), str(data_dir.media), languages):
                print(printable_lines(line), file=out)
                shown += 1
            if not shown:
                text = lang.gettext(
                    "show: no messages of chat {chat} in account {account}",
                    chat=repr(args.chat),
                    account=repr(args.account),
                )
                return failed(text, lang, 1)
            return 0
    except NoWarehouseYet as exc:
        return failed(exc, lang, 1)


EXIT_CODES = {
    "search": N_(
        "0 with the messages found; 1 when none is found (or no warehouse yet); "
        "2 for an empty TEXT, a bad setting or bad arguments."
    ),
    "show": N_("0 with the transcript; 1 when the chat has no messages (or no warehouse yet); 2 for bad arguments."),
    "export": N_(
        "0 once every file is written; 1 when no message matches (nothing is written) or before the first "
        "run (no warehouse yet); 2 for bad arguments, or an --out that is neither empty nor an earlier export."
    ),
}


def add_command(
    commands: argparse._SubParsersAction, name: str, text: str, exit_codes: str, lang: Language
) -> argparse.ArgumentParser:
    """A command `name` whose help is `text` and whose exit status is `exit_codes` (catalog strings), in `lang`;
    with `--data-dir` (demo's own)."""
    shown = lang.gettext(text)
    epilog = lang.gettext("exit status: {codes}", codes=lang.gettext(exit_codes))
    sub = commands.add_parser(name, help=shown, description=shown, epilog=epilog)
    if name == "demo":
        sub.add_argument("--data-dir", help=lang.gettext("where to write it (default: demo-data/ in the project)"))
    else:
        sub.add_argument("--data-dir", help=lang.gettext("data directory (default: $LINEOA_DATA_DIR, else data/)"))
    return sub


def _dates(parser: argparse.ArgumentParser, lang: Language) -> None:
    parser.add_argument(
        "--from", dest="since", type=_date, help=lang.gettext("first local date, YYYY-MM-DD (inclusive)")
    )
    parser.add_argument("--to", dest="until", type=_date, help=lang.gettext("last local date, YYYY-MM-DD (inclusive)"))


def _lang(parser: argparse.ArgumentParser, lang: Language) -> None:
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help=lang.gettext(
            "the language of dates and labels (default: each account's [accounts] language, else that of its exports)"
        ),
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"not a whole number from 1 to {MAX_LIMIT:,}: {text!r}")
    return int(text)
