"""Recognising an export from its first bytes, and chat names from file names, as the spec writes them."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lineoa_pipeline.ingest.decode import HEAD_BYTES, NotAnExport, read_head
from lineoa_pipeline.ingest.discover import extract_members, member_name, walk_inbox
from lineoa_pipeline.line_export.formats import LANGUAGES, NAME_BRACKETS
from lineoa_pipeline.line_export.names import chat_name_from_path, name_key
from lineoa_pipeline.line_export.render import ChatMessage, export_file_name, render_export

DOWNLOADED = datetime(2026, 3, 2, 8, 5)
# The spec's table: UI language -> (metadata labels, header).
SPEC_LABELS = {
    "ja": (("アカウント名", "タイムゾーン", "ダウンロード日時"), "送信者タイプ,送信者名,送信日,送信時刻,内容"),
    "en": (("Account name", "Time zone", "Downloaded on"), "Sender type,Sender name,Date,Time,Message"),
    "zh-TW": (("帳號名稱", "時區", "下載時間"), "傳送者類型,傳送者名稱,傳送日期,傳送時間,內容"),
    "th": (("ชื่อบัญชี", "ไทม์โซน", "วันดาวน์โหลด"), "ประเภทผู้ส่ง,ชื่อผู้ส่ง,วันส่ง,เวลาส่ง,ข้อความ"),
}


def _head_text(
    lang: str, account: str = "さくら整体院", zone: str = "'+09:00", downloaded: str = "2026/03/02 08:05"
) -> str:
    labels, header = SPEC_LABELS[lang]
    return f"{labels[0]},{account}\r\n{labels[1]},{zone}\r\n{labels[2]},{downloaded}\r\n{header}\r\n"


@pytest.mark.parametrize(
    ("lang", "zone", "minutes"),
    [("ja", "'+09:00", 540), ("en", "'+09:00", 540), ("zh-TW", "'+08:00", 480), ("th", "'+07:00", 420)],
)
def test_each_ui_language_is_recognised_with_its_own_time_zone(lang: str, zone: str, minutes: int) -> None:
    head = read_head(b"\xef\xbb\xbf" + _head_text(lang, zone=zone).encode())
    assert (head.language.code, head.encoding, head.account_name) == (lang, "utf-8", "さくら整体院")
    assert head.utc_offset_minutes == minutes
    assert head.downloaded_at == datetime(2026, 3, 2, 8, 5, tzinfo=timezone(timedelta(minutes=minutes)))


@pytest.mark.parametrize(("lang", "encoding"), [("ja", "cp932"), ("zh-TW", "cp950"), ("th", "cp874")])
def test_an_excel_resave_is_read_in_its_legacy_code_page_with_unpadded_dates(lang: str, encoding: str) -> None:
    text = _head_text(lang, account="Cafe 2", zone="+07:00", downloaded="2026/3/2 8:05")
    head = read_head(text.encode(encoding))
    assert (head.language.code, head.encoding, head.needs_transcoding) == (lang, encoding, True)
    assert head.downloaded_at == datetime(2026, 3, 2, 8, 5, tzinfo=timezone(timedelta(hours=7)))


def test_the_generator_and_the_reader_agree_on_every_language_and_code_page() -> None:
    for lang, labels in LANGUAGES.items():
        assert (labels.metadata_labels, ",".join(labels.header)) == SPEC_LABELS[lang]
        for excel in (False, True):
            data = render_export("Shop", [], lang=lang, tz_offset="-03:30", downloaded_at=DOWNLOADED, excel=excel)
            head = read_head(data)
            assert (head.language.code, head.account_name, head.utc_offset_minutes) == (lang, "Shop", -210)
            assert head.downloaded_at.utcoffset() == timedelta(minutes=-210)


@pytest.mark.parametrize(
    ("zone", "minutes"),
    [("'+09:00", 540), ("+09:00", 540), ("'-03:30", -210), ("'+05:45", 345), ("'+00:00", 0), ("UTC+9:00", 540)],
)
def test_time_zone_rows(zone: str, minutes: int) -> None:
    assert read_head(_head_text("ja", zone=zone).encode()).utc_offset_minutes == minutes


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\xef\xbb\xbf" + _head_text("ja").replace("内容", "本文").encode(), "unknown header"),
        (b"\xef\xbb\xbfName,A\r\nZone,'+09:00\r\nWhen,2026/03/02 08:05\r\nA,B,C,D,E\r\n", "unknown metadata labels"),
        (b"\xef\xbb\xbf" + _head_text("ja", zone="'+25:00").encode(), "time zone"),
        (b"\xef\xbb\xbf" + _head_text("ja", downloaded="yesterday").encode(), "download time"),
        (b"\xef\xbb\xbf" + _head_text("ja", downloaded="2026/02/30 08:05").encode(), "download time"),
        (b"\xef\xbb\xbf\xe3\x82\xa2\xff\xfe" + _head_text("ja").encode(), "undecodable"),
        (b"\x81 " + _head_text("en").encode(), "undecodable"),  # invalid in UTF-8 and every code page
        (b"\xef\xbb\xbf" + "".join(_head_text("ja").splitlines(True)[:3]).encode(), "fewer than three metadata"),
        ("日付,内容\r\n2026/03/02,こんにちは\r\n".encode(), "fewer than three metadata rows"),
    ],
)
def test_what_is_not_an_export_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(NotAnExport, match=reason):
        read_head(data)


def test_the_injection_guard_is_removed_from_the_account_name() -> None:
    data = render_export("@home cafe", [], downloaded_at=DOWNLOADED)
    assert b"'@home cafe" in data
    assert read_head(data).account_name == "@home cafe"
    assert read_head(render_export("'s cafe", [], downloaded_at=DOWNLOADED)).account_name == "'s cafe"


@pytest.mark.parametrize(
    ("path", "chat"),
    [
        ("00001_20250425_20260110_山田花子.csv", "山田花子"),
        ("20250425_20260110_名前.csv", "名前"),
        ("00012_名前.csv", "名前"),
        ("名前.csv", "名前"),
        ("名前 (2).csv", "名前"),
        ("20250425_20260110_名前 (13).csv", "名前"),
        ("00003_20250425_20260110_名前 (2).csv", "名前"),
        ("00001_山田_花子.csv", "山田_花子"),
        ("00001_20250425_20260110_2024_夏.csv", "2024_夏"),
        ("🌸さくら🌸.csv", "🌸さくら🌸"),
        ("00002_20250101_20250131_💅ネイル★Salon.csv", "💅ネイル★Salon"),
        ("山田　花子.csv", "山田　花子"),
        ("【予約】山田.csv", "【予約】山田"),
        ("q\"uo'te.csv", "q\"uo'te"),
        ("downloads/2026/00001_名前.csv", "名前"),
        ("C:\\Users\\me\\Downloads\\名前 (1).csv", "名前"),
        ("名前.CSV", "名前"),
        ("123_.csv", "123_"),  # nothing left after the index: the whole stem
        ("20250425_20260110_.csv", "20250425_20260110_"),
        ("名前 (2) (3).csv", "名前 (2)"),  # only the last browser suffix is the browser's
    ],
)
def test_chat_name_from_file_name(path: str, chat: str) -> None:
    assert chat_name_from_path(path) == chat


def test_name_key_matches_the_display_name_with_the_file_name() -> None:
    assert name_key("山田　花子（紹介）") == name_key("山田花子紹介") == "山田花子紹介"
    assert name_key("ＡＢＣ　[Yoga] 教室") == "ABCYoga教室"
    assert name_key("山田花子") != name_key("山田太郎")


# Characters a chat name may hold in a file name: not white space, brackets or separators (LINE strips them).
NAME_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters=NAME_BRACKETS + "/\\\x85"
)


@given(
    name=st.text(NAME_CHARS, min_size=1, max_size=20),
    first=st.dates(date(2019, 1, 1), date(2030, 1, 1)),
    days=st.integers(0, 800),
    index=st.integers(1, 99_999),
    with_range=st.booleans(),
)
def test_file_names_the_generator_writes_give_back_the_chat_name(
    name: str, first: date, days: int, index: int, with_range: bool
) -> None:
    assume(name.strip() == name and not name.lower().endswith(".csv"))
    assume(with_range or not re.match(r"\d{8}_\d{8}_", name))  # that would read as a date range
    last = first + timedelta(days=days)
    path = export_file_name(name, first if with_range else None, last if with_range else None, index)
    assert chat_name_from_path(path) == name
    assert chat_name_from_path(f"folder/{path[:-4]} (2).csv") == name


def test_the_inbox_is_walked_at_any_depth_skipping_hidden_files_and_partial_downloads(tmp_path: Path) -> None:
    for relative in (
        "a.csv",
        "x/y/z/deep.CSV",
        "x/bulk.zip",
        "x/.hidden.csv",
        ".partial/skip.csv",
        "notes.txt",
        "x/y/photo.jpg",
        "a.csv.crdownload",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"1")
    # every other file is listed: staging quarantines it with what to do, nothing is ignored silently
    assert [f.relative for f in walk_inbox(tmp_path)] == [
        "a.csv",
        "notes.txt",
        "x/bulk.zip",
        "x/y/photo.jpg",
        "x/y/z/deep.CSV",
    ]


def _zip_with_raw_name(raw_name: bytes) -> bytes:
    """A zip whose one member's name is `raw_name` as written by a Japanese Windows (no UTF-8 flag)."""
    placeholder = "N" * len(raw_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(placeholder, render_export("A", [], downloaded_at=DOWNLOADED))
    data = buffer.getvalue()
    assert data.count(placeholder.encode()) == 2  # the local header and the central directory
    return data.replace(placeholder.encode(), raw_name)


def test_zip_member_names_in_cp932_without_the_utf8_flag_are_read_as_japanese(tmp_path: Path) -> None:
    path = tmp_path / "bulk.zip"
    path.write_bytes(_zip_with_raw_name("00001_山田花子.csv".encode("cp932")))
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
        assert not info.flag_bits & 0x800
        assert member_name(info) == "00001_山田花子.csv"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    members = list(extract_members(path, scratch))
    assert [(m.name, m.problem) for m in members] == [("00001_山田花子.csv", None)]
    assert members[0].path is not None and members[0].path.parent == scratch


def test_a_zip_member_is_spooled_whole_and_keeps_only_its_head_lines_in_memory(tmp_path: Path) -> None:
    rows = [ChatMessage("User", "x", datetime(2026, 3, 2, 8, 0, i % 60), f'row {i}, "quoted"') for i in range(2000)]
    data = render_export("A", rows, downloaded_at=DOWNLOADED)
    path = tmp_path / "bulk.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("00001_a.csv", data)
        archive.writestr("00002_b.csv", data[:-2])
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    first, second = extract_members(path, scratch)
    assert len(data) > HEAD_BYTES  # the head kept is the four lines, not the first 64 KiB
    assert first.head == second.head == b"".join(data.splitlines(keepends=True)[:4])
    assert (first.quotes, first.bytes, second.offset) == (data.count(b'"'), len(data), len(data))
    assert first.path == second.path and first.path is not None
    assert first.path.read_bytes() == data + data[:-2]


def test_a_chat_message_renders_in_the_export_format() -> None:
    # The reader's tests lean on the generator: its header row is the spec's.
    data = render_export("A", [ChatMessage("User", "x", datetime(2026, 3, 2, 8, 5, 9), "hi")], downloaded_at=DOWNLOADED)
    assert data.endswith(SPEC_LABELS["ja"][1].encode() + b"\r\nUser,x,2026/03/02,08:05:09,hi\r\n")
