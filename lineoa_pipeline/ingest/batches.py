"""Staging batches of files: each batch read by DuckDB in one scan of a few big CSVs (or, when that does not
read cleanly, in halves down to single files), typed, and stored in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import duckdb

from lineoa_pipeline.ingest.counts import StageReport
from lineoa_pipeline.ingest.staged import StagedFile, chunks, read_range
from lineoa_pipeline.ingest.unchanged import record_bodies
from lineoa_pipeline.warehouse.sqlfiles import insert_rows, retry_conflicts, run_script, transaction

Log = Callable[[str], None]


def batches(staged: list[StagedFile], max_files: int, max_bytes: int) -> Iterable[list[StagedFile]]:
    batch: list[StagedFile] = []
    size = 0
    for file in staged:
        if batch and (len(batch) >= max_files or size + file.bytes > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(file)
        size += file.bytes
    if batch:
        yield batch


def stage_batch(
    conn: duckdb.DuckDBPyConnection, batch: list[StagedFile], report: StageReport, log: Log, work: Path, together: bool
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
            log(f"{len(batch):,} files did not read together ({duckdb_reason(exc)})")
        if len(batch) > 1:
            for half in (batch[: len(batch) // 2], batch[len(batch) // 2 :]):
                stage_batch(conn, half, report, log, work, together)
            return
    for file in batch:
        try:
            # after a failed read together, a clean read alone means that one of the two lost an error
            if _stage_read(conn, [file], report, work, "alone, with errors" if together else "alone"):
                continue
            reason = "read differently on two passes (a parser error was lost): not loaded rather than half-loaded"
        except duckdb.Error as exc:  # the scan itself failed on this file: quarantine it with DuckDB's words
            reason = f"unreadable CSV: {duckdb_reason(exc)}"
        conn.execute("INSERT INTO quarantined_files VALUES (?, ?, ?, now())", [file.source_file, file.sha256, reason])
        report.files_quarantined += 1
        log(f"quarantined {file.source_file}: {reason}")


def duckdb_reason(exc: duckdb.Error) -> str:
    """DuckDB's words for a failed read, without the row it quotes (`Original Line: ...`): a reason lands in
    the log and in `quarantined_files`, and a row is a customer's message, never to be copied there."""
    lines = [line for line in str(exc).splitlines() if line.strip() and not line.startswith("Original Line")]
    return " ".join(lines[:2])


def _stage_read(
    conn: duckdb.DuckDBPyConnection, batch: list[StagedFile], report: StageReport, work: Path, read: str
) -> bool:
    """Stage one batch, `read` "together" (its files' rows read as one), or "alone" (its one file read on its
    own), or "alone, with errors". Its rows are read and typed into temp tables first, outside any
    transaction (DuckDB scans a table made inside the open transaction on one thread, several times
    slower), then stored in one transaction. False, and nothing stored, when the read does not hold up:
    together, a row rejected or a marker missing; alone with errors, none found."""
    drop_batch_tables(conn)  # nothing of an earlier read (the rejects tables above all) is read as this one's
    run_script(conn, "batch_files")
    insert_rows(conn, "batch_files", [file.batch_row() for file in batch])
    if read == "together":
        held_up = _read_together(conn, batch, work)
    else:
        _write_alone(batch)
        run_script(conn, "read_batch", [[file.read_path for file in batch], _longest_line(batch)])
        held_up = read == "alone" or (conn.execute("SELECT count(*) FROM batch_rejects").fetchone() or (0,))[0] > 0
    if not held_up:
        return False

    def store() -> tuple | None:
        run_script(conn, "stage_batch")
        with transaction(conn):
            run_script(conn, "store_batch")
            record_bodies(conn, batch)  # unchanged files: what a later file with the same rows is matched on
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


def _read_together(conn: duckdb.DuckDBPyConnection, batch: list[StagedFile], work: Path) -> bool:
    """Read a batch's rows in one scan of a few files (DuckDB's cost is per file: a few big files read several
    times faster than thousands of small ones). Each file's rows follow a marker row that names it, and an
    end marker closes each CSV; markers hold a nonce new to this batch, so that no export can forge one. True
    when no row was rejected and every marker is there: else a quote left open, a bad row or a file cut
    short by an error may have moved or lost rows."""
    nonce = "\x1e" + secrets.token_hex(16)
    paths = _write_together(batch, work, nonce)
    try:
        run_script(conn, "read_together", [paths, _longest_line(batch)], [nonce])
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


def _longest_line(batch: list[StagedFile]) -> int:
    """DuckDB's `max_line_size` for reading the batch: no line is longer than the largest file (as UTF-8),
    so that a field of any real length loads; never below DuckDB's default."""
    return max(2_000_000, *(file.held.length + 1 for file in batch))


def _write_together(batch: list[StagedFile], work: Path, nonce: str) -> list[str]:
    """Write the rows of the batch's files (what follows their four lines of metadata and header), in the
    batch's order, each file after its marker row: one CSV, closed by an end marker, for each run of files
    with the same line ending."""
    paths: list[str] = []
    end = f"{nonce},end,,,".encode()
    with ExitStack() as stack:
        out: BinaryIO | None = None
        newline = b""
        source: tuple[Path, BinaryIO] | None = None  # the members of one zip share their spool: open it once
        for file in batch:
            held = file.held
            length = held.offset + held.length - file.rows_at
            if out is None or (length and file.newline != newline):
                if out is not None:
                    out.write(end + newline)
                newline = file.newline
                paths.append(str(work / f"together-{len(paths)}.csv"))
                out = stack.enter_context(open(paths[-1], "wb"))
            if source is None or source[0] != held.held_in:
                if source is not None:
                    source[1].close()
                source = (held.held_in, stack.enter_context(open(held.held_in, "rb")))
            out.write(f"{nonce},{file.file_rank},,,".encode() + newline)
            last = b""
            for last in read_range(source[1], file.rows_at, length):
                out.write(last)
            if last and not last.endswith(b"\n"):
                out.write(newline)
        if out is not None:
            out.write(end + newline)
    return paths


def _write_alone(batch: list[StagedFile]) -> None:
    """Write each zip member of the batch to its own file, for DuckDB to read the files one by one."""
    for file in batch:
        held = file.held
        target = held.read_path
        if held.held_in != target and not target.exists():
            with open(target, "wb") as out:
                for chunk in chunks(held.held_in, held.offset, held.length):
                    out.write(chunk)


def drop_batch_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop every batch's temp tables: before each read, and after the last batch, to free their memory (the
    months are written next, on the same connection)."""
    names = conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'batch_')"
    ).fetchall()
    for (name,) in names:
        conn.execute(f'DROP TABLE "{name}"')
