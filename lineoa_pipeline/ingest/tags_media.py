"""Chat tags (`tags/*.csv`) and media manifests (`media/**/*manifest*.csv`) into `chat_tags` and `media_files`.

Both name a chat as export file names do or by its display name: each is resolved to the warehouse's
chat_name by `name_key` within its account (run after `sync_settings`, which keeps `_chat_keys` current).
A row that cannot be read goes to `rejected_rows` with its CSV (`tags/x.csv`, `media/.../manifest.csv`)
as source_file; each load replaces the tables and those rejects.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb

from lineoa_pipeline.ingest.inputs import read_inside, why_unreadable
from lineoa_pipeline.line_export.names import name_key, recorded_path
from lineoa_pipeline.settings.config import MEDIA_KINDS
from lineoa_pipeline.settings.datadir import MANIFEST_COLUMNS, DataDir
from lineoa_pipeline.warehouse.sqlfiles import insert_rows, load_sql, run_script, transaction

TAG_COLUMNS = ("account_name", "chat_name", "tag")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: `isdigit` takes `²`, which `int` refuses
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # never in a file's name (NUL cannot even be passed to the system)
MAX_BYTES = 2**63 - 1  # media_files.bytes is a BIGINT

Reject = tuple[str, int | None, str | None, str]  # source_file, line, raw, reason


@dataclass(frozen=True)
class _Row:
    line: int
    raw: str
    values: dict[str, str]


def load_chat_tags(conn: duckdb.DuckDBPyConnection, data_dir: DataDir) -> dict[str, int]:
    """Replace `chat_tags` with the rows of every `tags/*.csv` (any case).

    Returns counts: files, rows (read), tags (stored, distinct), unmatched (rows naming no known chat),
    rejected.
    """
    folder = data_dir.tags
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv") if folder.is_dir() else []
    rows: list[tuple[Any, ...]] = []
    rejects: list[Reject] = []
    for path in paths:
        read, bad = _read_rows(path, data_dir.root, f"tags/{recorded_path(path.name)}", TAG_COLUMNS)
        rows += [(*(r.values[c] for c in TAG_COLUMNS), name_key(r.values["chat_name"])) for r in read]
        rejects += bad
    with transaction(conn):
        run_script(conn, "tags_media_rows")
        insert_rows(conn, "tag_rows (account_name, chat_name, tag, name_key)", rows)
        unmatched = _count(
            conn, "SELECT count(*) FROM tag_rows ANTI JOIN chat_key_lists USING (account_name, name_key)"
        )
        run_script(conn, "store_tags")
        _replace_rejects(conn, "tags/%", rejects)
        tags = _count(conn, "SELECT count(*) FROM chat_tags")
    return {
        "files": len(paths),
        "rows": len(rows) + len(rejects),
        "tags": tags,
        "unmatched": unmatched,
        "rejected": len(rejects),
    }


def load_media_files(conn: duckdb.DuckDBPyConnection, data_dir: DataDir) -> dict[str, int]:
    """Replace `media_files` with the rows of every manifest under `media/`, each file verified and linked
    to its placeholder message.

    Returns counts: manifests, rows (read), ok, missing_file, checksum_mismatch, duplicates (a file listed
    again), linked (to a message), rejected.
    """
    media = data_dir.media
    manifests = _manifests(media) if media.is_dir() else []
    rows: list[tuple[Any, ...]] = []
    rejects: list[Reject] = []
    hashes: dict[str, str] = {}
    for path in manifests:
        source = "media/" + recorded_path(path.relative_to(media).as_posix())
        read, bad = _read_rows(path, data_dir.root, source, MANIFEST_COLUMNS)
        rejects += bad
        for row in read:
            parsed = _manifest_row(row.values, media, path.parent)
            if isinstance(parsed, str):
                rejects.append((source, row.line, row.raw, parsed))
                continue
            sent_at, file, target, sha256, size = parsed
            account, chat, kind = row.values["account_name"], row.values["chat_name"], row.values["kind"]
            verification = _verify(target, sha256, size, hashes)
            rows.append(
                (account, chat, name_key(chat), sent_at, kind, file, sha256, size, verification, source, row.line)
            )
    with transaction(conn):
        run_script(conn, "tags_media_rows")
        insert_rows(conn, "media_rows", rows)
        run_script(conn, "store_media")
        _replace_rejects(conn, "media/%", rejects)
        stored = conn.execute(
            "SELECT verification, count(*), count(message_id) FROM media_files GROUP BY ALL"
        ).fetchall()
    counts = Counter({verification: n for verification, n, _ in stored})
    return {
        "manifests": len(manifests),
        "rows": len(rows) + len(rejects),
        "ok": counts["ok"],
        "missing_file": counts["missing_file"],
        "checksum_mismatch": counts["checksum_mismatch"],
        "duplicates": len(rows) - counts.total(),
        "linked": sum(linked for _, _, linked in stored),
        "rejected": len(rejects),
    }


def _manifests(media: Path) -> list[Path]:
    """Every `*manifest*.csv` under `media/` (any case), not following linked folders, in path order."""
    found = [
        Path(folder) / name
        for folder, _, names in os.walk(media)
        for name in names
        if "manifest" in name.lower() and name.lower().endswith(".csv")
    ]
    return sorted(found, key=lambda p: p.relative_to(media).as_posix())


def _read_rows(path: Path, root: Path, source: str, columns: tuple[str, ...]) -> tuple[list[_Row], list[Reject]]:
    """The records of a CSV whose header names `columns` (in any order), every value non-empty after
    trimming; every other record is rejected with its first physical line, raw text and reason.
    """
    try:
        data = read_inside(path, root)
    except OSError as exc:  # one unreadable side input never stops a run: its reason is its reject
        return [], [(source, None, None, why_unreadable(exc))]
    try:
        text, file_problem = data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        file_problem = f"not UTF-8 (bad byte at offset {exc.start}): save the file as CSV UTF-8"
    rows: list[_Row] = []
    rejects: list[Reject] = []
    header: list[str] = []
    for line, raw, fields, error in _records(text):
        error = error or file_problem
        if not error and not header:
            header = [f.strip() for f in fields]
            missing = [c for c in columns if c not in header]
            if missing:
                file_problem = f"the header must name {','.join(columns)}: no {', '.join(missing)}"
                rejects.append((source, line, raw, file_problem))
            continue
        if not error and len(fields) != len(header):
            error = f"wrong column count: expected {len(header)}, found {len(fields)}"
        values = {} if error else {c: fields[header.index(c)].strip() for c in columns}
        if not error and not all(values.values()):
            error = "empty " + ", ".join(c for c, v in values.items() if not v)
        if error:
            rejects.append((source, line, raw, error))
        else:
            rows.append(_Row(line, raw, values))
    return rows, rejects


def _records(text: str) -> Iterator[tuple[int, str, list[str], str | None]]:
    """(first physical line, raw text, fields, CSV error) of each record; blank lines are skipped."""
    lines = [m.group() for m in _LINE.finditer(text) if m.group()]
    reader = csv.reader(lines, strict=True)
    while True:
        start = reader.line_num
        try:
            fields, error = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:
            fields, error = [], f"unreadable CSV: {exc}"
        if fields or error:
            yield start + 1, "".join(lines[start : reader.line_num]).rstrip("\r\n"), fields, error


def _manifest_row(values: dict[str, str], media: Path, folder: Path) -> tuple[datetime, str, Path, str, int] | str:
    """(sent_at, file relative to media/, its path, sha256, bytes), or why the row cannot be used."""
    try:
        sent_at = datetime.fromisoformat(values["sent_at"])
    except ValueError:
        return f"sent_at is not ISO 8601: {values['sent_at']!r}"
    if sent_at.tzinfo is None:
        return f"sent_at has no UTC offset: {values['sent_at']!r}"
    if values["kind"] not in MEDIA_KINDS:
        return f"unknown kind {values['kind']!r} (expected one of {', '.join(MEDIA_KINDS)})"
    if not _SHA256.fullmatch(values["sha256"]):
        return f"sha256 is not 64 hexadecimal digits: {values['sha256']!r}"
    if not _DIGITS.fullmatch(values["bytes"]):
        return f"bytes is not a whole number: {values['bytes']!r}"
    if int(values["bytes"]) > MAX_BYTES:
        return f"bytes is too large: {values['bytes']!r}"
    if _CONTROL.search(values["file"]):
        return f"file holds a control character: {values['file']!r}"
    written = values["file"].replace("\\", "/")
    if PurePosixPath(written).is_absolute() or re.match(r"[A-Za-z]:", written):
        return f"file is an absolute path, not one relative to the manifest: {values['file']!r}"
    target = folder / written
    relative = os.path.normpath(os.path.relpath(target, media))
    # Both by name (`../`) and on disk (a symlink out of media/).
    inside = os.path.realpath(target).startswith(os.path.realpath(media) + os.sep)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or not inside:
        return f"file points outside media/: {values['file']!r}"
    return sent_at, PurePosixPath(relative).as_posix(), target, values["sha256"].lower(), int(values["bytes"])


def _verify(path: Path, sha256: str, size: int, hashes: dict[str, str]) -> str:
    """ok, missing_file, or checksum_mismatch (also when the size differs); each file is hashed once."""
    real = os.path.realpath(path)
    if not os.path.isfile(real):
        return "missing_file"
    if os.path.getsize(real) != size:
        return "checksum_mismatch"
    if real not in hashes:
        with open(real, "rb") as f:
            hashes[real] = hashlib.file_digest(f, "sha256").hexdigest()
    return "ok" if hashes[real] == sha256 else "checksum_mismatch"


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return row[0] if row else 0


def _replace_rejects(conn: duckdb.DuckDBPyConnection, prefix: str, rejects: list[Reject]) -> None:
    conn.execute(load_sql("delete_rejects"), {"prefix": prefix})
    insert_rows(conn, "rejected_rows", rejects)
