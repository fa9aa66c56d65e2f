"""The guarded UI keeps working in a real browser (headless Chromium driven by playwright): a real `lineoa
ui` on the demo data directory, clicked through as a user would: the asset graph, a partition of
`messages`, and a launch. The guard refuses nothing the UI itself sends. Skips when Chromium is absent,
except in CI (`CI` set), whose `.ci/run` installs it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lineoa_pipeline.warehouse.connection import connect
from lineoa_pipeline_tests.browser import ARGS, CHROMIUM
from lineoa_pipeline_tests.dagster_dev import UNFINISHED, DagsterDev, serve
from lineoa_pipeline_tests.helpers import RUN_TIMEOUT, lineoa_command, run_lineoa

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="no Chromium installed (Debian: apt-get install chromium)",
    ),
]
UI_TIMEOUT_MS = 120_000  # a shared, busy machine: the UI's first queries can take a while


def _second_month(data_dir: Path) -> str:
    """A partition inside the range: the first and the latest are also the range's labels above the list."""
    conn = connect(data_dir)
    try:
        row = conn.execute("SELECT strftime(min(month) + INTERVAL 1 MONTH, '%Y-%m-01') FROM messages").fetchone()
    finally:
        conn.close()
    assert row and row[0]
    return row[0]


def test_the_guarded_ui_works_in_chromium(tmp_path: Path) -> None:
    from playwright import sync_api  # a dev dependency: installed wherever the tests are

    demo_dir = tmp_path / "demo"
    demo = run_lineoa("demo", "--data-dir", str(demo_dir))  # its runs recorded in its own instance
    assert demo.returncode == 0, demo.stderr
    month = _second_month(demo_dir)
    command = lineoa_command("ui", "--data-dir", str(demo_dir))
    with serve(tmp_path, demo_dir, command, own_instance=False) as server:
        own = server.url.removesuffix("/graphql")
        refused: list[str] = []
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(UI_TIMEOUT_MS)
                page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status in (403, 405) else None)
                # the asset graph of one group
                page.goto(f"{own}/locations/lineoa_pipeline/asset-groups/ingest")
                page.get_by_role("button", name="Skip").click()  # Dagster's newsletter dialog
                page.get_by_text("staged_files").first.wait_for()
                assert page.get_by_text("archived_inputs").count() >= 1
                # a partition of messages, with what its run recorded
                page.goto(f"{own}/assets/messages?view=partitions")
                page.get_by_text("Materialized (").first.wait_for()
                page.get_by_text(month).first.click()
                page.get_by_text("rows_reclassified").first.wait_for()
                # a launch
                page.goto(f"{own}/assets/chat_tags")
                page.get_by_role("button", name="Materialize").first.click()
                page.get_by_text("Launched run").first.wait_for()
                page.screenshot(path=str(tmp_path / "ui.png"))
            finally:
                browser.close()
        assert refused == []
        status = _wait_for_chat_tags_run(server)
        assert status == "SUCCESS", server.log_tail()


def _wait_for_chat_tags_run(server: DagsterDev) -> str:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        runs = server.query("""{ runsOrError { ... on Runs { results { status assetSelection { path } } } } }""")[
            "runsOrError"
        ]["results"]
        launched = [r["status"] for r in runs if {"path": ["chat_tags"]} in (r["assetSelection"] or [])]
        if launched and launched[0] not in UNFINISHED:
            return launched[0]
        time.sleep(1)
    return "UNFINISHED"
