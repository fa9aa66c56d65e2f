"""Taking exports in: inbox -> archive (bytes first) -> staged messages, each file parsed once, in batches.

Pure domain code: a DuckDB connection in, counts out. Dagster assets and `lineoa rebuild` call it.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import BinaryIO

import duckdb

from lineoa_pipeline.archive import Archive
from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.exports.decode import HEAD_BYTES, ExportHead, NotAnExport, read_head, rows_start
from lineoa_pipeline.exports.discover import CorruptZip, InboxFile, extract_members, is_zip, walk_inbox
from lineoa_pipeline.exports.names import chat_name_from_path
from lineoa_pipeline.sqlfiles import insert_rows, retry_conflicts, run_script, transaction

Log = Callable[[str], None]
BATCH_FILES = 5_000
BATCH_BYTES = 128 << 20
ARCHIVE_GROUP = 2_000
CHUNK = 1 << 20
FILE_COLUMNS = (
    "read_path",
    "source_file",
    "sha256",
    "bytes",
    "account_name",
    "utc_offset_minutes",
    "downloaded_at",
    "is_bulk",
    "chat_name",
    "file_rank",
)


@dataclass
class ArchiveReport:
    """What one look at the inbox found."""

    new_inputs: int = 0
    unchanged: int = 0
    archived_bytes: int = 0
    already_seen: int = 0  # inbox files under a new name whose bytes were an input already (a copy)


@dataclass
class IngestCounts:
    """The counts a run reports for the files it took in."""

    files_loaded: int = 0
    files_seen: int = 0
    files_quarantined: int = 0
    messages_new: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass
class StageReport(IngestCounts):
    """What staging did; `months` are the partitions of `messages` it made stale."""

    rows_read: int = 0
    files_read_together: int = 0  # files whose rows DuckDB read as one, in a scan of a few big files
    files_read_alone: int = 0  # files read one by one (a batch of one, or one that did not read cleanly together)
    months: list[date] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """One CSV to stage: what the warehouse calls it, the file DuckDB reads it from when it reads it alone
    (UTF-8), and where its bytes are now (`length` of them from `offset` in `held_in`: the file itself, or a
    zip's spool, from which `read_path` is written only if needed). A zip member brings its metadata and
    header lines and its count of double quotes from the extraction."""

    read_path: Path
    source_file: str
    sha256: str
    bytes: int
    is_bulk: bool
    held_in: Path
    offset: int = 0
    length: int = 0
    head: bytes | None = None
    quotes: int = 0


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
    group: list[tuple[InboxFile, str, int, bool]] = []
    for index, found in enumerate(files, 1):
        seen = known.get(found.relative)
        if seen and seen[:2] == (found.bytes, found.mtime_ns) and archive.path_of(seen[2]).exists():
            report.unchanged += 1
            continue
        sha, size = archive.put(found.path, durable=False)
        named = archive.record_path(sha, found.relative, durable=False)
        group.append((found, sha, size, named))
        if len(group) >= ARCHIVE_GROUP or index == len(files):
            _record_archived(conn, archive, group, report)
            group = []
            log(f"archived {index:,} of {len(files):,} inbox files")
    if group:
        _record_archived(conn, archive, group, report)
    return report


def _record_archived(
    conn: duckdb.DuckDBPyConnection,
    archive: Archive,
    group: list[tuple[InboxFile, str, int, bool]],
    report: ArchiveReport,
) -> None:
    archive.make_durable([sha for _, sha, _, _ in group])
    inputs: dict[str, tuple[str, str, int, bool]] = {}
    names: Counter[str] = Counter()  # names each input gained in this group
    for found, sha, size, named in group:
        inputs.setdefault(sha, (sha, found.relative, size, is_zip(archive.path_of(sha))))
        names[sha] += named
    # One transaction: a run killed in between must not leave a file known but never an input.
    with transaction(conn):
        inserted = _new_inputs(conn, list(inputs.values()))
        paths = [found.relative for found, _, _, _ in group]
        conn.execute("DELETE FROM _inbox_files WHERE file_path IN (SELECT unnest(?))", [paths])
        insert_rows(
            conn, "_inbox_files", [(found.relative, found.bytes, found.mtime_ns, sha) for found, sha, _, _ in group]
        )
    report.new_inputs += len(inserted)
    # every new name of bytes already taken in is a copy: the first name of a new input is not
    new = {sha for sha, _ in inserted}
    report.already_seen += sum(max(0, n - (sha in new)) for sha, n in names.items())
    report.archived_bytes += sum(size for _, size in inserted)


def register_archive(conn: duckdb.DuckDBPyConnection, data_dir: DataDir) -> int:
    """Make every verified archive entry an input to stage again (for a rebuild from `archive/` alone).
    Returns the copies among them: names beyond the first that the same bytes arrived under."""
    archive = Archive(data_dir.archive)
    copies = 0
    inputs = []
    for sha in archive.entries():
        paths = archive.paths(sha) or [sha]
        copies += len(paths) - 1
        path = archive.path_of(sha)
        inputs.append((sha, paths[0], path.stat().st_size, is_zip(path)))
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
        heads, more = _read_heads(candidates, work)
        quarantined += more
        if quarantined:
            conn.executemany("INSERT INTO quarantined_files VALUES (?, ?, ?, now())", quarantined)
            report.files_quarantined += len(quarantined)
            for path, _, reason in quarantined:
                log(f"quarantined {path}: {reason}")
        heads.sort(key=lambda h: (h["downloaded_at"], h["source_file"]))
        for rank, head in enumerate(heads):
            head["file_rank"] = rank
        done = 0
        for batch in _batches(heads, batch_files, batch_bytes):
            _stage_batch(conn, batch, report, log, work, together)
            done += len(batch)
            log(f"staged {done:,} of {len(heads):,} files: {report.rows_read:,} rows, {report.messages_new:,} new")
        conn.execute(
            "UPDATE _inputs SET staged_at = now() WHERE sha256 IN (SELECT unnest(?))",
            [[p[0] for p in pending]],
        )
        _drop_batch_tables(conn)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.months = _pending_months(conn)
    return report


def _drop_batch_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop every batch's temp tables: before each read, and after the last batch, to free their memory (the
    months are written next, on the same connection)."""
    names = conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'batch_')"
    ).fetchall()
    for (name,) in names:
        conn.execute(f'DROP TABLE "{name}"')


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
            take(Candidate(path, label, sha, size, False, path, length=size))
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
                            member.sha256,
                            member.bytes,
                            True,
                            member.path,
                            member.offset,
                            member.bytes,
                            member.head,
                            member.quotes,
                        )
                    )
        except CorruptZip as exc:
            if sha not in seen:
                candidates[:] = [c for c in candidates if not c.source_file.startswith(label + "!")]
                quarantined.append((label, sha, str(exc)))
                seen.add(sha)
    return candidates, quarantined


