"""Issue 2: every real LINE export in the inbox becomes exact, de-duplicated, month-partitioned rows.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lineoa_pipeline import cli
from lineoa_pipeline.archive import Archive
from lineoa_pipeline.classify import sync_settings, write_months
from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.definitions import defs
from lineoa_pipeline.defs.ingest.assets import messages as messages_asset
from lineoa_pipeline.defs.partitions import range_tags
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.exports.discover import member_name
from lineoa_pipeline.exports.formats import LANGUAGES, PLACEHOLDERS
from lineoa_pipeline.exports.names import chat_name_from_path
from lineoa_pipeline.exports.render import ChatMessage, render_export, write_bulk_zip
from lineoa_pipeline.runner import run_pipeline
from lineoa_pipeline.settings import parse_settings
from lineoa_pipeline.synthetic.conversations import PHRASES
from lineoa_pipeline.warehouse import connect, write_connection
from lineoa_pipeline_tests.conftest import IngestDir, read_tables, snapshot_tables

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
DOWNLOADED = datetime(2026, 4, 2, 18, 5)
JST = timezone(timedelta(hours=9))


def msg(sender_type: str, name: str, when: str, content: str) -> ChatMessage:
    return ChatMessage(sender_type, name, datetime.fromisoformat(when), content)


def export(messages: list[ChatMessage], account: str = "さくら整体院", **kwargs: Any) -> bytes:
    kwargs.setdefault("downloaded_at", DOWNLOADED)
    return render_export(account, messages, **kwargs)


def utc(when: str, offset_hours: float) -> datetime:
    local = datetime.fromisoformat(when).replace(tzinfo=timezone(timedelta(hours=offset_hours)))
    return local.astimezone(UTC)


def reconciled(ingest_dir: IngestDir) -> list[tuple[Any, ...]]:
    """Files that do not reconcile: rows read != new + duplicates + rejected (should be none)."""
    return ingest_dir.query(
        "SELECT file_path FROM source_files WHERE rows_read != messages_new + duplicates + rejected"
    )


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


# --- kinds, sender types, chat types ----------------------------------------------------------------------

# The spec's list, written out independently of the product's table.
SPEC_PLACEHOLDERS = {
    "写真を送信しました。": "photo",
    "動画を送信しました。": "video",
    "スタンプを送信しました。": "sticker",
    "ボイスメッセージを送信しました。": "voice",
    "ファイルを送信しました。": "file",
    "位置情報を送信しました。": "location",
    "送信が取り消されたメッセージです": "unsent",
    "照片已傳送": "photo",
    "貼圖已傳送": "sticker",
    "影片已傳送": "video",
    "檔案已傳送": "file",
    "您收到一則照片訊息": "photo",
    "您收到一則圖片訊息": "photo",
    "您收到一則影片訊息": "video",
    "您收到一則貼圖訊息": "sticker",
    "您收到一則語音訊息": "voice",
    "您收到一則檔案訊息": "file",
    "您收到一則位置訊息": "location",
    "You sent a photo.": "photo",
    "You sent a sticker.": "sticker",
    "You sent a video.": "video",
    "You sent a file.": "file",
    "You sent a voice message.": "voice",
}
NOT_PLACEHOLDERS = [
    "写真を送信しました",
    " 写真を送信しました。",
    "写真を送信しました。\n",
    "you sent a photo.",
    "写真",
]


def test_every_built_in_placeholder_text_maps_to_its_kind(ingest_dir: IngestDir) -> None:
    assert SPEC_PLACEHOLDERS.items() <= PLACEHOLDERS.items()
    texts = {**PLACEHOLDERS, **dict.fromkeys(NOT_PLACEHOLDERS, "text")}
    start = datetime(2026, 3, 1, 9, 0)
    rows = [ChatMessage("User", "山田", start + timedelta(minutes=i), text) for i, text in enumerate(texts)]
    ingest_dir.drop("山田.csv", export(rows))
    ingest_dir.ingest()
    assert dict(ingest_dir.query("SELECT content, kind FROM messages")) == texts


def test_sender_types_user_staff_auto_reply_and_api(ingest_dir: IngestDir) -> None:
    auto_names = [
        "応答メッセージ",
        "AI応答メッセージ",
        "Auto-response",
        "自動回應訊息",
        "AI 聊天機器人",
        "ข้อความตอบกลับอัตโนมัติ",
    ]
    expected = {name: "auto_reply" for name in auto_names} | {
        "Unknown": "api",
        "unknown": "staff",  # names match exactly
        "受付 佐々木": "staff",
        "応答メッセージ ": "staff",
    }
    start = datetime(2026, 3, 1, 9, 0)
    rows = [ChatMessage("Account", name, start + timedelta(minutes=i), "hi") for i, name in enumerate(expected)]
    rows.append(ChatMessage("User", "応答メッセージ", start, "a user may call themself anything"))
    ingest_dir.drop("chat.csv", export(rows))
    ingest_dir.ingest()
    got = ingest_dir.query("SELECT sender_name, sender_type FROM messages WHERE content = 'hi'")
    assert dict(got) == expected
    assert ingest_dir.query("SELECT sender_type FROM messages WHERE content LIKE 'a user%'") == [("user",)]


def test_two_or_more_user_names_make_a_group_chat(ingest_dir: IngestDir) -> None:
    one = [
        msg("User", "山田", "2026-03-01 10:00:00", "a"),
        msg("Account", "受付 A", "2026-03-01 10:01:00", "b"),
        msg("Account", "受付 B", "2026-03-01 10:02:00", "c"),
        msg("User", "山田", "2026-03-02 10:00:00", "d"),
    ]
    group = [
        msg("User", "山田", "2026-03-01 10:00:00", "a"),
        msg("User", "鈴木", "2026-03-01 10:01:00", "b"),
        msg("Account", "受付 A", "2026-03-01 10:02:00", "c"),
    ]
    ingest_dir.drop("山田.csv", export(one))
    ingest_dir.drop("ヨガ教室火曜クラス.csv", export(group))
    ingest_dir.ingest()
    assert ingest_dir.query("SELECT DISTINCT chat_name, chat_type FROM messages ORDER BY 1") == [
        ("ヨガ教室火曜クラス", "group"),
        ("山田", "one_to_one"),
    ]


# --- identity and de-duplication --------------------------------------------------------------------------

CHAT = [
    msg("User", "山田 花子", "2026-01-10 10:00:00", "予約したいです"),
    msg("Account", "受付 佐々木", "2026-01-10 10:05:00", "はい、可能です。"),
    msg("User", "山田 花子", "2026-02-14 12:00:00", "写真を送信しました。"),
    msg("User", "山田 花子", "2026-02-14 12:00:00", "写真を送信しました。"),
    msg("Account", "受付 佐々木", "2026-02-14 12:30:00", "届きました"),
    msg("User", "山田 花子", "2026-03-20 09:00:00", "ありがとう"),
    msg("User", "山田 花子", "2026-03-31 23:59:58", "また来月"),
]


def _window(first: str, last: str) -> list[ChatMessage]:
    return [m for m in CHAT if date.fromisoformat(first) <= m.sent_at.date() <= date.fromisoformat(last)]


def test_overlapping_exports_store_each_message_once_from_the_first_download(ingest_dir: IngestDir) -> None:
    # Path order is the reverse of download order: the run must take them in download order.
    exports = {
        "a/20260214_20260331_山田花子.csv": (_window("2026-02-14", "2026-03-31"), datetime(2026, 4, 1, 9, 0)),
        "b/20260110_20260214_山田花子.csv": (_window("2026-01-10", "2026-02-14"), datetime(2026, 2, 15, 9, 0)),
        "c/20260110_20260331_山田花子 (2).csv": (CHAT, datetime(2026, 4, 1, 10, 0)),
    }
    for path, (rows, downloaded) in exports.items():
        ingest_dir.drop(path, export(rows, downloaded_at=downloaded))
    report = ingest_dir.ingest()
    assert (report.rows_read, report.messages_new, report.duplicates) == (5 + 5 + 7, 7, 10)
    assert ingest_dir.query(
        "SELECT file_path, rows_read, messages_new, duplicates, rejected FROM source_files ORDER BY downloaded_at"
    ) == [
        ("b/20260110_20260214_山田花子.csv", 5, 5, 0, 0),
        ("a/20260214_20260331_山田花子.csv", 5, 2, 3, 0),
        ("c/20260110_20260331_山田花子 (2).csv", 7, 0, 7, 0),
    ]
    stored = ingest_dir.query("SELECT sent_at, content, source_file FROM messages ORDER BY sent_at, export_seq")
    assert [(s, c) for s, c, _ in stored] == [(m.sent_at.replace(tzinfo=JST), m.content) for m in CHAT]
    assert Counter(f for _, _, f in stored) == {
        "b/20260110_20260214_山田花子.csv": 5,
        "a/20260214_20260331_山田花子.csv": 2,
    }
    assert ingest_dir.query("SELECT DISTINCT chat_name FROM messages") == [("山田花子",)]
    # A later run with one more overlapping export adds only what is new.
    later = [*CHAT, msg("User", "山田 花子", "2026-04-02 08:00:00", "今日行きます")]
    ingest_dir.drop("d/20260110_20260402_山田花子.csv", export(later, downloaded_at=datetime(2026, 4, 2, 9, 0)))
    report = ingest_dir.ingest()
    assert (report.messages_new, report.duplicates) == (1, 7)
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(8,)]
    assert reconciled(ingest_dir) == []


def test_two_identical_photos_in_one_second_are_two_messages(ingest_dir: IngestDir) -> None:
    photo = "写真を送信しました。"
    rows = [
        msg("User", "山田", "2026-03-04 10:00:00", photo),
        msg("User", "山田", "2026-03-04 10:00:00", photo),
        msg("User", "鈴木", "2026-03-04 10:00:00", photo),  # the sender's name is not part of the identity
        msg("Account", "受付", "2026-03-04 10:00:00", photo),  # the sender type is
    ]
    ingest_dir.drop("20260304_20260304_group.csv", export(rows))
    ingest_dir.ingest()
    assert ingest_dir.query("SELECT count(*), count(DISTINCT message_id) FROM messages") == [(4, 4)]
    # The same four rows in a later export are the same four messages.
    ingest_dir.drop("20260301_20260305_group.csv", export(rows, downloaded_at=datetime(2026, 4, 3, 9, 0)))
    report = ingest_dir.ingest()
    assert (report.messages_new, report.duplicates) == (0, 4)
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(4,)]


def test_a_month_ends_at_local_midnight_in_each_accounts_zone(ingest_dir: IngestDir) -> None:
    rows = [
        msg("User", "A", "2026-03-31 23:59:58", "last of March"),
        msg("User", "A", "2026-03-31 23:59:59", "very last of March"),
        msg("User", "A", "2026-04-01 00:00:00", "first of April"),
        msg("User", "A", "2024-02-29 23:59:58", "leap day"),
        msg("User", "A", "2025-12-31 23:59:59", "new year's eve"),
    ]
    ingest_dir.drop("tokyo/A.csv", export(rows, account="Tokyo", tz_offset="+09:00"))
    ingest_dir.drop("bangkok/A.csv", export(rows, account="Bangkok", lang="th", tz_offset="+07:00"))
    ingest_dir.ingest()
    months = {(a, c): m for a, c, m in ingest_dir.query("SELECT account_name, content, month FROM messages")}
    for account in ("Tokyo", "Bangkok"):
        assert months[account, "last of March"] == months[account, "very last of March"] == date(2026, 3, 1)
        assert months[account, "first of April"] == date(2026, 4, 1)
        assert months[account, "leap day"] == date(2024, 2, 1)
        assert months[account, "new year's eve"] == date(2025, 12, 1)
    # 23:59:58 on 31 March in Bangkok is already April in Tokyo: still March for the Bangkok account.
    (instant,) = ingest_dir.query(
        "SELECT sent_at FROM messages WHERE account_name = 'Bangkok' AND content = ?", ["last of March"]
    )[0]
    assert instant.astimezone(JST) == datetime(2026, 4, 1, 1, 59, 58, tzinfo=JST)


def test_a_header_only_export_is_a_chat_with_no_messages(ingest_dir: IngestDir) -> None:
    ingest_dir.drop("友だち.csv", export([]))
    write_bulk_zip(
        ingest_dir.data_dir.inbox / "bulk.zip",
        "さくら整体院",
        {"山田": CHAT[:2], "無言の友だち": []},
        downloaded_at=DOWNLOADED + timedelta(days=1),
    )
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined, report.rejected) == (3, 0, 0)
    assert ingest_dir.query("SELECT file_path, is_bulk, rows_read, messages_new FROM source_files ORDER BY 1") == [
        ("bulk.zip!00001_20260110_20260110_山田.csv", True, 2, 2),
        ("bulk.zip!00002_無言の友だち.csv", True, 0, 0),
        ("友だち.csv", False, 0, 0),
    ]
    assert ingest_dir.query("SELECT count(*) FROM quarantined_files UNION ALL SELECT count(*) FROM rejected_rows") == [
        (0,),
        (0,),
    ]


# --- bad input ---------------------------------------------------------------------------------------------

GOOD = [msg("User", "山田", "2026-03-01 10:00:00", "ok"), msg("Account", "受付", "2026-03-01 10:01:00", "ok too")]


def _cut_inside_a_quote() -> bytes:
    data = export([*GOOD, msg("User", "山田", "2026-03-01 10:02:00", "一行目\n二行目\n三行目")])
    return data[: data.index("二行目".encode())]


def _unknown_header() -> bytes:
    return export(GOOD).replace("送信時刻,内容".encode(), "送信時刻,本文,既読".encode())


def _bad_utf8() -> bytes:
    return export(GOOD).replace(b"ok too", b"ok \xff\xfe too")


def _bad_cp932() -> bytes:
    return export(GOOD, excel=True).replace(b"ok too", b"ok \x81\x20 too")  # a lead byte without its trail


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_cut_inside_a_quote, "never closed"),
        (_unknown_header, "unknown header"),
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
        export(_window("2026-01-10", "2026-02-14"), downloaded_at=datetime(2026, 2, 20, 9, 0)),
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


# --- reading a batch's files together, or one by one ---------------------------------------------------------

BEFORE = "User,x,2026/03/02,08:00:00,before\r\n"
AFTER = "User,x,2026/03/02,09:00:00,after\r\n"
# Files that a batch reads together as they read alone: line endings, blank lines, no last line break, no rows,
# rows a typed check rejects, a row dressed as the marker that separates files when they are read together.
CLEAN_BODIES = {
    "crlf": BEFORE + 'User,x,2026/03/02,08:30:00,"two\r\nlines, ""quoted"""\r\n' + AFTER,
    "lf": (BEFORE + 'User,x,2026/03/02,08:30:00,"two\nlines"\n' + AFTER).replace("\r\n", "\n"),
    "blank lines": "\r\n" + BEFORE + "\r\n\r\n" + AFTER + "\r\n",
    "no last line break": BEFORE + AFTER.rstrip(),
    "no rows": "",
    "typed rejects": BEFORE + "User,x,2026/13/45,08:00:00,bad date\r\nBot,x,2026/03/02,08:00:00,who\r\n" + AFTER,
    "marker-like row": BEFORE + "\x1e0123456789abcdef,0,,,\r\n\x1e,end,,,\r\n" + AFTER,
    "quote in an unquoted field": BEFORE + 'User,x,2026/03/02,08:10:00,say "hi" now\r\n' + AFTER,
}
# Files whose rows DuckDB rejects or cannot read: the batch is read again in halves, down to the bad file alone.
BAD_BODIES = {
    "too many columns": BEFORE + "User,x,2026/03/02,08:10:00,hi,extra\r\n" + AFTER,
    "too few columns": BEFORE + "User,x,2026/03/02\r\n" + AFTER,
    "quote open across rows": BEFORE + 'User,x,2026/03/02,08:10:00,x"\r\nUser,x,2026/03/02,08:11:00,"y\r\n' + AFTER,
}


