"""`xlsx` and `csv` exports: one file per account, a sheet (or file) of messages and, in the workbook, of chats.

The workbook is written by xlsxwriter with every text a string cell (never a formula, a number or a link,
whatever it starts with). The CSV, which Excel would read `=...` from as a formula, carries LINE's own guard:
a value that starts with `=`, `+`, `-`, `@`, a tab or a line break is written after a `'`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

import duckdb
import xlsxwriter

from lineoa_pipeline.history.html import file_stem, private_folder
from lineoa_pipeline.history.reader import query
from lineoa_pipeline.settings.files import replacing
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, statements

CELL_CHARS = 32_767  # Excel's limit per cell
SHEET_ROWS = 1_048_576  # Excel's limit per sheet, header included: more messages continue on the next sheet
MESSAGE_COLUMNS = (
    "account_name",
    "chat_name",
    "sent_at",
    "sender_type",
    "sender_name",
    "kind",
    "content",
    "media_file",
)
CHAT_COLUMNS = ("account_name", "chat_name", "chat_type", "tags", "messages", "first_at", "last_at")


def write_workbooks(conn: duckdb.DuckDBPyConnection, out: Path) -> list[Path]:
    """One `.xlsx` per account of `history_messages` (see `transcript.select_messages`) under `out`."""
    private_folder(out)
    chats = query(conn, "history_chats", {}).fetchall()
    paths = []
    for account in sorted({row[0] for row in chats}):
        path = out / f"{file_stem(account, account)}.xlsx"
        with replacing(path) as stream:
            _write_workbook(conn, stream, account, [r for r in chats if r[0] == account])
        paths.append(path)
    return paths


def _write_workbook(conn: duckdb.DuckDBPyConnection, stream: BinaryIO, account: str, chats: list[tuple]) -> None:
    """One account's workbook into `stream`: its chats, then its messages (every cell a string value)."""
    book = xlsxwriter.Workbook(
        stream,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = _sheet(book, "chats", CHAT_COLUMNS)
    for n, (_, _, shown, chat_type, messages, first_at, last_at, tags, _) in enumerate(chats, start=1):
        for col, value in enumerate((account, shown, chat_type, ", ".join(tags), messages, first_at, last_at)):
            sheet.write_number(n, col, value) if isinstance(value, int) else sheet.write_string(n, col, value)
    result = query(conn, "history_export_rows", {"account": account, "guard": False})
    sheet, row, part = _sheet(book, "messages", MESSAGE_COLUMNS), 0, 1
    while rows := result.fetchmany(10_000):
        for values in rows:
            row += 1
            if row == SHEET_ROWS:
                part += 1
                sheet, row = _sheet(book, f"messages ({part})", MESSAGE_COLUMNS), 1
            for col, value in enumerate(values):
                if value is not None:
                    sheet.write_string(row, col, fit_cell(value))
    book.close()


def fit_cell(text: str) -> str:
    """`text` as one cell holds it: past Excel's 32,767 characters a cell would be cut without a word, so its
    end gives way to a mark saying so (the CSV export keeps every character)."""
    if len(text) <= CELL_CHARS:
        return text
    mark = f" [… cut at Excel's cell limit: {len(text):,} characters in all, every one in the CSV export]"
    return text[: CELL_CHARS - len(mark)] + mark


def _sheet(book: xlsxwriter.Workbook, name: str, columns: tuple[str, ...]) -> xlsxwriter.workbook.Worksheet:
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    for col, title in enumerate(columns):
        sheet.write_string(0, col, title, bold)
    sheet.freeze_panes(1, 0)
    return sheet


def write_csvs(conn: duckdb.DuckDBPyConnection, out: Path) -> list[Path]:
    """One CSV per account of `history_messages`, UTF-8 with a BOM (Excel opens it as is), written by DuckDB."""
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
                f"COPY ({rows_sql}) TO $path (FORMAT csv, HEADER true, QUOTE '\"', ESCAPE '\"')",
                {"account": account, "guard": True, "path": str(body)},
            )
            with replacing(path) as target, body.open("rb") as source:
                target.write("\ufeff".encode())
                shutil.copyfileobj(source, target, 1 << 20)
        paths.append(path)
    return paths
