"""Pages and transcripts in each account's language: the UI language of its exports (from their header), unless
`[accounts."X"] language` or `--lang` says otherwise; date lines with the locale's weekdays."""

from __future__ import annotations

import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from babel.dates import format_skeleton

from lineoa_pipeline.commands.cli import main
from lineoa_pipeline.history.export import export, refresh_transcripts, transcripts_folder
from lineoa_pipeline.history.reader import Filters
from lineoa_pipeline.settings.config import Settings, parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import DAY_SKELETON, LANGUAGES, language
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection
from lineoa_pipeline.warehouse.sqlfiles import statements
from lineoa_pipeline_tests.history.sample import KANA, TAIPEI, THAI, build_languages


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataDir:
    """`build_languages`, with the command line's language English (LANG=C)."""
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return build_languages(tmp_path)


def _pages(out: Path, account_part: str) -> tuple[str, str]:
    """(the chat page, the account's index) of the one chat of the account whose folder holds `account_part`."""
    folder = next(p for p in out.iterdir() if p.is_dir() and account_part in p.name)
    (page,) = (p for p in folder.glob("*.html") if p.name != "index.html")
    return page.read_text(encoding="utf-8"), (folder / "index.html").read_text(encoding="utf-8")


def test_each_account_reads_in_the_language_of_its_exports(data_dir: DataDir, tmp_path: Path) -> None:
    out = tmp_path / "html"
    export(data_dir, out, "html", Filters(), mask=False, settings=Settings())

    thai, thai_index = _pages(out, "ร้านนวดสุขใจ")
    assert '<html lang="th">' in thai and '<html lang="th">' in thai_index
    assert re.search(r'font: 14px/1\.5 "Noto Sans Thai"', thai)  # the script's fonts first
    assert ">รูปภาพ<small>ยังไม่ได้บันทึก" in thai and ">สติกเกอร์</div>" in thai
    assert "<span>ศุกร์ 27/2/2026</span>" in thai and "<span>เสาร์ 28/2/2026</span>" in thai
    assert "แชท 1:1 · 5 ข้อความ" in thai and "<th>แท็ก</th>" in thai_index
    assert not KANA.search(thai) and not KANA.search(thai_index)

    taipei, taipei_index = _pages(out, "小林美髮")
    assert '<html lang="zh-TW">' in taipei and '"PingFang TC", "Noto Sans TC"' in taipei
    assert ">照片<small>未儲存" in taipei and ">貼圖</div>" in taipei
    assert "<span>2026/2/27（週五）</span>" in taipei and "一對一聊天 · 5 則訊息" in taipei
    assert "<th>標籤</th>" in taipei_index and 'placeholder="篩選"' in taipei_index
    assert not KANA.search(taipei) and not KANA.search(taipei_index)

    clinic, clinic_index = _pages(out, "さくら整体院")
    assert (
        '<html lang="ja">' in clinic
        and ">写真<small>保存されていません" in clinic
        and "<span>2026/2/27(金)</span>" in clinic
    )
    assert "1:1チャット · 7件" in clinic and "<th>タグ</th>" in clinic_index
    top = (out / "index.html").read_text(encoding="utf-8")  # three languages: the command line's (LANG=C)
    assert '<html lang="en">' in top and "LINE Official Account chat history" in top


def test_the_account_setting_and_lang_override_the_exports(data_dir: DataDir, tmp_path: Path) -> None:
    settings = parse_settings({"language": "th", "accounts": {THAI: {"language": "en"}}})
    export(data_dir, tmp_path / "set", "html", Filters(), mask=False, settings=settings)
    thai, _ = _pages(tmp_path / "set", "ร้านนวดสุขใจ")
    assert '<html lang="en">' in thai and ">Photo<small>Not saved" in thai and "Fri, 2/27/2026" in thai
    assert "1:1 chat · 5 messages" in thai
    taipei, _ = _pages(tmp_path / "set", "小林美髮")  # the command line's language is not the pages'
    assert '<html lang="zh-TW">' in taipei
    assert '<html lang="th">' in (tmp_path / "set" / "index.html").read_text(encoding="utf-8")

    args = ["--data-dir", str(data_dir.root)]
    assert main(["export", *args, "--out", str(tmp_path / "ja"), "--lang", "ja"]) == 0
    for part in ("ร้านนวดสุขใจ", "小林美髮"):
        page, index = _pages(tmp_path / "ja", part)
        assert '<html lang="ja">' in page and ">写真<small>保存されていません" in page
        assert "<th>タグ</th>" in index


