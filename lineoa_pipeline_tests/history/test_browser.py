"""The transcript in a real browser (headless Chromium): bubbles on each side, hostile text shown as text,
no request leaving the page, and the index's filter box. Skips when Chromium is absent, except in CI
(`CI` set), whose `.ci/run` installs it: there a missing browser is a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest
from playwright import sync_api  # a dev dependency: installed wherever the tests are

from lineoa_pipeline.history.export import export
from lineoa_pipeline.history.reader import Filters
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline_tests.browser import ARGS, CHROMIUM
from lineoa_pipeline_tests.history.sample import CLINIC, HOSTILE, KANA, TAIPEI, THAI, History, build_languages

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="no Chromium installed (Debian: apt-get install chromium)"
    ),
]


def _sides(history: History, account: str, chat: str) -> tuple[int, int]:
    conn = duckdb.connect(str(history.data_dir.snapshot), read_only=True)
    row = conn.execute(
        """SELECT count(*) FILTER (WHERE sender_type = 'user'), count(*) FILTER (WHERE sender_type <> 'user')
           FROM messages WHERE account_name = ? AND chat_name = ?""",
        [account, chat],
    ).fetchone()
    conn.close()
    assert row
    return row[0], row[1]


def test_transcript_in_chromium(history: History, tmp_path: Path) -> None:
    out = tmp_path / "html"
    export(history.data_dir, out, "html", Filters(), mask=False, settings=Settings())
    (page_path,) = out.glob("さくら整体院-*/山田花子-*.html")
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 760, "height": 1000})
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            customer, account = _sides(history, CLINIC, "山田花子")
            assert page.locator(".msg.them").count() == customer == 4
            assert page.locator(".msg.me").count() == account == 3
            assert page.locator(".msg.me .name").all_inner_texts() == ["応答メッセージ", "受付 佐々木", "受付 佐々木"]
            assert page.locator(".date").all_inner_texts() == ["2026/2/27(金)", "2026/2/28(土)", "2026/3/1(日)"]
            assert HOSTILE in page.locator(".bubble").all_inner_texts()
            assert page.locator("script").count() == 0 and page.locator("img").count() == 0
            assert page.locator(".card a").count() == 1
            page.screenshot(path=str(tmp_path / "transcript.png"), full_page=True)

            index = next(out.glob("さくら整体院-*/index.html"))
            page.goto(index.as_uri())
            rows = page.locator("#rows tr")
            assert rows.count() == 2
            page.fill("#filter", "ｻﾄｳ")  # nothing: the names are in kanji
            assert sum(rows.nth(i).is_visible() for i in range(2)) == 0
            page.fill("#filter", "佐藤")
            assert [rows.nth(i).is_visible() for i in range(2)] == [True, False]
        finally:
            browser.close()
    assert dialogs == []
    assert all(url.startswith("file://") for url in requests), requests
    assert {Path(unquote(url)).name for url in requests} == {page_path.name, "index.html"}
    assert (tmp_path / "transcript.png").stat().st_size > 10_000


def test_a_copied_zipped_export_keeps_its_photos_and_reads_on_a_phone(history: History, tmp_path: Path) -> None:
    """The export folder zipped, the data directory gone, unzipped elsewhere: every photo link opens; the
    account's index at 390 px is a list of cards, no wider than the screen, and its filter still works."""
    from playwright import sync_api

    export(history.data_dir, tmp_path / "share", "html", Filters(), mask=False, settings=Settings())
    archive = shutil.make_archive(str(tmp_path / "share"), "zip", tmp_path / "share")
    shutil.rmtree(tmp_path / "share")
    shutil.rmtree(history.data_dir.root)  # nothing may point back into it
    elsewhere = tmp_path / "elsewhere"
    shutil.unpack_archive(archive, elsewhere)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            links = []
            for chat in sorted(elsewhere.glob("*/*.html")):
                page.goto(chat.as_uri())
                links += page.locator(".card.photo a").evaluate_all("links => links.map((a) => a.href)")
            assert len(links) == 1
            for link in links:
                assert page.goto(link) is not None  # a missing file fails the navigation (ERR_FILE_NOT_FOUND)
                assert Path(unquote(link.removeprefix("file://"))).is_relative_to(elsewhere)

            page.goto(next(elsewhere.glob(f"{CLINIC}-*/index.html")).as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert not page.locator("thead").is_visible()
            rows = page.locator("#rows tr")
            assert rows.count() == 2 and rows.first.evaluate("tr => getComputedStyle(tr).display") == "block"
            labels = (
                page.locator("#rows tr")
                .first.locator("td")
                .evaluate_all("tds => tds.map((td) => getComputedStyle(td, '::before').content)")
            )
            assert labels[1:] == ['"種類"', '"タグ"', '"メッセージ数"', '"最初のメッセージ"', '"最後のメッセージ"']
            page.fill("#filter", "佐藤")
            assert [rows.nth(i).is_visible() for i in range(2)] == [True, False]
        finally:
            browser.close()


def _fonts_env(tmp_path: Path) -> dict[str, str]:
    """Chromium's environment with the Noto fonts the dev dependencies install from PyPI (CJK, Thai) added to
    the system's, so that a screenshot shows the script and not empty boxes on a machine without them."""
    import fontpkg_noto_sans_thai
    import noto_cjk_sans_otc

    folders = [noto_cjk_sans_otc.FONT_PATH.parent, fontpkg_noto_sans_thai.ROOT / "files"]
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        + "".join(f"<dir>{folder}</dir>" for folder in folders)
        + f"<cachedir>{tmp_path / 'fontconfig'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(config)}


def _rendered_fonts(page: sync_api.Page, selector: str) -> set[str]:
    """The fonts Chromium drew the first `selector` element's text with (DevTools' platform fonts)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return {font["familyName"] for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]}


# What a chat page says in its own words (not the chats' names and texts): the header's line, date lines,
# media cards and notes.
LABELS = "header p, .date, .card .what, .bubble.note"


@pytest.mark.parametrize(
    ("account", "lang", "first_font", "drawn_in"),
    [(THAI, "th", "Noto Sans Thai", "Noto Sans Thai"), (TAIPEI, "zh-TW", "PingFang TC", "Noto Sans CJK TC")],
)
def test_thai_and_taiwanese_pages_in_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: str, lang: str, first_font: str, drawn_in: str
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    data_dir = build_languages(tmp_path)
    out = tmp_path / "html"
    export(data_dir, out, "html", Filters(account=account), mask=False, settings=Settings())
    (folder,) = (p for p in out.iterdir() if p.is_dir())
    (page_path,) = (p for p in folder.glob("*.html") if p.name != "index.html")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=_fonts_env(tmp_path))
        try:
            page = browser.new_page(viewport={"width": 760, "height": 900})
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.lang") == lang
            assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith(f'"{first_font}"')
            assert drawn_in in _rendered_fonts(page, ".date span")  # the script's own font, not boxes
            labels = page.locator(LABELS).all_inner_texts()
            assert len(labels) >= 5 and not [text for text in labels if KANA.search(text)], labels
            page.screenshot(path=str(tmp_path / f"transcript-{lang}.png"), full_page=True)
            page.goto((folder / "index.html").as_uri())
            labels = [*page.locator("th").all_inner_texts(), page.get_attribute("#filter", "placeholder") or ""]
            assert len(labels) == 7 and not [text for text in labels if KANA.search(text)], labels
        finally:
            browser.close()
    assert (tmp_path / f"transcript-{lang}.png").stat().st_size > 10_000
