"""A staged file: one CSV export recognised from its head, where its bytes are, and where its rows begin.

Its bytes are read in chunks (memory stays bounded however big the file); a legacy code page is transcoded to
UTF-8 on the way, for DuckDB.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from lineoa_pipeline.ingest.decode import BOM, HEAD_BYTES, ExportHead, NotAnExport, read_head, rows_start

CHUNK = 1 << 20
# A file whose head is UTF-8 but whose rest is not: the legacy code pages Excel re-saves in, tried in turn.
LEGACY_ENCODINGS = ("cp932", "cp950", "cp874")
# What a wrong code page makes of text: half-width katakana, private-use characters, control characters.
_LONE_CR = re.compile(rb"\r(?!\n)")
_ODD = re.compile("[\uff61-\uff9f\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


HEAD_LINES = 3  # account name, time zone, download time: the lines a body hash leaves out


class BodyHash:
    """SHA-256 of an export's bytes after its first three lines, fed chunk by chunk as the file streams."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._lines = 0

    def update(self, chunk: bytes) -> None:
        at = -1
        while self._lines < HEAD_LINES:
            at = chunk.find(b"\n", at + 1)
            if at < 0:
                return
            self._lines += 1
        self._digest.update(memoryview(chunk)[at + 1 :])

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


@dataclass(frozen=True)
class Candidate:
    """One CSV to stage: what the warehouse calls it, its chat (from its own file name, or a zip member's own
    name: never from the joined `zip!member`, as a chat name may hold a `!`), the file DuckDB reads it from
    when it reads it alone (UTF-8), and where its bytes are now (`length` of them from `offset` in
    `held_in`: the file itself, or a zip's spool, from which `read_path` is written only if needed). A zip
    member brings its metadata and header lines and its count of double quotes from the extraction."""

    read_path: Path
    source_file: str
    chat_name: str
    sha256: str
    bytes: int
    is_bulk: bool
    held_in: Path
    offset: int = 0
    length: int = 0
    head: bytes | None = None
    quotes: int = 0
    utf8: bool | None = None  # all of it valid UTF-8 (known for a zip member, from its extraction)
    body_sha256: str | None = None  # of its bytes after the three metadata lines, as they arrived (unchanged.py)


@dataclass(frozen=True)
class StagedFile:
    """A recognised export about to be staged: what `batch_files` records of it (account, zone, download
    time, chat, rank in the run's order), and its bytes as UTF-8 (`held`), whose rows begin at `rows_at` and
    end their lines with `newline`."""

    held: Candidate
    account_name: str
    utc_offset_minutes: int
    downloaded_at: datetime
    rows_at: int
    newline: bytes
    file_rank: int = 0
    encoding: str = "utf-8"  # what it arrived in: a body hash is of those bytes
    ui_language: str = "ja"  # the UI language its labels are in (formats.LANGUAGES)

    @property
    def read_path(self) -> str:
        return str(self.held.read_path)

    @property
    def source_file(self) -> str:
        return self.held.source_file

    @property
    def sha256(self) -> str:
        return self.held.sha256

    @property
    def bytes(self) -> int:
        return self.held.bytes

    def batch_row(self) -> tuple[object, ...]:
        """Its row of `batch_files` (sql/batch_files.sql)."""
        c = self.held
        return (
            str(c.read_path),
            c.source_file,
            c.sha256,
            c.bytes,
            self.account_name,
            self.utc_offset_minutes,
            self.downloaded_at,
            c.is_bulk,
            c.chat_name,
            self.file_rank,
            self.ui_language,
        )


def recognise(c: Candidate, transcoded: Path) -> StagedFile:
    """The candidate as a staged file: its head recognised, transcoded into `transcoded` when it is in a
    legacy code page. Raises NotAnExport with the reason when it is not an export that loads whole."""
    head, utf8, (rows_at, newline) = _check_and_transcode(c, transcoded)
    return StagedFile(
        utf8,
        head.account_name,
        head.utc_offset_minutes,
        head.downloaded_at,
        utf8.offset + rows_at,
        newline,
        encoding=head.encoding,
        ui_language=head.language.code,
    )