def _read_heads(candidates: list[Candidate], work: Path) -> tuple[list[dict], list[tuple[str, str, str]]]:
    """Recognise each candidate's metadata; transcode a legacy code page to UTF-8 with Python's codecs."""
    heads: list[dict] = []
    quarantined: list[tuple[str, str, str]] = []
    for index, c in enumerate(candidates):
        try:
            head, utf8, (rows_at, newline) = _check_and_transcode(c, work / f"transcoded-{index}.csv")
        except NotAnExport as exc:
            quarantined.append((c.source_file, c.sha256, str(exc)))
            continue
        heads.append(
            {
                "read_path": str(utf8.read_path),
                "source_file": c.source_file,
                "sha256": c.sha256,
                "bytes": c.bytes,
                "account_name": head.account_name,
                "utc_offset_minutes": head.utc_offset_minutes,
                "downloaded_at": head.downloaded_at,
                "is_bulk": c.is_bulk,
                "chat_name": chat_name_from_path(c.source_file.rsplit("!", 1)[-1]),
                "held": utf8,
                "rows_at": utf8.offset + rows_at,
                "newline": newline,
            }
        )
    return heads, quarantined


def _chunks(path: Path, offset: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as src:
        yield from _read_range(src, offset, length)


def _read_range(src: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
    src.seek(offset)
    while length > 0 and (chunk := src.read(min(CHUNK, length))):
        length -= len(chunk)
        yield chunk


def _first_bytes(path: Path, offset: int, length: int) -> bytes:
    return next(_chunks(path, offset, min(length, HEAD_BYTES)), b"")


def _check_and_transcode(c: Candidate, transcoded: Path) -> tuple[ExportHead, Candidate, tuple[int, bytes]]:
    """The export's head, the candidate as UTF-8, and where its rows begin in that (`rows_start`), streaming
    so that memory stays bounded however big the file: a legacy code page is transcoded into `transcoded`, and
    the quotes are counted on the way (a zip member's were counted as it was extracted)."""
    first = c.head if c.head is not None else _first_bytes(c.held_in, c.offset, c.length)
    rows = rows_start(first, c.length)
    head = read_head(first[: rows[0]])
    quotes = c.quotes
    if head.needs_transcoding:
        quotes = _transcode(_chunks(c.held_in, c.offset, c.length), head.encoding, transcoded)
        size = transcoded.stat().st_size
        c = replace(c, read_path=transcoded, held_in=transcoded, offset=0, length=size)
        rows = rows_start(_first_bytes(transcoded, 0, size), size)
    elif c.head is None:
        quotes = sum(chunk.count(b'"') for chunk in _chunks(c.held_in, c.offset, c.length))
    if quotes % 2:
        # DuckDB does not always report a quote left open at the end of one file of many.
        raise NotAnExport("a quoted field is never closed: the file is cut off (an interrupted download?)")
    return head, c, rows


def _transcode(chunks: Iterable[bytes], encoding: str, target: Path) -> int:
    """Write `chunks` into `target` as UTF-8; return the number of double quotes they hold."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    quotes = position = 0
    with open(target, "w", encoding="utf-8", newline="") as out:
        for chunk in chunks:
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


def _batches(heads: list[dict], max_files: int, max_bytes: int) -> Iterable[list[dict]]:
    batch: list[dict] = []
    size = 0
    for head in heads:
        if batch and (len(batch) >= max_files or size + head["bytes"] > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(head)
        size += head["bytes"]
    if batch:
        yield batch


def _stage_batch(
    conn: duckdb.DuckDBPyConnection, batch: list[dict], report: StageReport, log: Log, work: Path, together: bool
) -> None:
    """Stage a batch from one read of its files together; when that does not read cleanly, stage each half
    the same way, down to single files, which DuckDB then reads on their own. (Rows and errors are then each
    file's own: reading many small files in one scan, DuckDB 1.5 can lose a file's error and keep half of
    it, so a batch is never read file by file in one scan.) `together=False` reads every file on its own."""
    if together:
        try:
            if _stage_read(conn, batch, report, work, "together"):
                return
        except duckdb.Error as exc:
            log(f"{len(batch):,} files did not read together ({exc})")
        if len(batch) > 1:
            for half in (batch[: len(batch) // 2], batch[len(batch) // 2 :]):
                _stage_batch(conn, half, report, log, work, together)
            return
    for head in batch:
        try:
            # after a failed read together, a clean read alone means that one of the two lost an error
            if _stage_read(conn, [head], report, work, "alone, with errors" if together else "alone"):
                continue
            reason = "read differently on two passes (a parser error was lost): not loaded rather than half-loaded"
        except duckdb.Error as exc:  # the scan itself failed on this file: quarantine it with DuckDB's words
            reason = f"unreadable CSV: {exc}"
        conn.execute(
            "INSERT INTO quarantined_files VALUES (?, ?, ?, now())", [head["source_file"], head["sha256"], reason]
        )
        report.files_quarantined += 1
        log(f"quarantined {head['source_file']}: {reason}")


def _stage_read(conn: duckdb.DuckDBPyConnection, batch: list[dict], report: StageReport, work: Path, read: str) -> bool:
    """Stage one batch, `read` "together" (its files' rows read as one), or "alone" (its one file read on its
    own), or "alone, with errors". Its rows are read and typed into temp tables first, outside any
    transaction (DuckDB scans a table made inside the open transaction on one thread, several times
    slower), then stored in one transaction. False, and nothing stored, when the read does not hold up:
    together, a row rejected or a marker missing; alone with errors, none found."""
    _drop_batch_tables(conn)  # nothing of an earlier read (the rejects tables above all) is read as this one's
    run_script(conn, "batch_files")
    insert_rows(conn, "batch_files", [tuple(h[c] for c in FILE_COLUMNS) for h in batch])
    if read == "together":
        held_up = _read_together(conn, batch, work)
    else:
        _write_alone(batch)
        run_script(conn, "read_batch", [[h["read_path"] for h in batch]])
        held_up = read == "alone" or (conn.execute("SELECT count(*) FROM batch_rejects").fetchone() or (0,))[0] > 0
    if not held_up:
        return False

    def store() -> tuple | None:
        run_script(conn, "stage_batch")
        with transaction(conn):
            run_script(conn, "store_batch")
            return conn.execute(
                """SELECT (SELECT count(*) FROM batch_bad_files), coalesce(sum(rows_read), 0),
                          coalesce(sum(messages_new), 0), coalesce(sum(duplicates), 0), coalesce(sum(rejected), 0)
                   FROM source_files WHERE file_path IN (SELECT source_file FROM batch_files)
                     AND sha256 IN (SELECT sha256 FROM batch_files)"""
            ).fetchone()

    counts = retry_conflicts(store)  # a lake's month writer committed first: type the batch again on its snapshot
    assert counts is not None
    bad, rows, new, dups, rejected = counts
    report.files_quarantined += bad
    report.files_loaded += len(batch) - bad
    report.rows_read += rows
    report.messages_new += new
    report.duplicates += dups
    report.rejected += rejected
    if read == "together":
        report.files_read_together += len(batch)
    else:
        report.files_read_alone += len(batch)
    return True


def _read_together(conn: duckdb.DuckDBPyConnection, batch: list[dict], work: Path) -> bool:
    """Read a batch's rows in one scan of a few files (DuckDB's cost is per file: a few big files read several
    times faster than thousands of small ones). Each file's rows follow a marker row that names it, and an
    end marker closes each CSV; markers hold a nonce new to this batch, so that no export can forge one. True
    when no row was rejected and every marker is there: else a quote left open, a bad row or a file cut
    short by an error may have moved or lost rows."""
    nonce = "\x1e" + secrets.token_hex(16)
    paths = _write_together(batch, work, nonce)
    try:
        run_script(conn, "read_together", [paths], [nonce])
        clean = conn.execute(
            """SELECT (SELECT count(*) FROM batch_rejects) = 0
                  AND (SELECT count(*) FROM batch_markers WHERE file_rank = 'end') = ?
                  AND count(*) = ? AND count(DISTINCT f.file_rank) = ?
               FROM batch_markers m JOIN batch_files f ON f.file_rank::VARCHAR = m.file_rank""",
            [len(paths), len(batch), len(batch)],
        ).fetchone()
    finally:
        for path in paths:
            Path(path).unlink(missing_ok=True)
    return bool(clean and clean[0])


def _write_together(batch: list[dict], work: Path, nonce: str) -> list[str]:
    """Write the rows of the batch's files (what follows their four lines of metadata and header), in the
    batch's order, each file after its marker row: one CSV, closed by an end marker, for each run of files
    with the same line ending."""
    paths: list[str] = []
    end = f"{nonce},end,,,".encode()
    with ExitStack() as stack:
        out: BinaryIO | None = None
        newline = b""
        source: tuple[Path, BinaryIO] | None = None  # the members of one zip share their spool: open it once
        for head in batch:
            held: Candidate = head["held"]
            length = held.offset + held.length - head["rows_at"]
            if out is None or (length and head["newline"] != newline):
                if out is not None:
                    out.write(end + newline)
                newline = head["newline"]
                paths.append(str(work / f"together-{len(paths)}.csv"))
                out = stack.enter_context(open(paths[-1], "wb"))
            if source is None or source[0] != held.held_in:
                if source is not None:
                    source[1].close()
                source = (held.held_in, stack.enter_context(open(held.held_in, "rb")))
            out.write(f"{nonce},{head['file_rank']},,,".encode() + newline)
            last = b""
            for last in _read_range(source[1], head["rows_at"], length):
                out.write(last)
            if last and not last.endswith(b"\n"):
                out.write(newline)
        if out is not None:
            out.write(end + newline)
    return paths


def _write_alone(batch: list[dict]) -> None:
    """Write each zip member of the batch to its own file, for DuckDB to read the files one by one."""
    for head in batch:
        held: Candidate = head["held"]
        target = Path(head["read_path"])
        if held.held_in != target and not target.exists():
            with open(target, "wb") as out:
                for chunk in _chunks(held.held_in, held.offset, held.length):
                    out.write(chunk)
