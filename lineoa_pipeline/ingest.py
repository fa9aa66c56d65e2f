"""Staging: every archived input not yet staged becomes staged files (zip members extracted, exports
recognised), taken in download order, in batches (batches.py).

Pure domain code: a DuckDB connection in, counts out. Dagster assets and `lineoa rebuild` call it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb

from lineoa_pipeline.archive import Archive
from lineoa_pipeline.batches import StageReport, batches, drop_batch_tables, stage_batch
from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.exports.decode import NotAnExport
from lineoa_pipeline.exports.discover import CorruptZip, extract_members
from lineoa_pipeline.exports.names import chat_name_from_path
from lineoa_pipeline.staged import Candidate, StagedFile, recognise
from lineoa_pipeline.unchanged import take_unchanged

Log = Callable[[str], None]
BATCH_FILES = 5_000
BATCH_BYTES = 128 << 20


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
    work = _scratch(data_dir, sum(bytes_ for _, _, zipped, bytes_ in pending if zipped))
    try:
        seen = {
            r[0]
            for r in conn.execute(
                "SELECT sha256 FROM source_files UNION SELECT sha256 FROM quarantined_files"
            ).fetchall()
        }
        candidates, quarantined = _candidates(pending, Archive(data_dir.archive), work, seen, report)
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


def _scratch(data_dir: DataDir, zipped_bytes: int) -> Path:
    """Where zip members are extracted for one run: a RAM-backed folder when there is room for them (tens of
    thousands of small files cost a disk milliseconds each to create and delete), else the data directory.
    Each data directory has its own folder of each kind, removed at the start of staging: a killed run leaves
    nothing behind for long (one writer per data directory, so the name is never in use)."""
    shm = Path("/dev/shm")
    on_disk, in_ram = scratch_folders(data_dir)
    room = shutil.disk_usage(shm).free if shm.is_dir() and os.access(shm, os.W_OK) else 0
    # a chat export deflates ~5-10x: leave room for 20x, and half of the space for everyone else
    if zipped_bytes * 20 < room // 2:
        try:
            in_ram.mkdir(mode=0o700)  # never one made by someone else: it was just removed
            return in_ram
        except FileExistsError:
            pass
    on_disk.mkdir(parents=True, exist_ok=True)
    return on_disk


def scratch_folders(data_dir: DataDir) -> tuple[Path, Path]:
    """The data directory's scratch folders: on its disk, and in RAM (named after the data directory)."""
    key = hashlib.sha256(str(data_dir.root.resolve()).encode()).hexdigest()[:16]
    return data_dir.work, Path("/dev/shm") / f".lineoa-work-{key}"


def _candidates(
    pending: Iterable[tuple[str, str, bool, int]],
    archive: Archive,
    work: Path,
    seen: set[str],
    report: StageReport,
) -> tuple[list[Candidate], list[tuple[str, str, str]]]:
    candidates: list[Candidate] = []
    quarantined: list[tuple[str, str, str]] = []

    def take(candidate: Candidate) -> None:
        if candidate.sha256 in seen:
            report.files_seen += 1
        else:
            seen.add(candidate.sha256)
            candidates.append(candidate)

    for sha, label, zipped, _ in pending:
        path = archive.path_of(sha)
        if not zipped:
            size = path.stat().st_size
            take(
                Candidate(
                    path, label, chat_name_from_path(label.rsplit("!", 1)[-1]), sha, size, False, path, length=size
                )
            )
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
                            chat_name_from_path(source.rsplit("!", 1)[-1]),
                            member.sha256,
                            member.bytes,
                            True,
                            member.path,
                            member.offset,
                            member.bytes,
                            member.head,
                            member.quotes,
                            member.body_sha256,
                        )
                    )
        except CorruptZip as exc:
            if sha not in seen:
                candidates[:] = [c for c in candidates if not c.source_file.startswith(label + "!")]
                quarantined.append((label, sha, str(exc)))
                seen.add(sha)
    return candidates, quarantined


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
