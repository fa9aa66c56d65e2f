"""`lineoa export` and the data directory's `transcripts/`: the history as HTML, xlsx or csv files."""

from __future__ import annotations

import os
from pathlib import Path

from lineoa_pipeline.history.html import HtmlReport, write_html
from lineoa_pipeline.history.labels import account_languages, common_language
from lineoa_pipeline.history.output import MEDIA, copy_media, export_folder
from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.transcript import select_messages
from lineoa_pipeline.history.workbook import write_csvs, write_workbooks
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import ENGLISH, N_, Language, Told

FORMATS = ("html", "xlsx", "csv")


class NothingToExport(Told, LookupError):
    """The filters select no message: nothing is written."""


def export(
    data_dir: DataDir,
    out: Path,
    fmt: str,
    filters: Filters,
    mask: bool,
    *,
    settings: Settings,
    lang: str | None = None,
    said: Language = ENGLISH,
) -> str:
    """Write the chats `filters` select as `fmt`, each account's in its language (`lang`, when given, for all),
    into a folder that replaces `out` whole (see `output.export_folder`); a plain export carries the saved
    media it links. Returns what was written, in words of `said` (the operator's language)."""
    with open_history(data_dir.root) as conn:
        languages = account_languages(conn, settings, lang)
        select_messages(conn, filters, languages, mask)
        if conn.execute("SELECT 1 FROM history_messages LIMIT 1").fetchone() is None:
            raise NothingToExport(N_("no messages match: nothing written"))
        with export_folder(out, fmt, mask) as folder:
            media = copy_media(conn, data_dir.media, folder)
            if fmt == "html":
                top = common_language(languages, settings, lang)
                report = write_html(conn, folder, folder / MEDIA, languages, top, masked=mask, incremental=False)
                return said.gettext(
                    "written to {folder}: chat pages {pages}, accounts {accounts}, media files {media}",
                    folder=str(out),
                    pages=report.pages_written,
                    accounts=report.accounts,
                    media=media,
                )
            write = write_workbooks if fmt == "xlsx" else write_csvs
            paths = write(conn, folder, languages)
    return said.gettext(
        "written to {folder}: {format} files {count} ({names}), media files {media}",
        folder=str(out),
        format=fmt,
        count=len(paths),
        names=", ".join(os.path.basename(p) for p in paths),
        media=media,
    )


def transcripts_folder(data_dir: DataDir) -> Path:
    return data_dir.root / "transcripts"


def refresh_transcripts(data_dir: DataDir, settings: Settings) -> HtmlReport:
    """Bring `transcripts/` up to the published warehouse: every chat of every account, unmasked, in its
    language, rewriting only the chats whose messages, tags, saved media or language changed since the
    last refresh."""
    with open_history(data_dir.root) as conn:
        languages = account_languages(conn, settings)
        select_messages(conn, Filters(), languages, mask=False)
        top = common_language(languages, settings)
        folder = transcripts_folder(data_dir)
        return write_html(conn, folder, data_dir.media, languages, top, masked=False, incremental=True)
