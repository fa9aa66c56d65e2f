"""Bad input: an unreadable file quarantined whole, an unplaceable row rejected with its line, every file reconciled.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

import io
import zipfile
from datetime import datetime
from typing import Any

import pytest

from lineoa_pipeline.line_export.render import write_bulk_zip
from lineoa_pipeline_tests.helpers import IngestDir
from lineoa_pipeline_tests.ingest.chats import CHAT, GOOD, export, msg, reconciled, unknown_header, window

pytestmark = pytest.mark.embedded_only  # the lake stages what this reads: ingest/test_identity and others

# --- bad input ---------------------------------------------------------------------------------------------


def _cut_inside_a_quote() -> bytes:
    data = export([*GOOD, msg("User", "山田", "2026-03-01 10:02:00", "一行目\n二行目\n三行目")])
    return data[: data.index("二行目".encode())]


def _bad_utf8() -> bytes:
    return export(GOOD).replace(b"ok too", b"ok \xff\xfe too")


def _bad_cp932() -> bytes:
    return export(GOOD, excel=True).replace(b"ok too", b"ok \x81\x20 too")  # a lead byte without its trail


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_cut_inside_a_quote, "never closed"),
        (unknown_header, "unknown header"),
        (_bad_utf8, "unicode"),
        (_bad_cp932, "undecodable bytes at byte"),
    ],
)
def test_an_unreadable_file_is_quarantined_whole_and_the_run_goes_on(
    ingest_dir: IngestDir, make: Any, reason: str
) -> None:
    bad = make()
    for i in range(5):  # among several good files read in the same batch
        ingest_dir.drop(f"good{i}.csv", export(GOOD, account=f"Shop {i}"))
    ingest_dir.drop("bad.csv", bad)
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (5, 1)
    ((path, sha, why),) = ingest_dir.query("SELECT file_path, sha256, reason FROM quarantined_files")
    assert path == "bad.csv" and reason in why.lower()
    assert (ingest_dir.data_dir.archive / sha).read_bytes() == bad  # kept, byte for byte
    assert ingest_dir.query("SELECT count(*) FROM source_files WHERE file_path = 'bad.csv'") == [(0,)]
    assert ingest_dir.query("SELECT count(*) FROM messages WHERE source_file = 'bad.csv'") == [(0,)]
    assert ingest_dir.query("SELECT count(*) FROM rejected_rows") == [(0,)]
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(10,)]


def test_a_quarantine_reason_describes_the_file_without_quoting_it(ingest_dir: IngestDir) -> None:
    secret = "SECRET-MESSAGE my card is 4111-1111"
    head = "\ufeffアカウント名,さくら整体院\r\nタイムゾーン,'+09:00\r\nダウンロード日時,2026/03/02 18:05\r\n"
    row = f"User,Hanako Tanaka,2026/02/27,23:59:58,{secret}\r\n"
    ingest_dir.drop("no_header.csv", (head + row * 3).encode())  # the header row is missing
    ingest_dir.drop("no_metadata.csv", (row * 5).encode())  # a message where the account name belongs
    header = "送信者タイプ,送信者名,送信日,送信時刻,内容\r\n"
    ingest_dir.drop("bad_zone.csv", (head.replace("'+09:00", secret) + header + row).encode())
    ingest_dir.drop("bad_time.csv", (head.replace("2026/03/02 18:05", secret) + header + row).encode())
    logged: list[str] = []
    report = ingest_dir.ingest(log=logged.append)
    assert report.files_quarantined == 4
    reasons = dict(ingest_dir.query("SELECT file_path, reason FROM quarantined_files"))
    assert reasons["no_header.csv"] == (
        "unknown header: line 4 (5 columns) is not a ja export's header (送信者タイプ,送信者名,送信日,送信時刻,内容)"
    )
    assert "unknown metadata labels: lines 1-3 " in reasons["no_metadata.csv"]
    assert "line 2: unreadable time zone" in reasons["bad_zone.csv"]
    assert "line 3: unreadable download time" in reasons["bad_time.csv"]
    for text in [*reasons.values(), *logged]:
        assert not any(word in text for word in ("SECRET", "4111", "Hanako", "User,")), text


def test_rows_that_cannot_be_placed_are_rejected_with_file_line_and_reason(ingest_dir: IngestDir) -> None:
    head = export([msg("User", "山田", "2026-03-01 10:00:00", "一行目\n二行目\n三行目, 続き")])  # lines 5-7
    body = (
        'User,山田,2026/03/01,10:00:01,"ok"\r\n'  # 8
        "User,山田,2026/02/30,10:00:00,no such day\r\n"  # 9
        "User,山田,2026/03/01,,empty time\r\n"  # 10
        "Bot,山田,2026/03/01,10:00:00,unknown sender type\r\n"  # 11
        "User,山田,2026/03/01,10:00:00,too,many\r\n"  # 12
        "User,山田,2026/03/01\r\n"  # 13
        'User,山田,2026/03/01,10:00:02,"two\r\nlines"\r\n'  # 14-15
        'User,山田,2026/03/01,"25:00:00",bad hour\r\n'  # 16
        'User,山田,2026/03/01,10:00:03,"again\r\ntwo",lines\r\n'  # 17-18: too many columns across lines
        ",,,,\r\n"  # 19
        "User,山田,2026/3/1,8:05:09,unpadded is fine\r\n"  # 20
        'User,山田,2026/02/30,10:00:00,"say ""hi"", then\r\nbye"\r\n'  # 21-22
    )
    ingest_dir.drop("rejects.csv", head + body.encode())
    report = ingest_dir.ingest()
    assert (report.rows_read, report.messages_new, report.rejected) == (13, 4, 9)
    rejects = ingest_dir.query("SELECT source_file, line, reason, raw FROM rejected_rows ORDER BY line")
    assert [(f, line) for f, line, _, _ in rejects] == [("rejects.csv", n) for n in (9, 10, 11, 12, 13, 16, 17, 19, 21)]
    reasons = {line: reason for _, line, reason, _ in rejects}
    assert "2026/02/30" in reasons[9] and "date" in reasons[9]
    assert "date/time" in reasons[10]
    assert reasons[11] == 'unknown sender type "Bot"'
    assert reasons[12] == "wrong column count: expected 5, found 6"
    assert reasons[13] == "wrong column count: expected 5, found 3"
    assert "25:00:00" in reasons[16]
    assert reasons[17] == "wrong column count: expected 5, found 6"
    assert "sender type" in reasons[19]
    raws = {line: raw for _, line, _, raw in rejects}
    assert raws[12] == "User,山田,2026/03/01,10:00:00,too,many"
    assert raws[10] == "User,山田,2026/03/01,,empty time"
    assert raws[16] == "User,山田,2026/03/01,25:00:00,bad hour"  # the record as CSV, quoted where it must be
    assert raws[19] == ",,,,"
    assert raws[21] == 'User,山田,2026/02/30,10:00:00,"say ""hi"", then\r\nbye"'
    assert raws[17] == 'User,山田,2026/03/01,10:00:03,"again\r\ntwo",lines'
    assert ingest_dir.query("SELECT content FROM messages ORDER BY sent_at, export_seq") == [
        ("unpadded is fine",),
        ("一行目\n二行目\n三行目, 続き",),
        ("ok",),
        ("two\nlines",),
    ]


def test_every_file_reconciles_and_rows_read_counts_every_record(ingest_dir: IngestDir) -> None:
    rows = [*CHAT]
    bad_rows = "User,山田 花子,2026/13/01,10:00:00,x\r\nUser,x\r\n".encode()
    ingest_dir.drop("one/20260110_20260331_山田花子.csv", export(rows) + bad_rows)
    ingest_dir.drop(
        "two/20260110_20260214_山田花子.csv",
        export(window("2026-01-10", "2026-02-14"), downloaded_at=datetime(2026, 2, 20, 9, 0)),
    )
    write_bulk_zip(
        ingest_dir.data_dir.inbox / "bulk.zip",
        "さくら整体院",
        {"山田 花子": CHAT, "無言": []},
        downloaded_at=datetime(2026, 4, 5, 9, 0),
    )
    ingest_dir.ingest()
    assert reconciled(ingest_dir) == []
    files = ingest_dir.query("SELECT file_path, rows_read, messages_new, duplicates, rejected FROM source_files")
    assert sorted(files) == [
        ("bulk.zip!00001_20260110_20260331_山田花子.csv", 7, 0, 7, 0),
        ("bulk.zip!00002_無言.csv", 0, 0, 0, 0),
        ("one/20260110_20260331_山田花子.csv", 9, 2, 5, 2),
        ("two/20260110_20260214_山田花子.csv", 5, 5, 0, 0),
    ]
    assert ingest_dir.query("SELECT sum(messages_new) FROM source_files") == ingest_dir.query(
        "SELECT count(*) FROM messages"
    )


def _workbook(sheet: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", f"<workbook><sheet name='{sheet}'/></workbook>")
    return buffer.getvalue()


def _zip_of_photos() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as photos:
        photos.writestr("IMG_0001.jpg", b"jpeg")
    return buffer.getvalue()


def test_nothing_in_the_inbox_is_ignored_silently(ingest_dir: IngestDir) -> None:
    ingest_dir.drop("20260301_20260301_山田.xlsx", _workbook("山田"))
    ingest_dir.drop("resaved.csv", _workbook("resaved"))  # a workbook named .csv: its bytes say what it is
    ingest_dir.drop("[LINE] 山田.txt", "2026/03/01(日)\n10:00\t山田\tok\n".encode())
    ingest_dir.drop("photos.zip", _zip_of_photos())
    ingest_dir.drop("notes", b"a file without an extension")
    ingest_dir.drop("good.csv", export(GOOD))
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (1, 5)
    excel = "an Excel workbook: download the CSV again, or save it as CSV"
    assert dict(ingest_dir.query("SELECT file_path, reason FROM quarantined_files")) == {
        "20260301_20260301_山田.xlsx": excel,
        "resaved.csv": excel,
        "[LINE] 山田.txt": "a text file: LINE's chat history as text cannot be read; download the chat as CSV instead",
        "photos.zip": "a zip with no CSV inside: download the backup again (a backup holds one CSV per chat)",
        "notes": "not a chat export (a file without an extension): the inbox takes the CSV files and zip backups"
        " LINE exports",
    }