def _drop_bodies(ingest_dir: IngestDir, bodies: dict[str, str], extra: dict[str, bytes] | None = None) -> None:
    for index, (name, body) in enumerate(bodies.items()):
        head = export([])
        if name == "lf":
            head = head.replace(b"\r\n", b"\n")
        if name == "no rows":
            head = head.rstrip(b"\r\n")
        ingest_dir.drop(f"{index:02d}_{name}.csv", head + body.encode())
    for name, data in (extra or {}).items():
        ingest_dir.drop(name, data)


def _stored(ingest_dir: IngestDir) -> dict[str, list[tuple[Any, ...]]]:
    with write_connection(ingest_dir.data_dir) as conn:
        return read_tables(conn)


def test_a_batch_read_together_stores_what_its_files_read_one_by_one_store(tmp_path: Path) -> None:
    together, alone = (IngestDir(DataDir(tmp_path / name)) for name in ("together", "alone"))
    for ingest_dir in (together, alone):
        ingest_dir.data_dir.create()
        _drop_bodies(ingest_dir, CLEAN_BODIES)
    for ingest_dir in (together, alone):
        write_bulk_zip(
            ingest_dir.data_dir.inbox / "bulk.zip",
            "さくら整体院",
            {"山田 花子": CHAT, "無言": []},
            downloaded_at=DOWNLOADED,
        )
    files = len(CLEAN_BODIES) + 2
    report = together.ingest()
    assert (report.files_read_together, report.files_read_alone, report.files_loaded) == (files, 0, files)
    report = alone.ingest(together=False)
    assert (report.files_read_together, report.files_read_alone) == (0, files)
    assert _stored(together) == _stored(alone)
    assert together.query("SELECT count(*) FROM rejected_rows") == [(4,)]  # two typed rejects, two marker-like
    assert together.query("SELECT count(*) FROM messages WHERE chat_name = 'marker-like row'") == [(2,)]


