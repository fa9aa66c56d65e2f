"""`lineoa show` and `lineoa export`: what each format holds, read back, and that nothing in it runs."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import duckdb
import openpyxl
import pytest

from lineoa_pipeline.commands.cli import main
from lineoa_pipeline.history import html
from lineoa_pipeline.history.export import export
from lineoa_pipeline.history.html import file_stem
from lineoa_pipeline.history.labels import account_languages
from lineoa_pipeline.history.output import MEDIA
from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.transcript import select_messages
from lineoa_pipeline.history.workbook import CELL_CHARS, fit_cell
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.language import ENGLISH
from lineoa_pipeline.warehouse.sqlfiles import SQL_DIR
from lineoa_pipeline_tests.history.sample import (
    BANGKOK,
    CLINIC,
    EVIL_FILE,
    FORMULA,
    HANAKO,
    HOSTILE,
    PHOTO,
    History,
)

# The contract's column names: the English titles (an export in another language has its own)
COLUMNS = ["account_name", "chat_name", "sent_at", "sender_type", "sender_name", "kind", "content", "media_file"]


def _expected_rows(history: History, account: str) -> list[tuple]:
    """The export's message rows straight from the warehouse, local time by the file's offset."""
    conn = duckdb.connect(str(history.data_dir.snapshot), read_only=True)
    conn.execute("SET TimeZone = 'UTC'")
    rows = conn.execute(
        """SELECT m.account_name, m.chat_name,
                  strftime(m.sent_at AT TIME ZONE 'UTC' + to_minutes(m.utc_offset_minutes), '%Y-%m-%dT%H:%M:%S')
                  || CASE m.utc_offset_minutes WHEN 540 THEN '+09:00' ELSE '+07:00' END,
                  m.sender_type, m.sender_name, m.kind, m.content, f.file
           FROM messages m
           LEFT JOIN media_files f ON f.message_id = m.message_id AND f.verification = 'ok'
           WHERE m.account_name = ? ORDER BY m.chat_name, m.sent_at, m.export_seq""",
        [account],
    ).fetchall()
    conn.close()
    return rows


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in folder.rglob("*.html")}


def test_html_pages_escape_everything_and_link_the_saved_file(history: History, tmp_path: Path) -> None:
    out = tmp_path / "html"
    export(history.data_dir, out, "html", Filters(), mask=False, settings=Settings())
    pages = _files(out)
    assert sum(name.endswith("index.html") for name in pages) == 3  # the accounts' list and one per account
    assert len(pages) == 3 + 3
    (hanako,) = (text for name, text in pages.items() if "山田花子" in name)
    assert "<script" not in hanako and "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/div&gt;=HYPERLINK(" in hanako
    assert hanako.count('class="msg them"') == 4 and hanako.count('class="msg me"') == 3
    assert "2026/2/27(金)" in hanako and "2026/2/28(土)" in hanako and "2026/3/1(日)" in hanako
    assert "<img" not in hanako and "&lt;img src=x onerror=alert(1)&gt;&#39;&quot;&amp;amp;.jpg" in hanako
    (href,) = (part.split('"')[0] for part in hanako.split('<a href="')[1:] if "media" in part.split('"')[0])
    page_dir = next(out.glob("さくら整体院*"))
    assert href.startswith("../media/")  # the export's own copy: the folder travels
    assert (page_dir / unquote(href)).resolve() == (out / "media" / EVIL_FILE).resolve()
    assert (page_dir / unquote(href)).read_bytes() == PHOTO
    index = pages[str(page_dir.relative_to(out) / "index.html")]
    assert "&lt;b&gt;vip&lt;/b&gt;" in index and "<b>" not in index
    assert "山田花子" in index and "佐藤一郎" in index and "2026-01-05 10:00" in index
    assert all(not name.startswith(".") for name in os.listdir(page_dir))  # no half-written file left
    assert oct(page_dir.stat().st_mode & 0o777) == "0o700"
    assert oct((page_dir / "index.html").stat().st_mode & 0o777) == "0o600"


def test_html_pages_are_the_same_a_chat_a_query_and_leave_every_chat_readable(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are drawn a batch of chats per query, the reader narrowed to the batch while it runs."""
    export(history.data_dir, tmp_path / "one", "html", Filters(), mask=False, settings=Settings())
    monkeypatch.setattr(html, "CHATS_PER_QUERY", 1)
    with open_history(history.data_dir.root) as conn:
        languages = account_languages(conn, Settings())
        select_messages(conn, Filters(), languages)
        every = conn.execute("SELECT count(*), count(DISTINCT chat_name) FROM history_messages").fetchone()
        report = html.write_html(
            conn, tmp_path / "each", tmp_path / "each" / MEDIA, languages, ENGLISH, masked=False, incremental=False
        )
        assert report.pages_written == every[1] == 3
        assert conn.execute("SELECT count(*), count(DISTINCT chat_name) FROM history_messages").fetchone() == every
    pages = {name: text for name, text in _files(tmp_path / "each").items() if not name.endswith("index.html")}
    assert pages == {k: v for k, v in _files(tmp_path / "one").items() if k in pages}


