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

from lineoa_pipeline.history.export import export
from lineoa_pipeline.history.reader import Filters
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline_tests.history.sample import CLINIC, HOSTILE, History

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
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
    from playwright import sync_api  # a dev dependency: installed wherever the tests are

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
