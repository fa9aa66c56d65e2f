"""`chat_transcripts` keeps transcripts/ current, writing only what changed; `lineoa run` refreshes it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg

from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.defs.history.assets import chat_transcripts
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.search import search
from lineoa_pipeline.line_export.render import ChatMessage
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.history.sample import CHATS, CLINIC, HANAKO, History, refresh, write_chat


def _files(folder: Path) -> dict[str, int]:
    """Every file under `folder` with its inode: a file written again (beside, then renamed) gets a new one."""
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def _materialize(data_dir: DataDir) -> dict[str, int]:
    result = dg.materialize([chat_transcripts], resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    return {k: meta[k].value for k in ("chats", "pages_written", "pages_removed")}


def _written(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name, inode in after.items() if before.get(name) != inode and not name.endswith(".json")}


def test_transcripts_rewrite_only_the_chats_that_changed(history: History) -> None:
    data_dir = history.data_dir
    folder = data_dir.root / "transcripts"
    assert _materialize(data_dir) == {"chats": 3, "pages_written": 3, "pages_removed": 0}
    first = _files(folder)
    assert len(_written({}, first)) == 3 + 3  # the chats, the accounts' list and an index per account

    assert _materialize(data_dir)["pages_written"] == 0  # nothing changed: nothing written
    assert _written(first, _files(folder)) == set()

    # A later export of 山田's chat with one new message: that page and its account's index, nothing else.
    later = [*CHATS[(CLINIC, HANAKO)], ChatMessage("User", HANAKO, datetime(2026, 3, 2, 8, 0), "ありがとう")]
    write_chat(data_dir, CLINIC, HANAKO, later, "2026-03-02 19:00")
    refresh(data_dir)
    assert _materialize(data_dir)["pages_written"] == 1
    second = _files(folder)
    changed = _written(first, second)
    assert len(changed) == 3 and {Path(n).name for n in changed} >= {"index.html"}
    assert any("山田花子" in n for n in changed)

    # A tag on another chat rewrites that chat's page (its tags show in the index) ...
    (data_dir.tags / "more.csv").write_text(f"account_name,chat_name,tag\n{CLINIC},佐藤一郎,new\n")
    refresh(data_dir)
    assert _materialize(data_dir)["pages_written"] == 1
    third = _files(folder)
    assert any("佐藤一郎" in n for n in _written(second, third))

    # ... and a new account appears in the accounts' list.
    hello = [ChatMessage("User", "Lek", datetime(2026, 3, 1), "hi")]
    write_chat(data_dir, "Chiang Mai Cafe", "Lek", hello, "2026-03-02 18:05")
    refresh(data_dir)
    assert _materialize(data_dir) == {"chats": 4, "pages_written": 1, "pages_removed": 0}
    assert "Chiang Mai Cafe" in (folder / "index.html").read_text(encoding="utf-8")
    assert len(list(folder.glob("Chiang_Mai_Cafe-*/Lek-*.html"))) == 1


def test_lineoa_run_writes_transcripts(pipeline_dir: DataDir) -> None:
    for (account, chat), messages in CHATS.items():
        write_chat(pipeline_dir, account, chat, messages, "2026-03-02 18:05")
    assert run_pipeline(pipeline_dir).ok
    pages = sorted(p.name for p in (pipeline_dir.root / "transcripts").rglob("*.html"))
    assert len(pages) == 3 + 3 and pages.count("index.html") == 3
    # the search side table went out with the snapshot (not built in memory by the search's fallback)
    with open_history(pipeline_dir.root) as conn:
        published = "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_search_text' AND NOT temporary"
        assert conn.execute(published).fetchone() == (1,)
        assert ("ＡＢＣ booking",) in conn.execute("SELECT content FROM _search_text").fetchall()
        assert [h.content for h in search(conn, "ｂｏｏｋｉｎｇ", Filters(), 5)] == ["ＡＢＣ booking"]
