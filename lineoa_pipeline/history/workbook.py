"""`xlsx` and `csv` exports: one file per account, a sheet (or file) of messages and, in the workbook, of chats.

The workbook is written by xlsxwriter with every text a string cell (never a formula, a number or a link,
whatever it starts with) and opens ready to read: `sent_at` an Excel date-time in local time (its UTC offset
in the next column), columns as wide as their values (up to a limit), a frozen header and an autofilter.
The CSV, which Excel would read `=...` from as a formula, carries LINE's own guard: a value that starts with
`=`, `+`, `-`, `@`, a tab or a line break is written after a `'`; its `sent_at` is ISO 8601 text.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import duckdb
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from lineoa_pipeline.history.html import file_stem
from lineoa_pipeline.history.output import private_folder, write_file
from lineoa_pipeline.history.reader import query
from lineoa_pipeline.settings.files import replacing
from lineoa_pipeline.settings.language import N_, Language
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, statements

CELL_CHARS = 32_767  # Excel's limit per cell
CELL_CHARS = 32_767  # Excel's limit per cell
SHEET_ROWS = 1_048_576  # Excel's limit per sheet, header included: more messages continue on the next sheet
# The columns by their names in the contract, which are also the English titles; each language has its own.
MESSAGE_COLUMNS = (
    N_("account_name"),
    N_("chat_name"),
    N_("sent_at"),
    N_("utc_offset"),
    N_("sender_type"),
    N_("sender_name"),
    N_("kind"),
    N_("content"),
    N_("media_file"),
)
CHAT_COLUMNS = (
    N_("account_name"),
    N_("chat_name"),
    N_("chat_type"),
    N_("tags"),
    N_("messages"),
    N_("first_at"),
    N_("last_at"),
)
SHEETS = {"chats": N_("chats"), "messages": N_("messages"), "more": N_("messages ({part})")}
DATE_TIME = "yyyy-mm-dd hh:mm:ss"  # Excel's number format of sent_at
MAX_WIDTH = {"content": 80}  # a column is as wide as its widest value, up to this (in characters)
DEFAULT_MAX_WIDTH = 40
_XLSX_ONLY = ("sent_local", "utc_offset")  # the csv keeps sent_at as ISO text, with its offset


def display_width(text: str) -> int:
    """About how many columns `text` takes: 1 per ASCII letter, 2 per kana or kanji; its longest line."""
    return max((len(line.encode("utf-8")) + len(line)) // 2 for line in text.split("\n"))


class _Sheet:
    """One sheet being filled row by row: it knows its widths, and sets them with the filter when done."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, columns: tuple[str, ...], lang: Language) -> None:
        self.sheet: Worksheet = book.add_worksheet(name)
        self.columns = columns
        titles = [lang.gettext(column) for column in columns]
        self.widths = [display_width(title) for title in titles]
        self.rows = 0
        self.date_time = book.add_format({"num_format": DATE_TIME})
        bold = book.add_format({"bold": True})
        for col, title in enumerate(titles):
            self.sheet.write_string(0, col, title, bold)
        self.sheet.freeze_panes(1, 0)

    def add(self, values: tuple) -> None:
        self.rows += 1
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, datetime):
                self.sheet.write_datetime(self.rows, col, value, self.date_time)
                width = len(DATE_TIME)
            elif isinstance(value, int):
                self.sheet.write_number(self.rows, col, value)
                width = len(f"{value:,}")
            else:
                self.sheet.write_string(self.rows, col, fit_cell(value))
                width = display_width(value)
            self.widths[col] = max(self.widths[col], width)

    def close(self) -> None:
        for col, (title, width) in enumerate(zip(self.columns, self.widths, strict=True)):
            self.sheet.set_column(col, col, min(width, MAX_WIDTH.get(title, DEFAULT_MAX_WIDTH)) + 2)
        self.sheet.autofilter(0, 0, self.rows, len(self.columns) - 1)


