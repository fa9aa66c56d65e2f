"""`lineoa media pending | save`: the photos, videos, voice messages and files LINE will delete, and saving
one of them. Every sentence it prints is a template in `TEXTS`."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from lineoa_pipeline.commands.words import failed
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import N_, Language

if TYPE_CHECKING:
    from lineoa_pipeline.retention.media import SaveRefused
    from lineoa_pipeline.retention.status import MediaStatus

EXIT_CODES = {
    "media pending": N_(
        "0 with the list (empty included); 1 before the first run (no warehouse yet); 2 for bad arguments."
    ),
    "media save": N_(
        "0 when saved; 1 when the time matches no placeholder, several (give --index), one already "
        "saved, or no warehouse yet; 2 for bad arguments."
    ),
}
COLUMNS = ("account_name", "chat_name", "sent_at", "kind", "status", "expires_at")
TEXTS = {
    "none": N_(
        "no photo, video, voice message or file of chat {chat!r} in account {account!r} was sent at {sent}: "
        "`lineoa media pending --account ACCOUNT` lists them with their times"
    ),
    "several": N_(
        "{count} placeholders of chat {chat!r} were sent at {sent}: give --index N (1 to {count}, in the "
        "order the chat shows them)"
    ),
    "index": N_("--index {index} is out of range: {count} placeholders of chat {chat!r} were sent at {sent}"),
    "saved": N_("the {kind} sent in {chat} at {when} is saved already"),
    "earlier": N_(
        "within one second files pair with placeholders in order: save --index {index} (the earlier "
        "{kind} of that second) first"
    ),
    "candidate": N_("  {index}. {kind} sent at {when}, {status}"),
    "done": N_(
        "saved {file} as the {kind} sent in {chat} at {when} (LINE deletes it at {deadline}); the next "
        "`lineoa run` verifies it and marks it saved"
    ),
    "empty": N_("nothing to save: every photo, video, voice message and file is saved"),
    "missing_file": N_("{file}: no such file"),
}
HEADER = (N_("deadline"), N_("status"), N_("kind"), N_("sent"), N_("chat"), N_("account"))


def add_media_commands(commands: argparse._SubParsersAction, lang: Language) -> None:
    media = commands.add_parser("media", help=lang.gettext("media LINE deletes: list them, save one"))
    actions = media.add_subparsers(dest="media_command", required=True)
    pending = actions.add_parser(
        "pending",
        help=lang.gettext("every placeholder not saved, soonest deadline first"),
        description=lang.gettext("every photo, video, voice message and file not saved, soonest deadline first"),
        epilog=lang.gettext("exit status: {codes}", codes=lang.gettext(EXIT_CODES["media pending"])),
    )
    pending.add_argument("--data-dir", help=lang.gettext("data directory (default: $LINEOA_DATA_DIR, else data/)"))
    pending.add_argument("--account", help=lang.gettext("only this account (exact name)"))
    pending.add_argument(
        "--within", type=_days, metavar="DAYS", help=lang.gettext("only those LINE deletes within DAYS days")
    )
    form = pending.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help=lang.gettext("print JSON"))
    form.add_argument("--csv", action="store_true", help=lang.gettext("print CSV (UTF-8)"))
    save = actions.add_parser(
        "save",
        help=lang.gettext("copy a downloaded file into media/ and record it for its placeholder"),
        description=lang.gettext(
            "copy FILE into media/<account>/<chat>/, record its SHA-256 and size in "
            "media/lineoa-manifest.csv; the next run marks the matching placeholder saved"
        ),
        epilog=lang.gettext("exit status: {codes}", codes=lang.gettext(EXIT_CODES["media save"])),
    )
    save.add_argument(
        "file", type=Path, metavar="FILE", help=lang.gettext("the downloaded photo, video, voice message or file")
    )
    save.add_argument("--data-dir", help=lang.gettext("data directory (default: $LINEOA_DATA_DIR, else data/)"))
    save.add_argument("--account", required=True, help=lang.gettext("the account (exact name)"))
    save.add_argument("--chat", required=True, help=lang.gettext("the chat (white space, brackets and width ignored)"))
    save.add_argument(
        "--sent", required=True, type=_sent, help=lang.gettext('local time it was sent: "YYYY-MM-DD HH:MM[:SS]"')
    )
    save.add_argument(
        "--index", type=int, help=lang.gettext("which one, when several were sent at that time (1-based)")
    )


def run_media_command(args: argparse.Namespace, data_dir: DataDir, lang: Language) -> int:
    from lineoa_pipeline.line_export.names import name_key
    from lineoa_pipeline.retention.media import SaveRefused, choose, save
    from lineoa_pipeline.retention.status import pending_media, placeholders_at
    from lineoa_pipeline.settings.config import load_settings
    from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect

    out = sys.stdout
    settings = load_settings(data_dir.settings_file)
    now = datetime.now(ZoneInfo(settings.timezone))
    if args.media_command == "save" and not args.file.is_file():
        return failed(lang.gettext(TEXTS["missing_file"], file=str(args.file)), lang, 2)
    try:
        conn = connect(data_dir.root)
    except NoWarehouseYet as exc:
        return failed(exc, lang, 1)
    try:
        if args.media_command == "pending":
            within = timedelta(days=args.within) if args.within is not None else None
            _print_pending(pending_media(conn, settings, now, args.account, within), args, out, lang)
            return 0
        sent, precision = args.sent
        found = placeholders_at(conn, settings, now, args.account, name_key(args.chat), sent, sent + precision)
    finally:
        conn.close()
    shown = f"{sent:%Y-%m-%d %H:%M:%S}" if precision.total_seconds() == 1 else f"{sent:%Y-%m-%d %H:%M}"
    try:
        chosen = choose(found, args.file.name, args.index)
    except SaveRefused as refused:
        lines = [_refusal(refused, args, shown, lang)]
        lines += [
            lang.gettext(TEXTS["candidate"], index=n, kind=c.kind, when=_when(c.sent_at), status=c.status)
            for n, c in enumerate(refused.candidates, start=1)
        ]
        return failed("\n".join(lines), lang, 1)
    target = save(data_dir, args.file, chosen)
    print(
        lang.gettext(
            TEXTS["done"],
            file=str(target.relative_to(data_dir.root)),
            kind=chosen.kind,
            chat=chosen.chat_name,
            when=_when(chosen.sent_at),
            deadline=_when(chosen.expires_at),
        ),
        file=out,
    )
    return 0


def _refusal(refused: SaveRefused, args: argparse.Namespace, shown: str, lang: Language) -> str:
    candidates, index = refused.candidates, refused.index
    chosen = candidates[index - 1] if index and 1 <= index <= len(candidates) else None
    return lang.gettext(
        TEXTS[refused.reason],
        chat=args.chat,
        account=args.account,
        sent=shown,
        count=len(candidates),
        index=index,
        kind=chosen.kind if chosen else "",
        when=_when(chosen.sent_at) if chosen else "",
    )


def _print_pending(pending: list[MediaStatus], args: argparse.Namespace, out: TextIO, lang: Language) -> None:
    rows = [
        {
            "account_name": m.account_name,
            "chat_name": m.chat_name,
            "sent_at": m.sent_at.isoformat(),
            "kind": m.kind,
            "status": m.status,
            "expires_at": m.expires_at.isoformat(),
        }
        for m in pending
    ]
    if args.json:
        json.dump(rows, out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif args.csv:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    elif not rows:
        print(lang.gettext(TEXTS["empty"]), file=out)
    else:
        from lineoa_pipeline.commands.status import columns

        table = [tuple(lang.gettext(title) for title in HEADER)]
        table += [
            (_when(m.expires_at), m.status, m.kind, _when(m.sent_at), m.chat_name, m.account_name) for m in pending
        ]
        print("\n".join(columns(table, indent=0)), file=out)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} {moment.isoformat()[-6:]}"


def _days(text: str) -> int:
    if not text.isdigit() or int(text) > 36_500:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}")
    return int(text)


def _sent(text: str) -> tuple[datetime, timedelta]:
    """The local time and its precision: to the second when seconds are given, else the whole minute."""
    for form, precision in (("%Y-%m-%d %H:%M:%S", timedelta(seconds=1)), ("%Y-%m-%d %H:%M", timedelta(minutes=1))):
        try:
            return datetime.strptime(text.strip(), form), precision
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f'expected "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS", got {text!r}')
