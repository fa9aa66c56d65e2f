"""A file is its bytes and chat name, never its path: the same inputs delivered under one path overwritten
in turn (a chat downloaded again under its name, a weekly `backup.zip`), under distinct paths one run each,
in another order, or all at once, give identical tables, views and read-back output (`show`, `search`,
`export --format csv`). Over the real-format samples and the demo's inputs."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.history.labels import account_languages
from lineoa_pipeline.history.reader import Filters, open_history
from lineoa_pipeline.history.search import index_months, search
from lineoa_pipeline.history.transcript import select_messages, show_text, transcript
from lineoa_pipeline.history.workbook import write_csvs
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection
from lineoa_pipeline.warehouse.views import VIEW_SPECS, create_views
from lineoa_pipeline_tests.helpers import SAMPLES, IngestDir

Inputs = list[tuple[str, bytes]]  # (path under the inbox as delivered, bytes)


def _samples(_: Path) -> Inputs:
    if not SAMPLES.is_dir():
        pytest.skip("the shared samples are not beside this checkout")
    return sorted(
        (str(p.relative_to(SAMPLES)), p.read_bytes()) for p in SAMPLES.rglob("*") if p.suffix in (".csv", ".zip")
    )


def _demo(tmp_path: Path) -> Inputs:
    root = tmp_path / "demo-inputs"
    write_demo_data(root, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    inbox = root / "inbox"
    return sorted((str(p.relative_to(inbox)), p.read_bytes()) for p in inbox.rglob("*") if p.is_file())


def _one_path(relative: str) -> str:
    """Where a user who always saves under one name puts it: every bulk zip is `backup.zip`, a chat's CSV
    keeps its file name (its chat name) but always lands in the inbox itself."""
    return "backup.zip" if relative.endswith(".zip") else Path(relative).name


def _deliveries(inputs: Inputs) -> dict[str, list[Inputs]]:
    shuffled = inputs[:]
    random.Random(22).shuffle(shuffled)
    return {
        "all at once": [inputs],
        "one a run, in turn": [[item] for item in inputs],
        "one a run, shuffled": [[item] for item in shuffled],
        "one path, overwritten in turn": [[(_one_path(path), data)] for path, data in inputs],
        "one path, shuffled": [[(_one_path(path), data)] for path, data in shuffled],
    }


def _deliver(data_dir: DataDir, runs: list[Inputs]) -> dict[str, Any]:
    ingest = IngestDir(data_dir)
    for run in runs:
        for relative, data in run:
            ingest.drop(relative, data)
        ingest.ingest()
    with write_connection(data_dir) as conn:
        create_views(conn)
        index_months(conn, date(2000, 1, 1), date(2099, 12, 1))
    publish_snapshot(data_dir)
    out: dict[str, Any] = {
        "messages": ingest.query(
            """SELECT message_id, account_name, chat_name, chat_type, sender_type, sender_name, sent_at, month, kind,
                      content, utc_offset_minutes FROM messages ORDER BY ALL"""
        ),
        **{view.name: ingest.query(f"SELECT * FROM {view.name} ORDER BY ALL") for view in VIEW_SPECS},
    }
    with open_history(data_dir.root) as conn:
        languages = account_languages(conn, Settings())
        select_messages(conn, Filters(), languages)
        out["show"] = list(show_text(transcript(conn), "media", languages))
        out["search"] = [search(conn, needle, Filters(), limit=10_000) for needle in ("予約", "a", "。")]
        paths = write_csvs(conn, data_dir.root / "export", languages)
    out["export"] = {Path(p).name: Path(p).read_bytes() for p in paths}
    return out


@pytest.mark.parametrize("inputs", [_samples, _demo], ids=["samples", "demo"])
def test_the_same_inputs_give_the_same_warehouse_however_delivered(
    tmp_path: Path, inputs: Callable[[Path], Inputs]
) -> None:
    given = inputs(tmp_path)
    results = {
        name: _deliver(DataDir(tmp_path / f"d{number}"), runs)
        for number, (name, runs) in enumerate(_deliveries(given).items())
    }
    reference = results.pop("all at once")
    assert reference["messages"] and reference["show"] and reference["export"]
    for name, result in results.items():
        for part, value in reference.items():
            assert result[part] == value, f"{name}: {part}"
