"""`xlsx` and `csv` exports: one file per account, a sheet (or file) of messages and, in the workbook, of chats.

The workbook is written by xlsxwriter with every text a string cell (never a formula, a number or a link,
whatever it starts with). The CSV, which Excel would read `=...` from as a formula, carries LINE's own guard:
a value that starts with `=`, `+`, `-`, `@`, a tab or a line break is written after a `'`.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import xlsxwriter

from lineoa_pipeline.history.html import file_stem, private_folder
from lineoa_pipeline.history.reader import query
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, statements

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
        book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        sheet = _sheet(book, "chats", CHAT_COLUMNS)
        for n, (_, _, shown, chat_type, messages, first_at, last_at, tags, _) in enumerate(
            (r for r in chats if r[0] == account), start=1
        ):
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
                        sheet.write_string(row, col, value)
        book.close()
        os.chmod(path, 0o600)
        paths.append(path)
    return paths


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
        body = path.with_name(f".{path.name}.body")
        execute_with_literals(
            conn,
            f"COPY ({rows_sql}) TO $path (FORMAT csv, HEADER true, QUOTE '\"', ESCAPE '\"')",
            {"account": account, "guard": True, "path": str(body)},
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as target, body.open("rb") as source:
            target.write("\ufeff".encode())
            while chunk := source.read(1 << 20):
                target.write(chunk)
        body.unlink()
        paths.append(path)
    return paths