def test_html_export_of_one_chat(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(
        history.data_dir,
        out,
        "html",
        Filters(account=CLINIC, chat="山田 花子(紹介)"[:5]),
        mask=False,
        settings=Settings(),
    )
    assert [p for p in _files(out) if not p.endswith("index.html")] == [
        str(next(out.glob("さくら整体院*/山田花子*.html")).relative_to(out))
    ]


def test_xlsx_holds_every_message_as_a_value(history: History, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    export(history.data_dir, tmp_path, "xlsx", Filters(), mask=False, settings=Settings(), lang="en")
    for account in (CLINIC, BANGKOK):
        (path,) = tmp_path.glob(f"{account.replace(' ', '_')}-*.xlsx")
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == ["chats", "messages"]
        cells = list(book["messages"].iter_rows())
        assert [c.value for c in cells[0]] == [*COLUMNS[:3], "utc_offset", *COLUMNS[3:]]
        assert all(c.data_type in ("s", "n", "d") for row in cells for c in row if c.value is not None)  # no formula
        got = [tuple(c.value for c in row) for row in cells[1:]]
        # sent_at a date-time in local time, its offset beside it: the ISO text of the csv, in two cells
        assert [(*r[:2], f"{r[2].isoformat()}{r[3]}", *r[4:]) for r in got] == _expected_rows(history, account)
        chats = [tuple(c.value for c in row) for row in book["chats"].iter_rows()]
        assert chats[0] == ("account_name", "chat_name", "chat_type", "tags", "messages", "first_at", "last_at")
        assert {row[1] for row in chats[1:]} == {row[1] for row in got}
    book = openpyxl.load_workbook(next(tmp_path.glob("さくら整体院*.xlsx")))
    contents = [row[7].value for row in book["messages"].iter_rows()]
    assert FORMULA in contents and HOSTILE in contents
    assert tuple(c.value for c in next(r for r in book["chats"].iter_rows() if r[1].value == "山田花子"))[:5] == (
        "さくら整体院",
        "山田花子",
        "one_to_one",
        "<b>vip</b>",
        7,
    )


def test_csv_has_a_bom_and_guards_formulas(history: History, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    export(history.data_dir, tmp_path, "csv", Filters(account=CLINIC), mask=False, settings=Settings(), lang="en")
    (path,) = tmp_path.glob("*.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == COLUMNS
    expected = [tuple("" if v is None else v for v in row) for row in _expected_rows(history, CLINIC)]
    guarded = [tuple("'" + v if v[:1] in ("=", "+", "-", "@") else v for v in row) for row in expected]
    assert [tuple(r) for r in rows[1:]] == guarded
    assert "'" + FORMULA in [r[6] for r in rows]


def test_mask_replaces_names_and_contacts_everywhere(history: History, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"  # beside the data directory
    for fmt in ("csv", "html", "xlsx"):
        export(history.data_dir, tmp_path / fmt, fmt, Filters(), mask=True, settings=Settings())
    rows = list(csv.reader(io.StringIO(next((tmp_path / "csv").glob("さくら*.csv")).read_text("utf-8-sig"))))
    by_chat = {(r[1], r[4]) for r in rows[1:] if r[3] == "user"}
    assert by_chat == {("顧客0001", "顧客0001"), ("顧客0002", "顧客0002")}  # 佐藤 wrote first, then 山田
    assert "電話は[電話]、mail [メール]、[URL] 顧客0002です" in [r[6] for r in rows]
    assert {r[4] for r in rows[1:] if r[3] != "user"} == {"受付 佐々木", "応答メッセージ"}
    bangkok = list(csv.reader(io.StringIO(next((tmp_path / "csv").glob("Bangkok*.csv")).read_text("utf-8-sig"))))
    assert {(r[1], r[4]) for r in bangkok[1:] if r[3] == "user"} == {("顧客0001", "顧客0001")}
    book = openpyxl.load_workbook(next((tmp_path / "xlsx").glob("さくら*.xlsx")))
    texts = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    texts += [p.read_text(encoding="utf-8-sig") for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".xlsx"]
    texts += [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")]
    for secret in ("山田", "花子", "佐藤", "一郎", "Somchai", "090-1234", "hanako@", "example.jp"):
        assert not any(secret in text for text in texts), secret


def test_show_prints_the_transcript_with_dates_and_the_saved_file(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(history.data_dir.root)]
    assert main(["show", *args, "--account", CLINIC, "--chat", "山田（花子）", "--to", "2026-02-28"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "山田花子  (さくら整体院, 1:1チャット)"
    assert lines[1] == "――― 2026/2/27(金) ―――" and lines[4] == "――― 2026/2/28(土) ―――"
    assert lines[2] == "23:59:58  山田 花子: 予約したいです ＡＢＣ"
    assert lines[3] == "23:59:58  応答メッセージ [auto_reply]: メッセージありがとうございます。"
    assert lines[5:7] == ["00:10:03  受付 佐々木: はい、可能です。", "        明日10時はいかがでしょうか。"]
    assert lines[-1] == f"00:12:00  {HANAKO}: 写真を送信しました。  → {history.data_dir.media}/{EVIL_FILE}"
    assert main(["show", *args, "--account", CLINIC, "--chat", "誰もいない"]) == 1
    assert "no messages" in capsys.readouterr().err


def test_search_command(history: History, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data-dir", str(history.data_dir.root)]
    assert main(["search", *args, "ｈｙｐｅｒｌｉｎｋ", "--sender", "user"]) == 0
    (line,) = capsys.readouterr().out.splitlines()  # not a terminal: no highlight
    assert line == f"2026-01-05 10:31:00+09:00  {CLINIC}  佐藤一郎  佐藤 一郎 (user)  {FORMULA}"
    for bad, said in (([""], "TEXT must not be empty"), (["x", "--from", "2026-13-01"], "not a date YYYY-MM-DD")):
        with pytest.raises(SystemExit) as refused:
            main(["search", *args, *bad])
        assert refused.value.code == 2
        assert said in capsys.readouterr().err


def test_workbook_opens_ready(history: History, tmp_path: Path) -> None:
    export(
        history.data_dir, tmp_path / "out", "xlsx", Filters(account=CLINIC), mask=False, settings=Settings(), lang="en"
    )
    book = openpyxl.load_workbook(next((tmp_path / "out").glob("*.xlsx")))
    for name, last in (("chats", "G3"), ("messages", "I11")):
        sheet = book[name]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{last}"
        widths = {col: int(sheet.column_dimensions[col].width) for col in "ABCDEFG"}  # openpyxl adds 0.71
        assert all(6 <= width <= 82 for width in widths.values()), widths
    messages = book["messages"]
    first = messages["C2"]
    assert first.is_date and first.number_format == "yyyy-mm-dd hh:mm:ss"
    assert (first.value, messages["D2"].value) == (datetime(2026, 1, 5, 10, 0), "+09:00")
    # each column fits its widest value: the account's name (kanji, two columns each), and the long content
    assert int(messages.column_dimensions["A"].width) == len(CLINIC) * 2 + 2
    assert int(messages.column_dimensions["H"].width) == 82  # the hostile text is longer than the limit


def test_plain_export_travels_with_its_media_and_masked_carries_none(history: History, tmp_path: Path) -> None:
    out = tmp_path / "share"
    export(history.data_dir, out, "csv", Filters(account=CLINIC), mask=False, settings=Settings(), lang="en")
    assert (out / "media" / EVIL_FILE).read_bytes() == PHOTO
    (path,) = out.glob("*.csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [row[7] for row in rows if row[7]][1:] == [EVIL_FILE]  # media_file: relative to the export's media/
    # into the earlier plain export: replaced whole
    export(history.data_dir, out, "html", Filters(), mask=True, settings=Settings())
    names = [str(p.relative_to(out)) for p in out.rglob("*")]
    assert not any(name.endswith(".csv") or name.startswith("media") for name in names), names
    assert not any("山田" in name or "jpg" in name for name in names)
    page = next(p for p in out.rglob("顧客*.html") if "写真" in p.read_text(encoding="utf-8")).read_text(
        encoding="utf-8"
    )
    assert 'class="bubble card photo"' in page and "<a href" not in page.split("<main>")[1]
    assert "jpg" not in page and "保存されていません" not in page  # a photo was sent: nothing more
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # nothing left beside it


def test_export_refuses_a_folder_it_did_not_write_and_an_empty_selection(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["export", "--data-dir", str(history.data_dir.root)]
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "contract.pdf").write_bytes(b"%PDF")
    assert main([*args, "--out", str(mine)]) == 2
    assert "is not empty" in capsys.readouterr().err and os.listdir(mine) == ["contract.pdf"]
    assert main([*args, "--out", str(tmp_path / "none"), "--chat", "誰もいない"]) == 1
    assert "no messages" in capsys.readouterr().err and not (tmp_path / "none").exists()
    assert main([*args, "--out", str(mine / "new")]) == 0  # a new folder inside is fine
    assert (mine / "new" / ".lineoa-export").is_file()


def test_writes_never_follow_a_planted_link_and_keep_their_modes(history: History, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours", encoding="utf-8")
    stem = file_stem(CLINIC, CLINIC)
    planted = {
        "csv": (f"{stem}.csv", f".{stem}.csv.body"),  # the account's CSV, where DuckDB once wrote it
        "html": (f"{stem}/index.html", "index.html", ".index.html.tmp"),
        "xlsx": (f"{stem}.xlsx",),
    }
    for fmt, names in planted.items():
        out = tmp_path / fmt
        export(
            history.data_dir, out, fmt, Filters(account=CLINIC), mask=False, settings=Settings(), lang="en"
        )  # an earlier one
        for name in names:
            (out / name).unlink(missing_ok=True)
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).symlink_to(victim)
        export(history.data_dir, out, fmt, Filters(account=CLINIC), mask=False, settings=Settings(), lang="en")
        assert victim.read_text(encoding="utf-8") == "not yours"
        written = next(p for p in out.rglob("*") if p.name == Path(names[0]).name and not p.name.startswith("."))
        assert not written.is_symlink() and written.stat().st_mode & 0o777 == 0o600
    written = tmp_path / "csv" / f"{stem}.csv"
    written.chmod(0o644)  # re-exporting over a file another tool left readable: 0600 again
    export(
        history.data_dir, tmp_path / "csv", "csv", Filters(account=CLINIC), mask=False, settings=Settings(), lang="en"
    )
    assert written.stat().st_mode & 0o777 == 0o600
    assert openpyxl.load_workbook(tmp_path / "xlsx" / f"{stem}.xlsx")["messages"].max_row > 1
    assert not [p for p in tmp_path.rglob("*") if re.search(r"[0-9a-f]{32}\.tmp$", p.name)]  # nothing left behind


def test_an_xlsx_cell_past_excels_limit_is_marked_never_cut_silently() -> None:
    text = "予約" * 20_000  # 40,000 characters
    cell = fit_cell(text)
    assert len(cell) == CELL_CHARS and cell.startswith("予約予約") and "40,000 characters in all" in cell
    assert fit_cell("short") == "short" and fit_cell("x" * CELL_CHARS) == "x" * CELL_CHARS


@pytest.fixture
def page_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the SQL folder that the pages' layout version reads."""
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    monkeypatch.setattr(html, "SQL_DIR", sql)
    html._layout_version.cache_clear()
    yield sql
    html._layout_version.cache_clear()


@pytest.mark.parametrize("name", html.PAGE_SQL)
def test_a_change_to_what_draws_a_page_writes_every_page_again(page_sql: Path, name: str) -> None:
    before = html._layout_version()
    (page_sql / name).write_text((page_sql / name).read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    html._layout_version.cache_clear()
    assert html._layout_version() != before