@pytest.mark.parametrize("bad", sorted(BAD_BODIES))
def test_a_batch_that_does_not_read_cleanly_together_is_read_file_by_file(tmp_path: Path, bad: str) -> None:
    together, alone = (IngestDir(DataDir(tmp_path / name)) for name in ("together", "alone"))
    bodies = {**CLEAN_BODIES, bad: BAD_BODIES[bad]}
    for ingest_dir in (together, alone):
        ingest_dir.data_dir.create()
        _drop_bodies(ingest_dir, bodies)
    report = together.ingest()
    assert (report.files_read_together, report.files_read_alone) == (len(bodies) - 1, 1)
    alone.ingest(together=False)
    assert _stored(together) == _stored(alone)
    assert reconciled(together) == []


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


def test_the_same_bytes_under_another_name_change_no_row(ingest_dir: IngestDir) -> None:
    data = export(CHAT)
    ingest_dir.drop("downloads/20260110_20260331_山田花子.csv", data)
    ingest_dir.ingest()
    before = (
        ingest_dir.query("SELECT * FROM messages ORDER BY ALL"),
        ingest_dir.query("SELECT * FROM source_files ORDER BY ALL"),
    )
    ingest_dir.drop("copy/別の名前.csv", data)
    ingest_dir.drop("20260110_20260331_山田花子 (1).csv", data)
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.messages_new, report.duplicates) == (0, 0, 0)
    after = (
        ingest_dir.query("SELECT * FROM messages ORDER BY ALL"),
        ingest_dir.query("SELECT * FROM source_files ORDER BY ALL"),
    )
    assert after == before
    # Both names are kept beside the archived bytes, the first one first.
    (sha,) = ingest_dir.query("SELECT sha256 FROM source_files")[0]
    assert Archive(ingest_dir.data_dir.archive).paths(sha) == [
        "downloads/20260110_20260331_山田花子.csv",
        "20260110_20260331_山田花子 (1).csv",
        "copy/別の名前.csv",
    ]