def test_show_writes_dates_and_chat_types_in_the_accounts_language(
    data_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(data_dir.root), "--account", THAI, "--chat", "สมชาย"]
    assert main(["show", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"สมชาย  ({THAI}, แชท 1:1)" and lines[1] == "――― ศุกร์ 27/2/2026 ―――"
    assert main(["show", *args, "--lang", "zh-TW"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"สมชาย  ({THAI}, 一對一聊天)" and lines[1] == "――― 2026/2/27（週五） ―――"


def test_a_warehouse_from_before_languages_were_recorded_speaks_the_command_lines(
    data_dir: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with write_connection(data_dir) as conn:
        conn.execute("UPDATE _file_offsets SET ui_language = NULL")
    publish_snapshot(data_dir)
    monkeypatch.setenv("LANG", "th_TH.UTF-8")
    export(data_dir, tmp_path / "old", "html", Filters(), mask=False, settings=Settings())
    taipei, _ = _pages(tmp_path / "old", "小林美髮")
    assert '<html lang="th">' in taipei and ">รูปภาพ<small>ยังไม่ได้บันทึก" in taipei


def test_transcripts_are_written_again_when_an_accounts_language_changes(data_dir: DataDir) -> None:
    assert refresh_transcripts(data_dir, Settings()).pages_written == 3
    assert refresh_transcripts(data_dir, Settings()).pages_written == 0
    english = parse_settings({"accounts": {TAIPEI: {"language": "en"}}})
    report = refresh_transcripts(data_dir, english)
    assert report.pages_written == 1 and report.indexes_written == 2  # its page, its index and the top index
    taipei, _ = _pages(transcripts_folder(data_dir), "小林美髮")
    assert ">Photo<small>Not saved" in taipei


@pytest.mark.parametrize("code", LANGUAGES)
def test_date_lines_in_sql_are_babels(code: str) -> None:
    """`local_day` (SQL, over whole tables) writes every day of a leap year as Babel's format_skeleton does."""
    lang = language(code)
    parts, weekdays = lang.day_parts()
    conn = duckdb.connect()
    for statement in statements("history_macros"):
        conn.execute(statement)
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(366)]
    rows = conn.execute(
        "SELECT local_day(d::TIMESTAMP, ?, ?) FROM unnest(?::DATE[]) AS t(d) ORDER BY d", [parts, weekdays, days]
    ).fetchall()
    assert [row[0] for row in rows] == [format_skeleton(DAY_SKELETON, d, locale=lang.babel_locale) for d in days]


@pytest.mark.parametrize(
    ("account_part", "titles"),
    [
        ("นวด", ["ชื่อบัญชี", "ชื่อแชท", "เวลาที่ส่ง", "ประเภทผู้ส่ง", "ชื่อผู้ส่ง", "ประเภท", "เนื้อหา", "ไฟล์สื่อ"]),
        (
            "さくら",
            ["アカウント名", "チャット名", "送信日時", "送信者の種類", "送信者名", "種類", "内容", "メディアファイル"],
        ),
    ],
)
def test_workbook_and_csv_headers_are_in_the_accounts_language(
    data_dir: DataDir, tmp_path: Path, account_part: str, titles: list[str]
) -> None:
    for fmt in ("csv", "xlsx"):
        export(data_dir, tmp_path / fmt, fmt, Filters(), mask=False, settings=Settings())
    (csv_file,) = (p for p in (tmp_path / "csv").iterdir() if account_part in p.name)
    header = csv_file.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",") == titles
    (book,) = (p for p in (tmp_path / "xlsx").iterdir() if account_part in p.name)
    with zipfile.ZipFile(book) as parts:  # the titles as cells of its sheets (inline or shared strings)
        strings = "".join(parts.read(name).decode() for name in parts.namelist() if name.endswith(".xml"))
    assert all(title in strings for title in titles), strings
    english = export(data_dir, tmp_path / "en", "csv", Filters(), mask=False, settings=Settings(), lang="en")
    assert english
    (plain,) = (p for p in (tmp_path / "en").iterdir() if account_part in p.name)
    assert plain.read_text(encoding="utf-8-sig").splitlines()[0] == (
        "account_name,chat_name,sent_at,sender_type,sender_name,kind,content,media_file"
    )


def test_export_says_what_it_wrote_in_the_command_lines_language(
    data_dir: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "th_TH.UTF-8")
    args = ["export", "--data-dir", str(data_dir.root), "--format", "csv", "--out"]
    assert main([*args, str(tmp_path / "none"), "--account", "nobody"]) == 1
    assert capsys.readouterr().err == "lineoa: ไม่มีข้อความที่ตรงเงื่อนไข: ไม่ได้เขียนอะไรเลย\n"
    assert main([*args, str(tmp_path / "csv")]) == 0
    assert capsys.readouterr().out.startswith(f"เขียนไปที่ {tmp_path / 'csv'} แล้ว: ไฟล์ csv 3 (")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine", encoding="utf-8")
    assert main([*args, str(tmp_path / "other")]) == 2
    assert capsys.readouterr().err.startswith(f"lineoa: --out {tmp_path / 'other'} ไม่ว่าง")
