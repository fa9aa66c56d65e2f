"""The user's reference, `docs/reference.md`, generated from the code so that it cannot drift from it.

    python -m lineoa_pipeline.commands.reference > docs/reference.md

Tables and views come from their files' front matter (`sql/tables/`, `sql/views/`),
settings from the defaults in `settings.py`, commands from the argument parser of `cli.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from lineoa_pipeline.commands.cli import build_parser
from lineoa_pipeline.ingest.tags_media import MANIFEST_COLUMNS, TAG_COLUMNS
from lineoa_pipeline.line_export.formats import PLACEHOLDERS
from lineoa_pipeline.settings.config import CHAT_TYPES, MESSAGE_KINDS, WEEKDAYS, Settings
from lineoa_pipeline.settings.language import LANGUAGES
from lineoa_pipeline.warehouse.tables import TABLE_SPECS
from lineoa_pipeline.warehouse.views import VIEW_SPECS, column_types

HELP_WIDTH = 100  # the commands' help as a terminal this wide shows it, whatever terminal generates the page


def _code(value: Any) -> str:
    """A default as lineoa.toml writes it."""
    return f"`{json.dumps(value, ensure_ascii=False)}`"


# Each key of lineoa.toml: its default as the code has it, and what it means.
_DEFAULTS = Settings()
_ACCOUNT = _DEFAULTS.defaults
SETTINGS: dict[str, tuple[str, str]] = {
    "timezone": (
        _code(_DEFAULTS.timezone),
        "Time zone of the monthly partitions and the schedules (global only); the easternmost of the accounts "
        "is safest.",
    ),
    "first_month": (
        '`"auto"`',
        'The first monthly partition (global only): `"auto"`, the first month with data (the current month '
        "before any), so the UI shows no month before the history; or a month, `YYYY-MM`. Messages before it "
        "are stored all the same.",
    ),
    "sla_minutes": (
        _code(_ACCOUNT.sla_minutes),
        "An inquiry answered within this many minutes of business time counts towards `within_sla`.",
    ),
    "auto_reply_names": (
        _code(list(_ACCOUNT.auto_reply_names)),
        "Account sender names that are auto replies (`sender_type` auto_reply): they neither ask nor answer.",
    ),
    "api_sender_names": (
        _code(list(_ACCOUNT.api_sender_names)),
        "Account sender names of messages sent through the Messaging API (`sender_type` api).",
    ),
    "api_answers": (
        _code(_ACCOUNT.api_answers),
        "`true` for an account whose staff chat through a Messaging API tool: its `api` messages (never a "
        "broadcast) answer inquiries as staff do, with `replied_by` their sender name.",
    ),
    "menu_texts": (
        _code(list(_ACCOUNT.menu_texts)),
        "Texts a rich-menu button sends as the user: a user message equal to one (after NFKC) is a `menu_tap`, "
        "which neither starts nor answers an inquiry. `frequent_user_texts` helps find them.",
    ),
    "broadcast_min_chats": (
        _code(_ACCOUNT.broadcast_min_chats),
        "An `api` message is a `broadcast` when `api` messages with the same content reach at least this many "
        "chats (an integer of 2 or more) within `broadcast_window_minutes` of it. A broadcast never answers.",
    ),
    "broadcast_window_minutes": (
        _code(_ACCOUNT.broadcast_window_minutes),
        "The window, in minutes either side of each `api` message, for `broadcast_min_chats` (1 or more).",
    ),
    "placeholders": (
        f"the {len(PLACEHOLDERS)} texts LINE writes, in Japanese, Traditional Chinese, English and Thai",
        "A table of placeholder text = kind, added to the built-in ones; a kind is one of "
        + ", ".join(MESSAGE_KINDS)
        + ".",
    ),
    "retention": (
        "; ".join(
            f"{chat_type}: text {r.text}, media {r.media}, file {r.file}, "
            f"warn {{ text = {r.warn_text}, media = {r.warn_media}, file = {r.warn_file} }}"
            for chat_type, r in _ACCOUNT.retention.items()
        ),
        "Per chat type (`[retention.one_to_one]`, `[retention.group]`): days LINE keeps `text`, `media` "
        "(photo, video, voice) and `file`, and `warn = { text, media, file }` days of warning before each "
        "cutoff. See [retention.md](retention.md) for presets.",
    ),
    "business_hours": (
        "none: every hour counts",
        "A table of weekday = list of `HH:MM-HH:MM` half-open ranges in local time ("
        + ", ".join(WEEKDAYS)
        + "; a weekday not listed is closed), and `holidays` = list of `YYYY-MM-DD` dates (closed all day). "
        "`business_seconds` and `within_sla` count only these hours. Without the table every hour counts "
        "and `business_seconds` equals `response_seconds`.",
    ),
    "chat_types": (
        _code(dict(_ACCOUNT.chat_types)),
        "A table of chat name = " + " or ".join(CHAT_TYPES) + ", overriding what the exports show.",
    ),
    "alert_names": (
        '`"plain"`',
        '`"masked"` sends chat names to every push channel (webhook, LINE, e-mail) as stable pseudonyms '
        "(`chat-` and 10 hexadecimal digits); `alerts.jsonl`, the terminal and the run log keep the real names.",
    ),
    "alerts": (
        "none: the webhook only, when `LINEOA_ALERT_WEBHOOK` is set",
        "A table (global only) of push channels for the alert digest: `line_to` (LINE user or group IDs; a "
        "Messaging API push to each, with the channel access token from `LINEOA_LINE_CHANNEL_TOKEN`), "
        '`line_api` (`"https://api.line.me"`: the Messaging API host; plain http only to this machine), '
        "`email_to` (addresses: one e-mail over SMTP with STARTTLS, never in clear), `smtp_host` (required "
        "with `email_to`), `smtp_port` (587), `email_from` (the sender; default `LINEOA_SMTP_USER`). The SMTP "
        "login comes from `LINEOA_SMTP_USER` and `LINEOA_SMTP_PASSWORD`. Secrets never come from this file.",
    ),
    "language": (
        _code(_DEFAULTS.language),
        "The language of the command line and the alerts: "
        + ", ".join(f"`{code}`" for code in LANGUAGES)
        + ", or `auto`: the locale (`LC_ALL`, else `LC_MESSAGES`, else `LANG`), English when it is another "
        'language. Under `[accounts."name"]` it is the language of that account\'s pages and exports instead '
        "(default: the UI language of its latest export, from the export's header; `--lang` on `show` and "
        "`export` overrides both).",
    ),
    "ui_allowed_hosts": (
        "`[]`",
        "Host names (or addresses) `lineoa ui` answers besides loopback names and its `--host`: the name other "
        "machines or a proxy reach it by. A request naming any other host is refused (DNS rebinding).",
    ),
    "accounts": (
        "none",
        '`[accounts."name"]` (the exact `account_name`) overrides for one account any key above but '
        "`timezone` and `first_month`: a list or a single value replaces the global one; a table "
        "(`retention`, `business_hours`, `placeholders`, `chat_types`) is merged key by key with the "
        "global table, so a key the account does not set keeps the global value.",
    ),
    "warehouse": (
        "none: the embedded `warehouse.duckdb`",
        "A table (global only) that keeps the warehouse in a DuckLake instead: `catalog` (required, "
        '`"postgres:dbname=… host=… user=…"`, libpq keywords or a URI; a password in any form is refused, use '
        "`PGPASSWORD` or `~/.pgpass`), `data_path` (required; where the Parquet goes, relative to the data "
        "directory unless absolute: a relative path out of it and `/` are refused), `writers` (default 2: runs "
        "that may write at once, the Dagster write pool's limit, and the "
        "accounts a run stages at once) and `keep_snapshots_days` (default 30: older snapshots are expired by the "
        "nightly maintenance). `lineoa migrate --to-lake` copies an existing warehouse into it.",
    ),
}

MANIFEST: dict[str, str] = {
    "account_name": "The account, as its exports name it.",
    "chat_name": "The chat, as the export's file name or the chat screen names it (matched after NFKC, "
    "without white space and brackets).",
    "sent_at": "When the placeholder message was sent: ISO 8601 with its UTC offset (`2026-03-04T10:00:00+09:00`).",
    "kind": "photo, video, voice or file.",
    "file": "The file's path relative to the manifest (it must stay inside `media/`).",
    "sha256": "SHA-256 of the file, 64 hexadecimal digits.",
    "bytes": "The file's size.",
}
TAGS: dict[str, str] = {
    "account_name": "The account, as its exports name it.",
    "chat_name": "The chat, named as in a media manifest.",
    "tag": "Any text; a chat may have several tags (one row each).",
}


def render() -> str:
    out = [
        "# lineoa_pipeline reference",
        "",
        "Generated from the code by `python -m lineoa_pipeline.commands.reference > docs/reference.md`; do not edit by "
        "hand. The warehouse's tables and views, every setting of `lineoa.toml`, every command, and the CSV "
        "files the pipeline reads beside the exports.",
        "",
        "## Tables",
        "",
    ]
    types = column_types()
    for table in TABLE_SPECS:
        out += _relation(table.name, table.description, _typed(table.columns, types[table.name]))
    out += ["## Views", ""]
    for view in VIEW_SPECS:
        reads = f" Reads {', '.join(f'`{r}`' for r in view.reads)}."
        out += _relation(view.name, view.description + reads, _typed(view.columns, types[view.name]))
    out += [
        "## Settings: `lineoa.toml`",
        "",
        "The file sits in the data directory. Every key is optional; without the file every default holds. An "
        "unknown key, a malformed range or a negative number stops every command with a message naming the "
        "key. Settings apply to every month from the next run on: those that classify messages (sender "
        "names, placeholders, chat types) by rewriting the months they change, the others through the views.",
        "",
        "| key | default | meaning |",
        "|---|---|---|",
    ]
    out += [f"| `{key}` | {default} | {meaning} |" for key, (default, meaning) in SETTINGS.items()]
    out += ["", "## Commands", ""]
    for name, sub in _commands(build_parser()).items():
        out += [f"### `lineoa {name}`", "", "```text", _help(sub).rstrip(), "```", ""]
    out += [
        "## Media manifests: `media/**/*manifest*.csv`",
        "",
        "UTF-8 CSV with a header naming these columns (in any order); every value is required. A row that "
        "cannot be read, or whose file points outside `media/`, goes to `rejected_rows`.",
        "",
        *_columns(MANIFEST, MANIFEST_COLUMNS),
        "## Chat tags: `tags/*.csv`",
        "",
        "UTF-8 CSV with a header naming these columns (in any order); every value is required.",
        "",
        *_columns(TAGS, TAG_COLUMNS),
    ]
    return "\n".join(out).rstrip() + "\n"


def _typed(meanings: Mapping[str, str], types: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each column of a table or view, in the warehouse's order, with its type and meaning."""
    return {column: (dtype, meanings.get(column, "")) for column, dtype in types.items()}


def _relation(name: str, description: str, columns: dict[str, tuple[str, str]]) -> list[str]:
    rows = [f"| `{c}` | {t} | {meaning} |" for c, (t, meaning) in columns.items()]
    return [f"### `{name}`", "", description, "", "| column | type | meaning |", "|---|---|---|", *rows, ""]


def _columns(meanings: dict[str, str], columns: tuple[str, ...]) -> list[str]:
    """The CSV's columns (as the loader requires them), each with its meaning."""
    return ["| column | meaning |", "|---|---|", *(f"| `{c}` | {meanings[c]} |" for c in columns), ""]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    # argparse keeps the sub-commands in its sub-parsers action; it has no public accessor for them.
    # A command with commands of its own (`media`) is listed as each of them (`media pending`, `media save`).
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: dict[str, argparse.ArgumentParser] = {}
    for name, sub in action.choices.items():
        nested = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
        found |= {f"{name} {inner}": p for inner, p in _commands(sub).items()} if nested else {name: sub}
    return found


def _help(parser: argparse.ArgumentParser) -> str:
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_WIDTH)  # argparse wraps at the terminal's width
    try:
        return parser.format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


if __name__ == "__main__":
    sys.stdout.write(render())