def test_a_run_counts_the_same_bytes_dropped_again_as_already_seen(pipeline_dir: DataDir) -> None:
    data = export(CHAT)
    (pipeline_dir.inbox / "山田花子.csv").write_bytes(data)
    (pipeline_dir.inbox / "山田花子 (1).csv").write_bytes(data)
    first = run_pipeline(pipeline_dir)
    assert (first.files_loaded, first.files_seen, first.messages_new) == (1, 1, len(CHAT))
    (pipeline_dir.inbox / "later").mkdir()
    (pipeline_dir.inbox / "later" / "別の名前.csv").write_bytes(data)
    again = run_pipeline(pipeline_dir)
    assert (again.files_loaded, again.files_seen, again.messages_new, again.duplicates) == (0, 1, 0, 0)
    assert "files loaded 0, already seen 1, quarantined 0" in str(again)


def test_messages_outside_the_partitions_are_stored_classified_and_reported(pipeline_dir: DataDir) -> None:
    rows = [
        msg("User", "客", "2018-12-10 10:00:00", "old"),
        msg("Account", "応答メッセージ", "2018-12-10 10:00:00", "自動"),
        msg("User", "客", "2019-01-10 10:00:00", "new"),
    ]
    (pipeline_dir.inbox / "客.csv").write_bytes(export(rows, downloaded_at=datetime(2019, 1, 11)))
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.months_written == ["2019-01"] and summary.months_outside == ["2018-12-01"]
    assert summary.advice == (
        "1 months with messages lie outside the monthly partitions (from 2018-12): "
        "set first_month in lineoa.toml to include them"
    )
    stored = {(r[9], r[4], r[7]) for r in snapshot_tables(pipeline_dir)["messages"]}
    assert stored == {
        ("old", "user", date(2018, 12, 1)),
        ("自動", "auto_reply", date(2018, 12, 1)),
        ("new", "user", date(2019, 1, 1)),
    }


