"""`lineoa export` and the data directory's `transcripts/`: the history as HTML, xlsx or csv files."""

from __future__ import annotations

import os
from pathlib import Path

from lineoa_pipeline.history.html import HtmlReport, write_html
from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.transcript import select_messages
from lineoa_pipeline.history.workbook import write_csvs, write_workbooks
from lineoa_pipeline.settings.datadir import DataDir

FORMATS = ("html", "xlsx", "csv")


class NothingSelected(Exception):
    """The filters select no message: nothing is written."""


def export(data_dir: DataDir, out: Path, fmt: str, filters: Filters, mask: bool) -> str:
    """Write the chats `filters` select under `out` as `fmt`; returns what was written, in words. Raises
    NothingSelected, before writing anything, when the filters select no message."""
    with open_history(data_dir.root) as conn:
        select_messages(conn, filters, mask)
        if not conn.execute("SELECT 1 FROM history_messages LIMIT 1").fetchall():
            raise NothingSelected("no message matches the selection: nothing written")
        if fmt == "html":
            report = write_html(conn, out, data_dir.media, masked=mask, incremental=False)
            return f"{report.pages_written:,} chat pages of {report.accounts:,} accounts in {out}"
        paths = write_workbooks(conn, out) if fmt == "xlsx" else write_csvs(conn, out)
    return f"{len(paths):,} {fmt} files in {out}: " + ", ".join(os.path.basename(p) for p in paths)


def transcripts_folder(data_dir: DataDir) -> Path:
    return data_dir.root / "transcripts"


def refresh_transcripts(data_dir: DataDir) -> HtmlReport:
    """Bring `transcripts/` up to the published warehouse: every chat of every account, unmasked, rewriting
    only the chats whose messages, tags or saved media changed since the last refresh."""
    with open_history(data_dir.root) as conn:
        select_messages(conn, Filters(), mask=False)
        return write_html(conn, transcripts_folder(data_dir), data_dir.media, masked=False, incremental=True)
