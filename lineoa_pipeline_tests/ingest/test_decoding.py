"""Every real LINE export is read as written: each UI language in its time zone, every encoding, the field rules.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

import zipfile
from datetime import date, datetime

import pytest

from lineoa_pipeline.line_export.formats import LANGUAGES
from lineoa_pipeline.synthetic.conversations import PHRASES
from lineoa_pipeline_tests.helpers import IngestDir
from lineoa_pipeline_tests.ingest.chats import export, msg, utc

pytestmark = pytest.mark.embedded_only  # the lake stages what this reads: ingest/test_identity and others

# --- languages, time zones, encodings ---------------------------------------------------------------------

LANGUAGE_ZONES = [("ja", "+09:00", 9), ("en", "+09:00", 9), ("zh-TW", "+08:00", 8), ("th", "+07:00", 7)]


@pytest.mark.parametrize(("lang", "zone", "hours"), LANGUAGE_ZONES)
def test_each_ui_language_is_parsed_in_its_own_time_zone(
    ingest_dir: IngestDir, lang: str, zone: str, hours: int
) -> None:
    book = PHRASES[lang]
    rows = [
        msg("User", "Customer", "2026-03-31 23:59:58", book.questions[0]),
        msg("Account", book.auto_reply_name, "2026-03-31 23:59:58", book.auto_reply),
        msg("User", "Customer", "2026-04-01 00:00:00", book.media["photo"]),
        msg("Account", book.staff[0], "2026-04-01 09:15:00", book.answers[0]),
        msg("Account", "Unknown", "2026-04-01 10:00:00", book.broadcasts[0]),
    ]
    ingest_dir.drop(f"{lang}/Customer.csv", export(rows, account=f"Shop {lang}", lang=lang, tz_offset=zone))
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined, report.messages_new) == (1, 0, 5)
    assert ingest_dir.query("SELECT DISTINCT account_name, chat_name FROM messages") == [(f"Shop {lang}", "Customer")]
    got = ingest_dir.query(
        "SELECT sender_type, sent_at, month, kind, content FROM messages ORDER BY sent_at, export_seq"
    )
    march, april = date(2026, 3, 1), date(2026, 4, 1)
    assert got == [
        ("user", utc("2026-03-31 23:59:58", hours), march, "text", book.questions[0]),
        ("auto_reply", utc("2026-03-31 23:59:58", hours), march, "text", book.auto_reply),
        ("user", utc("2026-04-01 00:00:00", hours), april, "photo", book.media["photo"]),
        ("staff", utc("2026-04-01 09:15:00", hours), april, "text", book.answers[0]),
        ("api", utc("2026-04-01 10:00:00", hours), april, "text", book.broadcasts[0]),
    ]
    (downloaded,) = ingest_dir.query("SELECT downloaded_at FROM source_files")[0]
    assert downloaded == utc("2026-04-02 18:05:00", hours)


@pytest.mark.parametrize(
    ("lang", "zone", "hours", "encoding", "user", "staff", "text"),
    [
        ("ja", "+09:00", 9, "cp932", "山田 花子", "受付 佐々木", 'はい、可能です。\n明日10時は"いかが"でしょうか。'),
        ("zh-TW", "+08:00", 8, "cp950", "陳 小明", "店長 阿德", '可以的，明天見。\n"兩位"嗎?'),
        ("th", "+07:00", 7, "cp874", "สมชาย", "พี่แอน", 'ได้ค่ะ จองไว้ให้แล้วนะคะ\n"4 คน"'),
    ],
)
def test_an_excel_resave_in_a_legacy_code_page_is_the_same_chat(
    ingest_dir: IngestDir, lang: str, zone: str, hours: int, encoding: str, user: str, staff: str, text: str
) -> None:
    rows = [
        msg("User", user, "2026-03-01 08:05:09", "=1+1"),
        msg("Account", staff, "2026-03-01 08:06:00", text),
        msg("User", user, "2026-03-31 23:59:58", "-"),
    ]
    utf8 = export(rows, account="Cafe", lang=lang, tz_offset=zone, downloaded_at=datetime(2026, 4, 1, 9, 0))
    excel = export(
        rows, account="Cafe", lang=lang, tz_offset=zone, downloaded_at=datetime(2026, 4, 1, 9, 0), excel=True
    )
    assert not excel.startswith(b"\xef\xbb\xbf")
    assert excel.decode(encoding).startswith(LANGUAGES[lang].account_label + ",Cafe\r\n")
    with pytest.raises(UnicodeDecodeError):
        excel.decode("utf-8")
    assert b",2026/3/1,8:05:09," in excel and b"2026/4/1 9:00" in excel  # Excel drops the leading zeros
    ingest_dir.drop("excel/20260301_20260331_chat.csv", excel)
    ingest_dir.ingest()
    first = ingest_dir.query("SELECT sender_name, sent_at, month, content FROM messages ORDER BY sent_at, export_seq")
    assert first == [
        (user, utc("2026-03-01 08:05:09", hours), date(2026, 3, 1), "=1+1"),
        (staff, utc("2026-03-01 08:06:00", hours), date(2026, 3, 1), text),
        (user, utc("2026-03-31 23:59:58", hours), date(2026, 3, 1), "-"),
    ]
    assert ingest_dir.query("SELECT downloaded_at FROM source_files") == [(utc("2026-04-01 09:00:00", hours),)]
    # The same chat exported again in UTF-8 with a BOM: every message is a duplicate.
    ingest_dir.drop("utf8/20260301_20260331_chat (1).csv", utf8)
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.messages_new, report.duplicates) == (1, 0, 3)
    assert ingest_dir.query("SELECT sender_name, sent_at, month, content FROM messages ORDER BY sent_at") == first


def test_a_utf8_export_without_its_bom_is_still_read(ingest_dir: IngestDir) -> None:
    data = export([msg("User", "山田", "2026-03-01 10:00:00", "こんにちは")])
    ingest_dir.drop("no_bom.csv", data.removeprefix(b"\xef\xbb\xbf"))
    ingest_dir.ingest()
    assert ingest_dir.query("SELECT content FROM messages") == [("こんにちは",)]


def test_field_rules_guard_x000d_and_line_breaks(ingest_dir: IngestDir) -> None:
    head = export([])
    body = (
        "User,'@受付さん,2026/03/01,10:00:00,'=SUM(A1:A2)\r\n"
        "User,x,2026/03/01,10:00:01,'+81 90\r\n"
        "User,x,2026/03/01,10:00:02,'-- 変更 --\r\n"
        'User,x,2026/03/01,10:00:03,"\'\tタブ"\r\n'
        'User,x,2026/03/01,10:00:04,"\'\r\n改行で始まる"\r\n'
        "User,x,2026/03/01,10:00:05,'それは'引用'です\r\n"
        "User,x,2026/03/01,10:00:06,''=二重\r\n"
        'User,x,2026/03/01,10:00:07,"一行目_x000D_\r\n二行目"\r\n'
        'User,x,2026/03/01,10:00:08,"CR\ronly"\r\n'
        'User,x,2026/03/01,10:00:09,"  空白は残す  "\r\n'
        "User,x,2026/03/01,10:00:10,  unquoted spaces  \r\n"
        'User,x,2026/03/01,10:00:11,"a ""quoted"" word, and a comma"\r\n'
        "User,x,2026/03/01,10:00:12,=not guarded by the writer\r\n"
        "User,x,2026/03/01,10:00:13,_x000D_\r\n"
    )
    ingest_dir.drop("fields.csv", head + body.encode())
    ingest_dir.ingest()
    got = ingest_dir.query("SELECT sender_name, content FROM messages ORDER BY sent_at")
    assert [c for _, c in got] == [
        "=SUM(A1:A2)",
        "+81 90",
        "-- 変更 --",
        "\tタブ",
        "\n改行で始まる",
        "'それは'引用'です",
        "''=二重",
        "一行目\n二行目",
        "CR\nonly",
        "  空白は残す  ",
        "  unquoted spaces  ",
        'a "quoted" word, and a comma',
        "=not guarded by the writer",
        "",
    ]
    assert got[0][0] == "@受付さん"


@pytest.mark.parametrize(
    ("encoding", "user", "text"),
    [("cp932", "山田 花子", "予約の確認です。"), ("cp950", "陳小姐", "預約確認"), ("cp874", "สมชาย", "ยืนยันการจอง")],
)
@pytest.mark.parametrize("zipped", [False, True])
def test_an_english_export_resaved_in_a_legacy_code_page_is_read_from_the_whole_file(
    ingest_dir: IngestDir, encoding: str, user: str, text: str, zipped: bool
) -> None:
    # An English UI on a Japanese (Taiwanese, Thai) PC, an ASCII account name: the metadata and header are
    # ASCII, and only the messages are in the code page.
    rows = [msg("User", user, "2026-03-01 08:05:09", text), msg("Account", "Staff", "2026-03-01 08:06:00", "OK")]
    excel = export(rows, account="Cafe", lang="en").decode("utf-8-sig").encode(encoding)
    assert excel.split(b"\r\n")[3].isascii() and not excel.isascii()
    if zipped:
        with zipfile.ZipFile(ingest_dir.data_dir.inbox / "backup.zip", "w") as backup:
            backup.writestr("00001_chat.csv", excel)
    else:
        ingest_dir.drop("chat.csv", excel)
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (1, 0)
    assert ingest_dir.query("SELECT sender_name, content FROM messages ORDER BY sent_at") == [
        (user, text),
        ("Staff", "OK"),
    ]
