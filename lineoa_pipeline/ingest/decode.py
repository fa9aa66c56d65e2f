"""Recognising an export: its encoding and its three metadata rows, read from the file's first bytes."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from lineoa_pipeline.line_export.formats import CANDIDATE_ENCODINGS, INJECTION_LEADS, LANGUAGES, ExportLanguage

BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 64 * 1024
_OFFSET = re.compile(r"^'?(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})$")
_DOWNLOADED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")


class NotAnExport(ValueError):
    """The bytes are not a LINE export this pipeline can read; the message says why, for a person."""


@dataclass(frozen=True)
class ExportHead:
    """What an export's first four lines say."""

    encoding: str  # "utf-8" (with or without BOM) or a legacy code page
    language: ExportLanguage
    account_name: str
    utc_offset_minutes: int
    downloaded_at: datetime  # an aware instant

    @property
    def needs_transcoding(self) -> bool:
        return self.encoding != "utf-8"


@lru_cache(maxsize=256)
def read_head(head: bytes) -> ExportHead:
    """Recognise an export from its first bytes (at least the four lines of metadata and header). Cached: the
    members of one bulk backup share their head lines, and tens of thousands of them are read at once."""
    if not head:
        raise NotAnExport("empty file")
    if head.startswith(BOM):
        return _recognise(_lines(head[len(BOM) :], "utf-8"), "utf-8")
    problems = []
    for encoding in CANDIDATE_ENCODINGS:
        try:
            return _recognise(_lines(head, encoding), encoding)
        except NotAnExport as exc:
            problems.append(f"{encoding}: {exc}")
    raise NotAnExport("not a LINE chat export in any known encoding (" + "; ".join(problems) + ")")


def _lines(head: bytes, encoding: str) -> list[list[str]]:
    end = -1
    for _ in range(4):  # the metadata and header never span lines
        end = head.find(b"\n", end + 1)
        if end < 0:
            end = len(head)
            break
    try:
        text = head[:end].decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        raise NotAnExport(f"undecodable bytes at {exc.start}") from exc
    return list(csv.reader(io.StringIO(text)))


_UNREADABLE_DOWNLOAD_TIME = "line 3: unreadable download time (expected YYYY/MM/DD HH:MM)"


def _recognise(rows: list[list[str]], encoding: str) -> ExportHead:
    if len(rows) < 4 or any(len(r) < 2 for r in rows[:3]):
        raise NotAnExport("fewer than three metadata rows and a header")
    labels = tuple(r[0] for r in rows[:3])
    header = tuple(rows[3])
    language = next((lang for lang in LANGUAGES.values() if lang.metadata_labels == labels), None)
    if language is None:
        # a reason reaches the log and `quarantined_files`: it describes the file, never quotes it
        raise NotAnExport(
            "unknown metadata labels: lines 1-3 are not an export's account name, time zone and download time "
            "in a known UI language"
        )
    if header != language.header:
        expected = ",".join(language.header)
        raise NotAnExport(
            f"unknown header: line 4 ({len(header)} columns) is not a {language.code} export's header ({expected})"
        )
    offset = _offset_minutes(rows[1][1])
    return ExportHead(encoding, language, _field_value(rows[0][1]), offset, _downloaded_at(rows[2][1], offset))


def _field_value(raw: str) -> str:
    """A field as stored: without the injection guard, without `_x000D_`, line breaks as `\\n` (as the SQL does)."""
    if raw[:1] == "'" and raw[1:2] in INJECTION_LEADS:
        raw = raw[1:]
    return raw.replace("_x000D_", "").replace("\r\n", "\n").replace("\r", "\n")


def _offset_minutes(text: str) -> int:
    match = _OFFSET.match(text.strip())
    if not match:
        raise NotAnExport("line 2: unreadable time zone (expected an offset such as '+09:00)")
    sign, hours, minutes = match.groups()
    total = int(hours) * 60 + int(minutes)
    if total > 14 * 60 or int(minutes) >= 60:
        raise NotAnExport("line 2: time zone out of range (from -14:00 to +14:00)")
    return -total if sign == "-" else total


def _downloaded_at(text: str, offset_minutes: int) -> datetime:
    match = _DOWNLOADED.match(text.strip())
    if not match:
        raise NotAnExport(_UNREADABLE_DOWNLOAD_TIME)
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        zone = timezone(timedelta(minutes=offset_minutes))
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise NotAnExport(_UNREADABLE_DOWNLOAD_TIME) from exc


def rows_start(head: bytes, length: int) -> tuple[int, bytes]:
    """Where an export's rows begin in its bytes (after the metadata and header lines), from its first bytes
    `head` (of `length` in all), and the line ending those lines use. A recognised export has its four lines
    in the head, or is no longer than them (a chat with no messages, perhaps without a last line break)."""
    end = -1
    for _ in range(4):
        end = head.find(b"\n", end + 1)
        if end < 0:
            return length, b"\r\n"
    return end + 1, b"\r\n" if head[end - 1 : end] == b"\r" else b"\n"