def test_chat_names_come_from_file_names(ingest_dir: IngestDir) -> None:
    rows = [msg("User", "客", "2026-03-01 10:00:00", "hi")]
    names = {
        "00001_20250425_20260110_山田花子.csv": "山田花子",
        "20250425_20260110_名前.csv": "名前",
        "inbox/deeper/名前 (2).csv": "名前",
        "🌸さくら🌸ネイル.csv": "🌸さくら🌸ネイル",
        "山田　花子（紹介）.csv": "山田　花子（紹介）",
        "00007_2024_夏.csv": "2024_夏",
    }
    for i, path in enumerate(names):
        ingest_dir.drop(path, export(rows, account=f"Shop {i}"))
    ingest_dir.ingest()
    got = dict(ingest_dir.query("SELECT source_file, chat_name FROM messages"))
    assert got == names


# --- the shared samples, when present ---------------------------------------------------------------------


def _read_export(data: bytes) -> tuple[str, int, list[list[str]]]:
    """(account, UTC offset in minutes, data records) of a valid export, read with Python's csv module."""
    for encoding in ("utf-8-sig", "cp932", "cp950", "cp874"):
        try:
            records = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
        except UnicodeDecodeError:
            continue
        if any(lang.metadata_labels[0] == records[0][0] for lang in LANGUAGES.values()):
            zone = records[1][1].lstrip("'")
            minutes = (int(zone[1:3]) * 60 + int(zone[4:6])) * (-1 if zone[0] == "-" else 1)
            return records[0][1], minutes, records[4:]
    raise AssertionError("not an export")


