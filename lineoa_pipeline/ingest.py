"""Staging: every archived input not yet staged becomes staged files (zip members extracted, exports
recognised), taken in download order, in batches (batches.py).

Pure domain code: a DuckDB connection in, counts out. Dagster assets and `lineoa rebuild` call it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from lineoa_pipeline.archive import Archive
from lineoa_pipeline.batches import StageReport, batches, drop_batch_tables, stage_batch
from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.exports.decode import NotAnExport
from lineoa_pipeline.exports.discover import CorruptZip, declared_size, extract_members, not_an_export
from lineoa_pipeline.exports.names import chat_name_from_path
from lineoa_pipeline.staged import Candidate, StagedFile, recognise
from lineoa_pipeline.unchanged import take_unchanged

Log = Callable[[str], None]
BATCH_FILES = 5_000
BATCH_BYTES = 128 << 20
RAM_FRACTION = 4  # RAM scratch takes at most this fraction of the free memory


def stage_pending(
    conn: duckdb.DuckDBPyConnection,
    data_dir: DataDir,
    log: Log = print,
    batch_files: int = BATCH_FILES,
    batch_bytes: int = BATCH_BYTES,
    together: bool = True,
) -> StageReport:
    """Parse every archived input not yet staged, in download order, one transaction per batch of files
    (read together, as a few big CSVs; `together=False` has DuckDB read each file on its own, slowly)."""
    report = StageReport()
    pending = conn.execute(
        "SELECT sha256, file_path, is_zip, bytes FROM _inputs WHERE staged_at IS NULL ORDER BY file_path"
    ).fetchall()
    for folder in scratch_folders(data_dir):  # a killed run's, even when it got as far as marking all staged
        shutil.rmtree(folder, ignore_errors=True)
    if not pending:  # still say which months are stale: a run killed after staging left them unwritten
        report.months = _pending_months(conn)
        return report
    archive = Archive(data_dir.archive)
    declared = [declared_size(archive.path_of(sha)) for sha, _, zipped, _ in pending if zipped]
    work = scratch_for(data_dir, None if None in declared else sum(d or 0 for d in declared))
    try:
        candidates, quarantined = _candidates(pending, archive, work, _Seen.of(conn), report)
        staged, more = _recognise_all(candidates, work)
        quarantined += more
        if quarantined:
            conn.executemany("INSERT INTO quarantined_files VALUES (?, ?, ?, now())", quarantined)
            report.files_quarantined += len(quarantined)
            for path, _, reason in quarantined:
                log(f"quarantined {path}: {reason}")
        staged.sort(key=lambda f: (f.downloaded_at, f.source_file))
        staged = [replace(f, file_rank=rank) for rank, f in enumerate(staged)]
        # Files with the rows of a file staged before are stored from its counts, not parsed: those of earlier
        # runs first, so that the few files left make few batches (each one scans `messages`), then those of
        # this run's earlier batches.
        total = len(staged)
        staged = take_unchanged(conn, staged, report, log)
        done = total - len(staged)
        for batch in batches(staged, batch_files, batch_bytes):
            done += len(batch)
            if to_parse := take_unchanged(conn, batch, report, log):
                stage_batch(conn, to_parse, report, log, work, together)
            log(f"staged {done:,} of {total:,} files: {report.rows_read:,} rows, {report.messages_new:,} new")
        conn.execute(
            "UPDATE _inputs SET staged_at = now() WHERE sha256 IN (SELECT unnest(?))",
            [[p[0] for p in pending]],
        )
        drop_batch_tables(conn)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.months = _pending_months(conn)
    return report


def _pending_months(conn: duckdb.DuckDBPyConnection) -> list[date]:
    return [r[0] for r in conn.execute("SELECT DISTINCT month FROM _pending_months ORDER BY 1").fetchall()]


def scratch_for(data_dir: DataDir, inflated: int | None) -> Path:
    """Where zip members are extracted for one run: a RAM-backed folder when what they may inflate to (their
    zips' declared sizes, which reading never exceeds) fits in a quarter of the memory free now (tens of
    thousands of small files cost a disk milliseconds each to create and delete), else the data directory;
    on disk too when in doubt (a zip whose directory cannot be read). Each data directory has its own folder
    of each kind, removed at the start of staging: a killed run leaves nothing behind for long (one writer
    per data directory, so the name is never in use)."""
    on_disk, in_ram = scratch_folders(data_dir)
    if inflated is not None and inflated < _free_memory() // RAM_FRACTION:
        try:
            in_ram.mkdir(mode=0o700)  # never one made by someone else: it was just removed
            return in_ram
        except FileExistsError:
            pass
    on_disk.mkdir(parents=True, exist_ok=True)
    return on_disk


def _free_memory() -> int:
    """The smaller of the room in /dev/shm and the memory available (what /dev/shm's files take from), or 0."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        return 0
    try:
        found = re.search(r"^MemAvailable:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    except OSError:
        return 0
    available = int(found.group(1)) << 10 if found else 0
    return min(shutil.disk_usage(shm).free, available)


def scratch_folders(data_dir: DataDir) -> tuple[Path, Path]:
    """The data directory's scratch folders: on its disk, and in RAM (named after the data directory)."""
    key = hashlib.sha256(str(data_dir.root.resolve()).encode()).hexdigest()[:16]
    return data_dir.work, Path("/dev/shm") / f".lineoa-work-{key}"


@dataclass
class _Seen:
    """What the warehouse holds already: files loaded (by SHA-256 and chat: the same bytes are another chat's
    export under another chat's name), the bytes quarantined, and the paths of both with their bytes (a path
    may arrive again with other bytes: a chat downloaded again over its earlier export)."""

    loaded: set[tuple[str, str]]
    bad: set[str]
    paths: set[tuple[str, str]]

    @classmethod
    def of(cls, conn: duckdb.DuckDBPyConnection) -> _Seen:
        loaded = conn.execute("SELECT file_path, sha256, chat_name FROM source_files").fetchall()
        bad = conn.execute("SELECT file_path, sha256 FROM quarantined_files").fetchall()
        return cls({(sha, chat) for _, sha, chat in loaded}, {sha for _, sha in bad}, {r[:2] for r in loaded + bad})

    def __contains__(self, c: Candidate) -> bool:
        return (c.sha256, c.chat_name) in self.loaded or c.sha256 in self.bad


def _candidates(
    pending: Iterable[tuple[str, str, bool, int]],
    archive: Archive,
    work: Path,
    seen: _Seen,
    report: StageReport,
) -> tuple[list[Candidate], list[tuple[str, str, str]]]:
    candidates: list[Candidate] = []
    quarantined: list[tuple[str, str, str]] = []

    def take(candidate: Candidate) -> None:
        if candidate in seen:
            report.files_seen += 1
        else:
            seen.loaded.add((candidate.sha256, candidate.chat_name))
            candidates.append(candidate)

    for sha, label, zipped, _ in pending:
        path = archive.path_of(sha)
        if not zipped and (reason := not_an_export(label)):
            if (label, sha) not in seen.paths:
                quarantined.append((label, sha, reason))
            continue
        if not zipped:
            # one candidate for each chat the bytes arrived under (its first name), but those staged before
            size = path.stat().st_size
            read_path = path  # then, for the bytes' other chats, a copy DuckDB reads if it reads them alone
            for source, chat in _chats_of(archive.paths(sha) or [label]).items():
                if (source, sha) not in seen.paths:
                    take(Candidate(read_path, source, chat, sha, size, False, path, length=size))
                    read_path = work / f"copy-{len(candidates):06d}.csv"
            continue
        scratch = work / sha
        scratch.mkdir()
        try:
            for member in extract_members(path, scratch):
                source = f"{label}!{member.name}"
                if member.problem:
                    quarantined.append((source, member.sha256 or sha, member.problem))
                else:
                    assert member.path and member.sha256
                    read_path = scratch / f"member-{len(candidates):06d}.csv"
                    take(
                        Candidate(
                            read_path,
                            source,
                            chat_name_from_path(member.name),
                            member.sha256,
                            member.bytes,
                            True,
                            member.path,
                            member.offset,
                            member.bytes,
                            member.head,
                            member.quotes,
                            member.utf8,
                            member.body_sha256,
                        )
                    )
        except CorruptZip as exc:
            if sha not in seen.bad:
                candidates[:] = [c for c in candidates if not c.source_file.startswith(label + "!")]
                quarantined.append((label, sha, str(exc)))
                seen.bad.add(sha)
    return candidates, quarantined


def _chats_of(paths: list[str]) -> dict[str, str]:
    """The first of `paths` under each chat name, with its chat name."""
    first: dict[str, str] = {}
    for path in paths:
        first.setdefault(chat_name_from_path(path), path)
    return {path: chat for chat, path in first.items()}


def _recognise_all(candidates: list[Candidate], work: Path) -> tuple[list[StagedFile], list[tuple[str, str, str]]]:
    """Recognise each candidate's metadata (transcoding a legacy code page to UTF-8); the rest is quarantined."""
    staged: list[StagedFile] = []
    quarantined: list[tuple[str, str, str]] = []
    for index, c in enumerate(candidates):
        try:
            staged.append(recognise(c, work / f"transcoded-{index}.csv"))
        except NotAnExport as exc:
            quarantined.append((c.source_file, c.sha256, str(exc)))
    return staged, quarantined