def chunks(path: Path, offset: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as src:
        yield from read_range(src, offset, length)


def read_range(src: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
    src.seek(offset)
    while length > 0 and (chunk := src.read(min(CHUNK, length))):
        length -= len(chunk)
        yield chunk


def _first_bytes(path: Path, offset: int, length: int) -> bytes:
    return next(chunks(path, offset, min(length, HEAD_BYTES)), b"")


def _check_and_transcode(c: Candidate, transcoded: Path) -> tuple[ExportHead, Candidate, tuple[int, bytes]]:
    """The export's head, the candidate as UTF-8, and where its rows begin in that (`rows_start`), streaming
    so that memory stays bounded however big the file: a legacy code page is transcoded into `transcoded`, and
    the quotes are counted on the way (a zip member's were counted as it was extracted). The encoding is
    chosen from the whole file: one whose head reads as UTF-8 but whose rest does not (an English UI, an
    ASCII account name, re-saved on a Japanese PC) takes the legacy code page that decodes all of it."""
    first = c.head if c.head is not None else _first_bytes(c.held_in, c.offset, c.length)
    if _cr_alone(first):
        # "CSV (Macintosh)" ends every line with a CR alone: as CRLF it is the export it is (a CR in a field is
        # a line break either way, stored as \n); its quotes, encoding and body are then those of the copy
        crlf = transcoded.with_name(f"{transcoded.stem}-crlf.csv")
        size = _write_crlf(chunks(c.held_in, c.offset, c.length), crlf)
        c = replace(c, read_path=crlf, held_in=crlf, offset=0, length=size, head=None)
        first = _first_bytes(crlf, 0, size)
    rows = rows_start(first, c.length)
    head = read_head(first[: rows[0]])
    quotes, utf8 = c.quotes, c.utf8
    if c.head is None and not head.needs_transcoding:
        quotes, utf8, body = _scan(chunks(c.held_in, c.offset, c.length))
        c = replace(c, body_sha256=body)  # of the bytes as they arrived, whatever they are decoded as
    # a BOM says UTF-8 whatever follows: DuckDB then reports the bad bytes with their line
    if head.needs_transcoding or not (utf8 or first.startswith(BOM)):
        encoding = head.encoding if head.needs_transcoding else _legacy_encoding(c)
        quotes = _transcode(chunks(c.held_in, c.offset, c.length), encoding, transcoded)
        head = replace(head, encoding=encoding)
        size = transcoded.stat().st_size
        c = replace(c, read_path=transcoded, held_in=transcoded, offset=0, length=size)
        rows = rows_start(_first_bytes(transcoded, 0, size), size)
    if quotes % 2:
        # DuckDB does not always report a quote left open at the end of one file of many.
        raise NotAnExport("a quoted field is never closed: the file is cut off (an interrupted download?)")
    return head, c, rows


def _cr_alone(head: bytes) -> bool:
    """Whether the first line of `head` ends with a CR alone (0x0D is a CR in every encoding read here)."""
    cr, lf = head.find(b"\r"), head.find(b"\n")
    return cr >= 0 and (lf < 0 or lf > cr + 1)


def _write_crlf(pieces: Iterable[bytes], target: Path) -> int:
    """Write `pieces` into `target` with every CR alone made CRLF; return the bytes written."""
    size, carry = 0, b""
    with open(target, "wb") as out:
        for chunk in pieces:
            data = carry + chunk
            carry = b"\r" if data.endswith(b"\r") else b""  # its LF, if any, starts the next chunk
            data = _LONE_CR.sub(b"\r\n", data[: len(data) - len(carry)])
            size += out.write(data)
        if carry:
            size += out.write(b"\r\n")
    return size


def _legacy_encoding(c: Candidate) -> str:
    """The legacy code page that decodes all of the file and reads most like text: several may decode the
    same bytes (Big5 or Thai bytes are valid Shift_JIS too, as half-width katakana), the wrong ones with
    characters no chat writes."""
    odd: dict[str, int] = {}
    for encoding in LEGACY_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            odd[encoding] = sum(
                len(_ODD.findall(decoder.decode(chunk))) for chunk in chunks(c.held_in, c.offset, c.length)
            )
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            odd.pop(encoding, None)
    if not odd:
        raise NotAnExport(f"not UTF-8, and not {', '.join(LEGACY_ENCODINGS)} either: undecodable bytes")
    return min(odd, key=lambda e: (odd[e], LEGACY_ENCODINGS.index(e)))


def _scan(pieces: Iterable[bytes]) -> tuple[int, bool, str]:
    """The double quotes in `pieces`, whether all of them are valid UTF-8, and the hash of their body."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    body = BodyHash()
    quotes, valid = 0, True
    for chunk in pieces:
        quotes += chunk.count(b'"')
        body.update(chunk)
        if valid:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                valid = False
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return quotes, valid, body.hexdigest()


def _transcode(pieces: Iterable[bytes], encoding: str, target: Path) -> int:
    """Write `pieces` into `target` as UTF-8; return the number of double quotes they hold."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    quotes = position = 0
    with open(target, "w", encoding="utf-8", newline="") as out:
        for chunk in pieces:
            quotes += chunk.count(b'"')
            pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
            try:
                out.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                raise NotAnExport(f"undecodable bytes at byte {position - pending + exc.start} in {encoding}") from exc
            position += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise NotAnExport(f"undecodable bytes at the end of the file in {encoding}") from exc
    return quotes