def _clean(value: str) -> str:
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r", "\n"):
        value = value[1:]
    return value.replace("_x000D_", "").replace("\r\n", "\n").replace("\r", "\n")


def expected_counts(inbox: Path) -> tuple[int, dict[str, int], int]:
    """An independent reading of an inbox of valid exports: (distinct messages, rows per file, group chats)."""
    identities: set[tuple[Any, ...]] = set()
    rows_per_file: dict[str, int] = {}
    users: dict[tuple[str, str], set[str]] = {}
    files: list[tuple[str, bytes]] = []
    for path in sorted(inbox.rglob("*")):
        relative = path.relative_to(inbox).as_posix()
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                # Member names as the product reads them (cp932 without the UTF-8 flag: tested on their own).
                files += [(f"{relative}!{member_name(info)}", archive.read(info)) for info in archive.infolist()]
        elif path.suffix.lower() == ".csv":
            files.append((relative, path.read_bytes()))
    for name, data in files:
        account, minutes, records = _read_export(data)
        chat = chat_name_from_path(name.rsplit("!", 1)[-1])
        rows_per_file[name] = len(records)
        seen: Counter[tuple[Any, ...]] = Counter()
        for sender_type, sender_name, day, clock, content in records:
            local = datetime.strptime(f"{day} {clock}", "%Y/%m/%d %H:%M:%S")
            key = (account, chat, sender_type, local - timedelta(minutes=minutes), _clean(content))
            seen[key] += 1
            identities.add((*key, seen[key]))
            if sender_type == "User":
                users.setdefault((account, chat), set()).add(_clean(sender_name))
    return len(identities), rows_per_file, sum(len(names) >= 2 for names in users.values())


def _lookalike_samples(root: Path) -> Path:
    """The samples' layout, written by the generator: a bulk zip with a group and a silent friend, Excel
    re-saves of chats that also come in UTF-8, and single chats in en, zh-TW and th."""
    jst = [
        msg("User", "山田 花子", "2026-02-27 23:59:58", "予約したいです"),
        msg("Account", "応答メッセージ", "2026-02-27 23:59:58", "メッセージありがとうございます。"),
        msg("Account", "受付 佐々木", "2026-02-28 00:10:03", "はい、可能です。\n明日10時はいかがでしょうか。"),
    ]
    group = [
        msg("User", "田中", "2026-02-01 10:00:00", "参加します"),
        msg("User", "伊藤", "2026-02-01 10:00:05", "私も"),
    ]
    write_bulk_zip(
        root / "bulk_backup_ja.zip",
        "さくら整体院",
        {"山田 花子": jst, "ヨガ教室": group, "佐藤": []},
        downloaded_at=datetime(2026, 3, 2, 18, 5),
    )
    (root / "excel_resaved_cp932" / "20260227_20260228_山田花子.csv").parent.mkdir(parents=True)
    (root / "excel_resaved_cp932" / "20260227_20260228_山田花子.csv").write_bytes(
        export(jst, downloaded_at=datetime(2026, 3, 3, 9, 0), excel=True)
    )
    for lang, zone, folder in (("en", "+09:00", "en"), ("zh-TW", "+08:00", "zh"), ("th", "+07:00", "th")):
        book = PHRASES[lang]
        rows = [
            msg("User", "Ann", "2026-02-27 23:59:58", book.questions[0]),
            msg("Account", book.staff[0], "2026-02-28 09:00:00", book.answers[0]),
        ]
        (root / folder).mkdir()
        (root / folder / "Ann.csv").write_bytes(export(rows, account=f"Shop {lang}", lang=lang, tz_offset=zone))
    return root


