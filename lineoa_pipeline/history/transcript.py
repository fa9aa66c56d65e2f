"""`lineoa show`: one chat's transcript in order, a line per local date, sender and local time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import duckdb

from lineoa_pipeline.history.labels import chat_type_label, prepare_labels
from lineoa_pipeline.history.mask import mask_texts, prepare_mask
from lineoa_pipeline.history.reader import Filters, query
from lineoa_pipeline.settings.language import Language
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, statements


@dataclass(frozen=True)
class Line:
    """One message as a reader shows it (names already masked when asked)."""

    account_name: str
    chat_name: str
    chat_type: str
    sender_type: str
    sender_name: str
    kind: str
    content: str
    local: datetime  # local time of the message's own file
    local_iso: str
    local_day: str  # the date line in the account's language: 2026/2/27(金), ศุกร์ 27/2/2026
    media_file: str | None  # the saved file, relative to media/


def select_messages(
    conn: duckdb.DuckDBPyConnection, filters: Filters, languages: dict[str, Language], mask: bool = False
) -> None:
    """Define the temp view `history_messages` over the messages `filters` select (`conn` from `open_history`),
    each account's date lines in `languages[account]` (`labels.account_languages`)."""
    prepare_mask(conn, mask, languages)
    prepare_labels(conn, languages)
    for statement in statements("history_view"):
        execute_with_literals(conn, statement, {**filters.params(), "mask": mask})
    if mask:
        mask_texts(conn, languages)


def transcript(conn: duckdb.DuckDBPyConnection) -> Iterator[Line]:
    """The lines of `history_messages`, chat by chat, each in message order."""
    result = query(conn, "history_lines", {})
    while rows := result.fetchmany(10_000):
        yield from (Line(*row) for row in rows)


def show_text(lines: Iterator[Line], media_root: str, languages: dict[str, Language]) -> Iterator[str]:
    """The transcript as text: a heading per chat (its type in the account's language), a line per local
    date, `HH:MM sender: content`; a saved media placeholder names its file under `media_root`."""
    chat, day = None, None
    for line in lines:
        if (line.account_name, line.chat_name) != chat:
            chat, day = (line.account_name, line.chat_name), None
            chat_type = chat_type_label(languages[line.account_name], line.chat_type)
            yield f"{line.chat_name}  ({line.account_name}, {chat_type})"
        if line.local.date() != day:
            day = line.local.date()
            yield f"――― {line.local_day} ―――"
        who = line.sender_name if line.sender_type in ("user", "staff") else f"{line.sender_name} [{line.sender_type}]"
        text = line.content.replace("\n", "\n" + " " * 8)
        if line.media_file:
            text += f"  → {media_root}/{line.media_file}"
        yield f"{line.local:%H:%M:%S}  {who}: {text}"