def write_workbooks(conn: duckdb.DuckDBPyConnection, out: Path, languages: dict[str, Language]) -> list[Path]:
    """One `.xlsx` per account of `history_messages` (see `transcript.select_messages`) under `out`, its sheets
    and column titles in the account's language."""
    private_folder(out)
    chats = query(conn, "history_chats", {}).fetchall()
    paths = []
    for account in sorted({row[0] for row in chats}):
        path = out / f"{file_stem(account, account)}.xlsx"
        with replacing(path) as stream:
            _write_workbook(conn, stream, account, [r for r in chats if r[0] == account], languages[account])
        paths.append(path)
    return paths


def _write_workbook(
    conn: duckdb.DuckDBPyConnection, stream: BinaryIO, account: str, chats: list[tuple], lang: Language
) -> None:
    """One account's workbook into `stream`: its chats, then its messages."""
    book = xlsxwriter.Workbook(
        stream,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = _Sheet(book, lang.gettext(SHEETS["chats"]), CHAT_COLUMNS, lang)
    for _, _, shown, chat_type, messages, first_at, last_at, tags, _ in chats:
        sheet.add((account, shown, chat_type, ", ".join(tags), messages, first_at, last_at))
    sheet.close()
    rows = query(conn, "history_export_rows", {"account": account, "guard": False})
    for sheet in _message_sheets(book, rows, lang):
        sheet.close()
    book.close()


def _message_sheets(book: xlsxwriter.Workbook, result: duckdb.DuckDBPyConnection, lang: Language) -> Iterator[_Sheet]:
    """Fill `messages`, then `messages (2)`, … past Excel's row limit; each sheet is yielded once full."""
    sheet, part = _Sheet(book, lang.gettext(SHEETS["messages"]), MESSAGE_COLUMNS, lang), 1
    while rows := result.fetchmany(10_000):
        for account, chat, _iso, local, offset, *rest in rows:
            if sheet.rows + 1 == SHEET_ROWS:
                yield sheet
                part += 1
                sheet = _Sheet(book, lang.gettext(SHEETS["more"], part=part), MESSAGE_COLUMNS, lang)
            sheet.add((account, chat, local, offset, *rest))
    yield sheet


def write_csvs(conn: duckdb.DuckDBPyConnection, out: Path, languages: dict[str, Language]) -> list[Path]:
    """One CSV per account of `history_messages`, UTF-8 with a BOM (Excel opens it as is), written by DuckDB
    under a header in the account's language."""
    private_folder(out)
    accounts = [a for (a,) in conn.execute("SELECT DISTINCT account_name FROM history_messages ORDER BY 1").fetchall()]
    paths = []
    (rows_sql,) = statements("history_export_rows")
    for account in accounts:
        path = out / f"{file_stem(account, account)}.csv"
        # DuckDB's COPY follows a link at its path: it writes into a folder of this process's own
        with tempfile.TemporaryDirectory(prefix=".lineoa-export-", dir=out) as scratch:
            body = Path(scratch) / "body.csv"
            execute_with_literals(
                conn,
                f"COPY (SELECT * EXCLUDE ({', '.join(_XLSX_ONLY)}) FROM ({rows_sql})) TO $path "
                "(FORMAT csv, HEADER false, QUOTE '\"', ESCAPE '\"')",
                {"account": account, "guard": True, "path": str(body)},
            )
            titles = [languages[account].gettext(c) for c in MESSAGE_COLUMNS if c not in _XLSX_ONLY]
            with body.open("rb") as source:
                write_file(path, _with_bom(_csv_line(titles), source))
        paths.append(path)
    return paths


def _csv_line(values: list[str]) -> bytes:
    """One CSV line as DuckDB writes its rows (quoted where needed, CRLF-free)."""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(values)
    return line.getvalue().encode("utf-8")


def _with_bom(header: bytes, source: BinaryIO) -> Iterator[bytes]:
    yield "\ufeff".encode() + header
    while chunk := source.read(1 << 20):
        yield chunk


def fit_cell(text: str) -> str:
    """`text` as one cell holds it: past Excel's 32,767 characters a cell would be cut without a word, so its
    end gives way to a mark saying so (the CSV export keeps every character)."""
    if len(text) <= CELL_CHARS:
        return text
    mark = f" [… cut at Excel's cell limit: {len(text):,} characters in all, every one in the CSV export]"
    return text[: CELL_CHARS - len(mark)] + mark