# The shared samples' chats: an Excel re-save adds nothing to the chat it repeats (青木美穂 49 of the zip's 53).
SHARED_SAMPLE_CHATS = [
    ("Bayside Yoga", "EmmaBrown", "one_to_one", 32),
    ("ร้านกาแฟริมน้ำ", "นภาสุขใจ", "one_to_one", 31),
    ("みどり歯科クリニック", "★前田彩", "one_to_one", 75),
    ("みどり歯科クリニック", "歯みがき教室保護者", "group", 10),
    ("みどり歯科クリニック", "藤田剛紹介", "one_to_one", 46),
    ("みどり歯科クリニック", "青木美穂", "one_to_one", 53),
    ("晴天咖啡 台中", "林小華", "one_to_one", 31),
]


@pytest.mark.parametrize("source", ["shared", "lookalike"])
def test_sample_exports_load_with_the_counts_an_independent_reader_gives(
    ingest_dir: IngestDir, tmp_path: Path, source: str
) -> None:
    if source == "shared" and not SAMPLES.is_dir():
        pytest.skip(f"no shared samples at {SAMPLES}")
    samples = SAMPLES if source == "shared" else _lookalike_samples(tmp_path / "samples")
    inputs = [p for p in sorted(samples.rglob("*")) if p.suffix.lower() in (".csv", ".zip")]
    if not inputs:
        pytest.skip(f"no sample exports in {samples}")
    for path in inputs:
        ingest_dir.drop(path.relative_to(samples).as_posix(), path.read_bytes())
    distinct, rows_per_file, groups = expected_counts(samples)
    report = ingest_dir.ingest()
    assert (report.files_quarantined, report.rejected) == (0, 0)
    assert report.messages_new == distinct
    assert report.rows_read == sum(rows_per_file.values())
    assert dict(ingest_dir.query("SELECT file_path, rows_read FROM source_files")) == rows_per_file
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(distinct,)]
    assert ingest_dir.query(
        "SELECT count(DISTINCT (account_name, chat_name)) FROM messages WHERE chat_type = 'group'"
    ) == [(groups,)]
    assert ingest_dir.query("SELECT count(*) FROM source_files WHERE rows_read = 0") != [(0,)]  # a silent friend
    assert reconciled(ingest_dir) == []
    if source == "shared":  # counted by hand from the files (rows per file with a CSV reader)
        assert (report.files_loaded, report.rows_read, report.messages_new, report.duplicates) == (11, 389, 278, 111)
        chats = ingest_dir.query("SELECT account_name, chat_name, chat_type, count(*) FROM messages GROUP BY ALL")
        assert sorted(chats) == SHARED_SAMPLE_CHATS
    if source == "lookalike":  # the Excel re-save repeats the bulk zip's chat: nothing new from it
        assert ingest_dir.query(
            "SELECT messages_new, duplicates FROM source_files WHERE file_path LIKE 'excel_resaved%'"
        ) == [(0, 3)]


# --- through the Dagster definitions ----------------------------------------------------------------------


