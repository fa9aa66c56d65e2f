"""Staging: every archived input not yet staged becomes staged files (zip members extracted, exports
recognised), taken in download order, in batches (batches.py).

Pure domain code: a DuckDB connection in, counts out. Dagster assets and `lineoa rebuild` call it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb

from lineoa_pipeline.ingest.archive import Archive
from lineoa_pipeline.ingest.batches import batches, drop_batch_tables, stage_batch
from lineoa_pipeline.ingest.counts import StageReport
from lineoa_pipeline.ingest.decode import NotAnExport
from lineoa_pipeline.ingest.discover import CorruptZip, declared_size, extract_members, not_an_export
from lineoa_pipeline.ingest.staged import Candidate, StagedFile, recognise
from lineoa_pipeline.ingest.unchanged import take_unchanged
from lineoa_pipeline.line_export.names import chat_name_from_path
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import OpenWriter
from lineoa_pipeline.warehouse.sqlfiles import statements

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
    writers: int = 1,
    open_writer: OpenWriter | None = None,
) -> StageReport:
    """Parse every archived input not yet staged, in download order, one transaction per batch of files
    (read together, as a few big CSVs; `together=False` has DuckDB read each file on its own, slowly).

    With `writers` > 1 and `open_writer` (a lake, whose commits need no file lock), the accounts are shared
    out among that many lanes, each staging its accounts' files on its own connection at the same time:
    accounts share no message, so their batches never touch the same rows."""
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
        lanes = by_account(staged, writers if open_writer else 1)
        progress = _Progress(total, total - len(staged), [report] + [StageReport() for _ in lanes[1:]], log)

        def stage_lane(lane: int, on: duckdb.DuckDBPyConnection) -> None:
            folder = work / f"lane-{lane}" if len(lanes) > 1 else work
            folder.mkdir(exist_ok=True)
            for batch in batches(lanes[lane], batch_files, batch_bytes):
                if to_parse := take_unchanged(on, batch, progress.reports[lane], log):
                    stage_batch(on, to_parse, progress.reports[lane], log, folder, together)
                progress.staged(len(batch))

        def stage_lane_on_its_writer(lane: int) -> None:
            assert open_writer is not None
            with open_writer() as own:
                stage_lane(lane, own)

        if len(lanes) > 1:
            log(f"staging {len(staged):,} files in {len(lanes)} lanes at once, each its accounts on its own writer")
        with ThreadPoolExecutor(max(len(lanes) - 1, 1)) as pool:
            others = [pool.submit(stage_lane_on_its_writer, lane) for lane in range(1, len(lanes))]
            if lanes:
                stage_lane(0, conn)
            for other in others:
                other.result()
        for lane_report in progress.reports[1:]:
            report.add(lane_report)
        conn.execute(
            "UPDATE _inputs SET staged_at = now() WHERE sha256 IN (SELECT unnest(?))",
            [[p[0] for p in pending]],
        )
        drop_batch_tables(conn)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.months = _pending_months(conn)
    return report


def carried_over(conn: duckdb.DuckDBPyConnection) -> StageReport:
    """What earlier runs staged but never wrote the months of (interrupted between their two jobs): the run
    that writes those months counts it as its own (`unwritten_counts.sql`)."""
    *forget, counts = statements("unwritten_counts")
    for statement in forget:
        conn.execute(statement)
    files, rows, new, dups, rejected = conn.execute(counts).fetchone() or (0, 0, 0, 0, 0)
    return StageReport(files_loaded=files, rows_read=rows, messages_new=new, duplicates=dups, rejected=rejected)


def by_account(staged: list[StagedFile], lanes: int) -> list[list[StagedFile]]:
    """`staged` shared out into at most `lanes` lists, an account's files all in one, in their order: the
    largest accounts first, each to the lane with the fewest bytes so far."""
    sizes: dict[str, int] = {}
    for file in staged:
        sizes[file.account_name] = sizes.get(file.account_name, 0) + file.bytes
    loads = [0] * min(lanes, len(sizes))
    lane_of: dict[str, int] = {}
    for account, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        lane_of[account] = lane = loads.index(min(loads))
        loads[lane] += size
    shared: list[list[StagedFile]] = [[] for _ in loads]
    for file in staged:
        shared[lane_of[file.account_name]].append(file)
    return shared


@dataclass
class _Progress:
    """Files staged so far across the lanes, said after each batch; each lane counts into its own report."""

    total: int
    done: int
    reports: list[StageReport]
    log: Log
    lock: threading.Lock = field(default_factory=threading.Lock)

    def staged(self, files: int) -> None:
        with self.lock:
            self.done += files
            rows = sum(r.rows_read for r in self.reports)
            new = sum(r.messages_new for r in self.reports)
            self.log(f"staged {self.done:,} of {self.total:,} files: {rows:,} rows, {new:,} new")


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
        except OSError:
            raise  # ours (a full disk): the run fails and the input waits for the next one
        except Exception as exc:  # any other error reading this one input quarantines it, never the run
            quarantined.append((c.source_file, c.sha256, f"unreadable as an export ({type(exc).__name__})"))
    return staged, quarantined
