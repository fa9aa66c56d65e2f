"""The archive: every input kept byte for byte under its SHA-256, with the paths it arrived under; and the
first step of a run, which copies every new inbox file into it."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import duckdb

from lineoa_pipeline.ingest.discover import InboxFile, is_zip, walk_inbox
from lineoa_pipeline.ingest.inputs import open_inside, why_unreadable
from lineoa_pipeline.line_export.names import chat_name_from_path
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.files import fsync_dir, write_atomically
from lineoa_pipeline.warehouse.sqlfiles import insert_rows, transaction

CHUNK = 1 << 20
FSYNC_AT_MOST = 64  # files made durable one by one; more: one os.sync()
ARCHIVE_GROUP = 2_000
Log = Callable[[str], None]


class StillBeingWritten(Exception):
    """An inbox file changed while it was copied: taken at a later run, once it stays the same."""


class Archive:
    """`archive/<sha256>` holds the bytes; `archive/<sha256>.paths` the inbox paths, one a line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_of(self, sha256: str) -> Path:
        return self.folder / sha256

    def put(self, src: BinaryIO, durable: bool = True, expected: tuple[int, int] | None = None) -> tuple[str, int]:
        """Copy the open file `src` in (hashing as it streams); return its SHA-256 and size. Already there
        with those bytes (its hash checked, not its size): no copy. `expected` (size, mtime_ns) is what the
        inbox listed: a file that changed meanwhile is still being written, and is not taken
        (StillBeingWritten). `durable=False` leaves the fsync to the caller (one `os.sync()` after many files)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".incoming.{uuid.uuid4().hex}.tmp"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            now = os.fstat(src.fileno())
            if expected and (size, now.st_size, now.st_mtime_ns) != (expected[0], *expected):
                raise StillBeingWritten("still being written (its size or time changed): left for the next run")
            sha = digest.hexdigest()
            target = self.path_of(sha)
            if target.exists() and sha256_of(target) == sha:
                tmp.unlink()
            else:  # absent, or a leftover or altered copy: the verified copy replaces it
                os.replace(tmp, target)
                if durable:
                    fsync_dir(self.folder)
        finally:
            tmp.unlink(missing_ok=True)
        return sha, size

    def make_durable(self, shas: list[str]) -> None:
        """Put the bytes and sidecars of entries written with `durable=False` on disk: a few fsyncs for a
        few files, else one `os.sync()` (thousands of fsyncs cost a disk seconds; one sync flushes them all)."""
        if len(shas) > FSYNC_AT_MOST:
            os.sync()
            return
        for sha in dict.fromkeys(shas):
            for path in (self.path_of(sha), self.folder / f"{sha}.paths"):
                with open(path, "rb") as written:
                    os.fsync(written.fileno())
        fsync_dir(self.folder)

    def discard_partial(self) -> int:
        """Delete the temporary copies a killed run left behind (never trusted, never needed); call this only
        while holding the writer lock, when no copy can be in progress. Returns how many there were."""
        leftovers = list(self.folder.glob(".*.tmp")) if self.folder.exists() else []
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)

    def record_path(self, sha256: str, inbox_path: str, durable: bool = True) -> bool:
        """Add `inbox_path` to the names these bytes arrived under; False if it was there already."""
        sidecar = self.folder / f"{sha256}.paths"
        known = self.paths(sha256)
        if inbox_path in known:
            return False
        write_atomically(sidecar, "".join(p + "\n" for p in [*known, inbox_path]).encode("utf-8"), durable)
        return True

    def paths(self, sha256: str) -> list[str]:
        sidecar = self.folder / f"{sha256}.paths"
        return sidecar.read_text(encoding="utf-8").splitlines() if sidecar.exists() else []

    def entries(self) -> list[str]:
        """Every archived SHA-256 whose bytes verify (a half-written or altered file is never trusted)."""
        out = []
        for path in sorted(self.folder.iterdir()):
            if len(path.name) == 64 and "." not in path.name and sha256_of(path) == path.name:
                out.append(path.name)
        return out


def sha256_of(path: Path) -> str:
    with open(path, "rb") as src:
        return hashlib.file_digest(src, "sha256").hexdigest()


@dataclass
class ArchiveReport:
    """What one look at the inbox found."""

    new_inputs: int = 0
    unchanged: int = 0
    skipped: int = 0  # inbox entries that cannot be read now (reported): tried again at the next run
    archived_bytes: int = 0
    already_seen: int = 0  # inbox files under a new name whose bytes and chat were an input already (a copy)


@dataclass(frozen=True)
class _Archived:
    """An inbox file just copied in: its bytes' SHA-256 and size, whether its path is new to them, and whether
    its chat is (a loose CSV's chat is in its file name: the same bytes under another chat's name are that
    chat's export, to stage; under the same chat's name, a copy)."""

    found: InboxFile
    sha: str
    size: int
    named: bool
    new_chat: bool


def archive_inbox(conn: duckdb.DuckDBPyConnection, data_dir: DataDir, log: Log = print) -> ArchiveReport:
    """Copy every new inbox file into `archive/` (atomically) and make it an input to stage.

    Files are copied in groups; a group's bytes are put on disk (`Archive.make_durable`) before one
    transaction records it, so nothing derived from a file is ever written before its archived copy is durable.
    """
    archive = Archive(data_dir.archive)
    archive.discard_partial()
    report = ArchiveReport()
    known = {
        row[0]: (row[1], row[2], row[3])
        for row in conn.execute("SELECT file_path, bytes, mtime_ns, sha256 FROM _inbox_files").fetchall()
    }
    files = walk_inbox(data_dir.inbox) if data_dir.inbox.exists() else []
    group: list[_Archived] = []
    for index, found in enumerate(files, 1):
        seen = known.get(found.relative)
        if seen and seen[:2] == (found.bytes, found.mtime_ns) and archive.path_of(seen[2]).exists():
            report.unchanged += 1
            continue
        src = None
        if not found.problem:
            try:
                src = open_inside(found.path, data_dir.root)
            except OSError as exc:  # gone or changed since the listing: the input's fault, not the run's
                found = replace(found, problem=why_unreadable(exc))
        if src is None:
            report.skipped += 1
            log(f"skipped inbox/{found.relative}: {found.problem} (tried again at the next run)")
            continue
        try:
            with src:
                sha, size = archive.put(src, durable=False, expected=(found.bytes, found.mtime_ns))
        except StillBeingWritten as exc:
            report.skipped += 1
            log(f"skipped inbox/{found.relative}: {exc}")
            continue
        chats = {chat_name_from_path(path) for path in archive.paths(sha)}
        named = archive.record_path(sha, found.relative, durable=False)
        group.append(_Archived(found, sha, size, named, named and chat_name_from_path(found.relative) not in chats))
        if len(group) >= ARCHIVE_GROUP or index == len(files):
            _record_archived(conn, archive, group, report)
            group = []
            log(f"archived {index:,} of {len(files):,} inbox files")
    if group:
        _record_archived(conn, archive, group, report)
    return report


def _record_archived(
    conn: duckdb.DuckDBPyConnection, archive: Archive, group: list[_Archived], report: ArchiveReport
) -> None:
    archive.make_durable([a.sha for a in group])
    inputs: dict[str, tuple[str, str, int, bool]] = {}
    names: Counter[str] = Counter()  # names each input gained in this group
    chats: Counter[str] = Counter()  # of them, names of a chat new to a loose CSV's bytes
    for a in group:
        zipped = inputs.setdefault(a.sha, (a.sha, a.found.relative, a.size, is_zip(archive.path_of(a.sha))))[3]
        names[a.sha] += a.named
        chats[a.sha] += a.new_chat and not zipped
    # One transaction: a run killed in between must not leave a file known but never an input.
    with transaction(conn):
        inserted = _new_inputs(conn, list(inputs.values()))
        new = {sha for sha, _ in inserted}
        # known bytes under a new chat's name: staged again, for that chat (staging skips the chats it has)
        again = [sha for sha, n in chats.items() if n and sha not in new]
        conn.execute("UPDATE _inputs SET staged_at = NULL WHERE sha256 IN (SELECT unnest(?))", [again])
        paths = [a.found.relative for a in group]
        conn.execute("DELETE FROM _inbox_files WHERE file_path IN (SELECT unnest(?))", [paths])
        insert_rows(conn, "_inbox_files", [(a.found.relative, a.found.bytes, a.found.mtime_ns, a.sha) for a in group])
    report.new_inputs += len(inserted) + len(again)
    # every other new name is a copy: the first name of a new input, and a new chat's name, are not
    report.already_seen += sum(max(0, n - chats[sha] - (sha in new and not chats[sha])) for sha, n in names.items())
    report.archived_bytes += sum(size for _, size in inserted)


def register_archive(conn: duckdb.DuckDBPyConnection, data_dir: DataDir) -> int:
    """Make every verified archive entry an input to stage again (for a rebuild from `archive/` alone).
    Returns the copies among them: names beyond the first that the same bytes arrived under (for a loose
    CSV, beyond the first of each chat)."""
    archive = Archive(data_dir.archive)
    copies = 0
    inputs = []
    for sha in archive.entries():
        paths = archive.paths(sha) or [sha]
        path = archive.path_of(sha)
        zipped = is_zip(path)
        copies += len(paths) - (1 if zipped else len({chat_name_from_path(p) for p in paths}))
        inputs.append((sha, paths[0], path.stat().st_size, zipped))
    _new_inputs(conn, inputs)
    return copies


def _new_inputs(conn: duckdb.DuckDBPyConnection, inputs: list[tuple[str, str, int, bool]]) -> list[tuple[str, int]]:
    """Record the `(sha256, path, bytes, is_zip)` inputs not recorded yet; returns their (sha256, bytes).
    An anti-join, not INSERT OR IGNORE … RETURNING: a lake's tables have neither keys nor RETURNING."""
    if not inputs:
        return []
    new = conn.execute(
        """SELECT * FROM (SELECT unnest(?) AS sha256, unnest(?) AS path, unnest(?) AS bytes, unnest(?) AS is_zip)
           WHERE sha256 NOT IN (SELECT sha256 FROM _inputs)""",
        [list(c) for c in zip(*inputs, strict=True)],
    ).fetchall()
    if new:
        conn.execute(
            "INSERT INTO _inputs SELECT unnest(?), unnest(?), unnest(?), unnest(?), now(), NULL",
            [list(c) for c in zip(*new, strict=True)],
        )
    return [(sha, size) for sha, _, size, _ in new]
