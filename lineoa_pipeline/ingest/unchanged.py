"""Unchanged chats: a weekly bulk backup holds most chats exactly as last week's did, only its download-time
line differs. A file whose rows (everything after that line: the header and every row, byte for byte in
the same encoding) equal those of a file already staged for the same account, chat and time zone holds
exactly that file's messages: it is counted from that file's counts, its rows all duplicates and its
rejects that file's, without being read or typed.

Staging records each stored file's body hash (`_file_bodies`); `take_unchanged` stores the batch's files
that match one and hands back the rest to parse; `record_bodies` records the parsed ones. A loose CSV in a
legacy code page is transcoded as it is read, not hashed: it is always parsed.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from lineoa_pipeline.ingest.counts import StageReport
from lineoa_pipeline.ingest.staged import StagedFile
from lineoa_pipeline.warehouse.sqlfiles import insert_rows, run_script, statements, transaction

Log = Callable[[str], None]


def _bodies(batch: list[StagedFile]) -> list[tuple[int, str, str]]:
    """(file_rank, encoding, body hash) of the batch's files that have one."""
    return [(f.file_rank, f.encoding, f.held.body_sha256) for f in batch if f.held.body_sha256]


def take_unchanged(
    conn: duckdb.DuckDBPyConnection, batch: list[StagedFile], report: StageReport, log: Log
) -> list[StagedFile]:
    """Store the batch's files whose body a file staged earlier has (in one transaction, counted in `report`),
    and return the others, to be parsed."""
    run_script(conn, "unchanged_schema")
    bodies = _bodies(batch)
    if not bodies:
        return batch
    run_script(conn, "batch_files")
    insert_rows(conn, "batch_files", [file.batch_row() for file in batch])
    run_script(conn, "unchanged_match", [list(c) for c in zip(*bodies, strict=True)])
    matched = {rank for (rank,) in conn.execute("SELECT file_rank FROM batch_unchanged").fetchall()}
    if matched:
        with transaction(conn):
            run_script(conn, "unchanged_store")
        rows, rejected = conn.execute(
            "SELECT coalesce(sum(rows_read), 0), coalesce(sum(rejected), 0) FROM batch_unchanged"
        ).fetchone() or (0, 0)
        report.files_loaded += len(matched)
        report.files_unchanged += len(matched)
        report.rows_read += rows
        report.duplicates += rows - rejected
        report.rejected += rejected
        log(f"{len(matched):,} of {len(batch):,} files hold the rows of a file staged before: not parsed")
    return [file for file in batch if file.file_rank not in matched]


def record_bodies(conn: duckdb.DuckDBPyConnection, batch: list[StagedFile]) -> None:
    """Record the body hashes of the batch's stored files (those of `batch_files` not in `batch_bad_files`);
    runs inside the transaction that stores the batch."""
    bodies = _bodies(batch)
    if bodies:
        (record,) = statements("unchanged_record")
        conn.execute(record, [list(c) for c in zip(*bodies, strict=True)])
