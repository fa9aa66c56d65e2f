"""Writes chat exports byte for byte as LINE Official Account Manager does (the format, not the content).

`render_export` writes one chat's CSV, `write_bulk_zip` a bulk backup. The made-up conversations and the
scale generator that fill them live in `lineoa_pipeline.synthetic`. Pure Python: no Dagster.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from lineoa_pipeline.line_export.formats import INJECTION_LEADS, LANGUAGES, NAME_BRACKETS


@dataclass(frozen=True)
class ChatMessage:
    """One row of an export. `sent_at` is naive local time in the export's time zone; `content` uses `\\n`."""

    sender_type: str  # as written: "User" or "Account"
    sender_name: str
    sent_at: datetime
    content: str


_TZ_OFFSET = re.compile(r"[+-]\d\d:\d\d")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_field(value: str) -> str:
    """One CSV field: injection guard, CRLF line breaks, RFC 4180 quoting."""
    if value[:1] in INJECTION_LEADS:
        value = "'" + value
    value = _LINE_BREAK.sub("\r\n", value)
    if _NEEDS_QUOTES.search(value):
        value = '"' + value.replace('"', '""') + '"'
    return value


def _row(fields: Sequence[str]) -> str:
    return ",".join(map(csv_field, fields)) + "\r\n"


def _date(when: datetime, excel: bool) -> str:
    return f"{when.year}/{when.month}/{when.day}" if excel else f"{when:%Y/%m/%d}"


def _time(when: datetime, excel: bool) -> str:
    return f"{when.hour}:{when:%M:%S}" if excel else f"{when:%H:%M:%S}"


def _download_time(when: datetime, excel: bool) -> str:
    return f"{_date(when, excel)} {when.hour}:{when:%M}" if excel else f"{when:%Y/%m/%d %H:%M}"


def preamble(account_name: str, lang: str, tz_offset: str, downloaded_at: datetime, excel: bool) -> str:
    """The three metadata rows and the header."""
    if not _TZ_OFFSET.fullmatch(tz_offset):
        raise ValueError(f"time zone offset must look like +09:00, not {tz_offset!r}")
    labels = LANGUAGES[lang]
    return (
        _row((labels.account_label, account_name))
        + _row((labels.timezone_label, tz_offset))
        + _row((labels.downloaded_label, _download_time(downloaded_at, excel)))
        + _row(labels.header)
    )


def render_export(
    account_name: str,
    messages: Sequence[ChatMessage],
    *,
    lang: str = "ja",
    tz_offset: str = "+09:00",
    downloaded_at: datetime,
    excel: bool = False,
) -> bytes:
    """One chat's export as LINE writes it: UTF-8 with a BOM, CRLF, RFC 4180 quoting, injection guard.

    `downloaded_at` is naive local time. `excel=True` gives the file after an Excel round trip: no BOM, the
    language's legacy code page (UnicodeEncodeError for text it cannot hold), dates and hours unpadded.
    """
    text = preamble(account_name, lang, tz_offset, downloaded_at, excel) + "".join(
        _row((m.sender_type, m.sender_name, _date(m.sent_at, excel), _time(m.sent_at, excel), m.content))
        for m in messages
    )
    return text.encode(LANGUAGES[lang].legacy_encoding) if excel else ("\ufeff" + text).encode("utf-8")


def export_file_name(chat_name: str, first: date | None, last: date | None, index: int | None = None) -> str:
    """`[NNNNN_][YYYYMMDD_YYYYMMDD_]<chat name>.csv`, with white space and brackets removed from the name."""
    stem = "".join(c for c in chat_name if not c.isspace() and c not in NAME_BRACKETS)
    if not stem or "/" in stem or "\\" in stem:
        raise ValueError(f"chat name {chat_name!r} cannot be a file name")
    if (first is None) != (last is None):
        raise ValueError("give both ends of the date range or neither")
    parts = [] if index is None else [f"{index:05d}"]
    if first is not None and last is not None:
        parts += [f"{first:%Y%m%d}", f"{last:%Y%m%d}"]
    return "_".join([*parts, stem]) + ".csv"


def zip_member(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, when.hour, when.minute, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def write_bulk_zip(
    path: Path,
    account_name: str,
    chats: Mapping[str, Sequence[ChatMessage]],
    *,
    lang: str = "ja",
    tz_offset: str = "+09:00",
    downloaded_at: datetime,
) -> Path:
    """A bulk backup: one CSV per chat (keys are chat display names), numbered in mapping order from 00001.

    A chat without messages gets a header-only file without a date range. Deterministic given its inputs.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for index, (chat_name, messages) in enumerate(chats.items(), start=1):
            days = [m.sent_at.date() for m in messages]
            first, last = (min(days), max(days)) if days else (None, None)
            data = render_export(account_name, messages, lang=lang, tz_offset=tz_offset, downloaded_at=downloaded_at)
            archive.writestr(zip_member(export_file_name(chat_name, first, last, index), downloaded_at), data)
    return path