def test_lineoa_run_materialises_every_month_through_the_dagster_definitions(
    pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    write_bulk_zip(
        pipeline_dir.inbox / "backups" / "bulk.zip", "さくら整体院", {"山田 花子": CHAT}, downloaded_at=DOWNLOADED
    )
    (pipeline_dir.inbox / "bad.csv").write_bytes(_unknown_header())
    (pipeline_dir.inbox / "rej.csv").write_bytes(export(GOOD, account="Other") + b"User,x,2026/03/01\r\n")
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    out = capsys.readouterr().out
    assert "files loaded 2" in out and "quarantined 1" in out and "messages new 9" in out
    assert "rows rejected 1" in out and "months written 3 (2026-01 to 2026-03); took " in out
    reader = connect(pipeline_dir.root)  # the snapshot a notebook opens
    try:
        assert reader.execute("SELECT month, count(*) FROM messages GROUP BY 1 ORDER BY 1").fetchall() == [
            (date(2026, 1, 1), 2),
            (date(2026, 2, 1), 3),
            (date(2026, 3, 1), 4),
        ]
    finally:
        reader.close()
    # Run again with no new input: no row changes, not even a time stamp.
    every_column = {
        table: f"SELECT * FROM {table} ORDER BY ALL"
        for table in ("messages", "source_files", "quarantined_files", "rejected_rows")
    }
    with write_connection(pipeline_dir) as conn:
        before = {table: conn.execute(query).fetchall() for table, query in every_column.items()}
    published = pipeline_dir.snapshot.stat().st_mtime_ns
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    out = capsys.readouterr().out
    assert "files loaded 0" in out and "messages new 0" in out and "months written 0" in out
    assert "nothing new since the last run" in out and pipeline_dir.snapshot.stat().st_mtime_ns == published
    with write_connection(pipeline_dir) as conn:
        assert {table: conn.execute(query).fetchall() for table, query in every_column.items()} == before
    # A new tag file is something new: the analytics and the snapshot follow.
    pipeline_dir.tags.mkdir(exist_ok=True)
    (pipeline_dir.tags / "tags.csv").write_text("account_name,chat_name,tag\nさくら整体院,山田 花子,vip\n")
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    assert "nothing new" not in capsys.readouterr().out and pipeline_dir.snapshot.stat().st_mtime_ns > published
    reader = connect(pipeline_dir.root)
    try:
        assert reader.execute("SELECT tag FROM chat_tags").fetchall() == [("vip",)]
    finally:
        reader.close()


def test_a_chat_that_becomes_a_group_rewrites_its_earlier_months(pipeline_dir: DataDir) -> None:
    (pipeline_dir.inbox / "1.csv").write_bytes(
        export([msg("User", "田中", "2026-01-05 10:00:00", "a")], downloaded_at=datetime(2026, 1, 6, 9, 0))
    )
    assert run_pipeline(pipeline_dir).ok
    assert snapshot_tables(pipeline_dir)["messages"][0][3] == "one_to_one"
    (pipeline_dir.inbox / "2" / "1.csv").parent.mkdir()
    (pipeline_dir.inbox / "2" / "1.csv").write_bytes(
        export([msg("User", "伊藤", "2026-03-05 10:00:00", "b")], downloaded_at=datetime(2026, 3, 6, 9, 0))
    )
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.months_written == ["2026-01", "2026-02", "2026-03"]
    assert {row[3] for row in snapshot_tables(pipeline_dir)["messages"]} == {"group"}


def test_rematerialising_months_replaces_them_and_never_doubles(pipeline_dir: DataDir) -> None:
    write_bulk_zip(pipeline_dir.inbox / "bulk.zip", "さくら整体院", {"山田 花子": CHAT}, downloaded_at=DOWNLOADED)
    assert run_pipeline(pipeline_dir).ok
    with write_connection(pipeline_dir) as conn:
        before = read_tables(conn)
    months_job = defs().resolve_job_def("months_job")
    with dg.DagsterInstance.ephemeral() as instance:
        result = months_job.execute_in_process(instance=instance, tags=range_tags(["2026-01-01", "2026-03-01"]))
        assert result.success
        one = dg.materialize(
            [messages_asset],
            partition_key="2026-03-01",
            resources={"warehouse": WarehouseResource(data_dir=str(pipeline_dir.root))},
            instance=instance,
        )
        assert one.success
        # counted work: with the same settings, writing months again rewrites no row
        written = [
            *result.asset_materializations_for_node("messages"),
            *one.asset_materializations_for_node("messages"),
        ]
        assert len(written) == 4 and {m.metadata["rows_reclassified"].value for m in written} == {0}
    with write_connection(pipeline_dir) as conn:
        assert read_tables(conn) == before
        # ... and after a settings change, only the rows whose class it changes
        sync_settings(conn, parse_settings({"auto_reply_names": ["受付 佐々木"]}))
        changed = write_months(conn, date(2026, 1, 1), date(2026, 3, 1))
        staff = sum(1 for m in CHAT if m.sender_type == "Account" and m.sender_name == "受付 佐々木")
        assert changed == (len(CHAT), staff) and staff > 0
    assert [len(before["messages"])] == [len(CHAT)]
