"""`lineoa export` and the data directory's `transcripts/`: the history as HTML, xlsx or csv files."""

from __future__ import annotations

import os
from pathlib import Path

from lineoa_pipeline.history.html import HtmlReport, write_html
from lineoa_pipeline.history.output import MEDIA, copy_media, export_folder
from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.transcript import select_messages
from lineoa_pipeline.history.workbook import write_csvs, write_workbooks
from lineoa_pipeline.settings.datadir import DataDir

FORMATS = ("html", "xlsx", "csv")


class NothingToExport(LookupError):
    """The filters select no message: nothing is written."""


def export(data_dir: DataDir, out: Path, fmt: str, filters: Filters, mask: bool) -> str:
    """Write the chats `filters` select as `fmt` into a folder that replaces `out` whole (see
    `output.export_folder`); a plain export carries the saved media it links. Returns what was written."""
    with open_history(data_dir.root) as conn:
        select_messages(conn, filters, mask)
        if conn.execute("SELECT 1 FROM history_messages LIMIT 1").fetchone() is None:
            raise NothingToExport("no messages match: nothing written")
        with export_folder(out, fmt, mask) as folder:
            media = copy_media(conn, data_dir.media, folder)
            if fmt == "html":
                report = write_html(conn, folder, folder / MEDIA, masked=mask, incremental=False)
                written = f"{report.pages_written:,} chat pages of {report.accounts:,} accounts"
            else:
                paths = write_workbooks(conn, folder) if fmt == "xlsx" else write_csvs(conn, folder)
                written = f"{len(paths):,} {fmt} files (" + ", ".join(os.path.basename(p) for p in paths) + ")"
    return f"{written} and {media:,} media files in {out}"


def transcripts_folder(data_dir: DataDir) -> Path:
    return data_dir.root / "transcripts"


def refresh_transcripts(data_dir: DataDir) -> HtmlReport:
    """Bring `transcripts/` up to the published warehouse: every chat of every account, unmasked, rewriting
    only the chats whose messages, tags or saved media changed since the last refresh."""
    with open_history(data_dir.root) as conn:
        select_messages(conn, Filters(), mask=False)
        return write_html(conn, transcripts_folder(data_dir), data_dir.media, masked=False, incremental=True)
