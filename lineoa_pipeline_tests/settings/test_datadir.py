"""The data directory holds personal data: what the pipeline creates there is private whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.defs.retention.sensors import raise_retention_alerts
from lineoa_pipeline.line_export.render import ChatMessage, render_export, write_bulk_zip
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_what_a_run_creates_is_private_whatever_the_umask(tmp_path, open_umask: None) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.root.mkdir()  # the user's own folder: its mode is the user's choice
    inbox = data_dir.root / "inbox"
    inbox.mkdir()
    messages = [ChatMessage("User", "山田 花子", datetime(2026, 1, 10, 10, 0), "予約したいです")]
    (inbox / "山田花子.csv").write_bytes(render_export("さくら整体院", messages, downloaded_at=datetime(2026, 2, 1)))
    write_bulk_zip(inbox / "backup.zip", "さくら整体院", {"佐藤": messages}, downloaded_at=datetime(2026, 2, 2))
    dropped = {inbox, *inbox.iterdir()}
    os.umask(0o022)  # as a shell leaves it: files 0644, folders 0755
    assert run_pipeline(data_dir).ok
    check = raise_retention_alerts(data_dir, Settings(), datetime(2028, 3, 1, tzinfo=UTC), None, lambda _: None)
    assert check is not None and check.new  # months long lost: alerts.jsonl is written

    made = [p for p in data_dir.root.rglob("*") if p not in dropped]
    assert {p.name for p in made} >= {"archive", "warehouse.duckdb", "warehouse.snapshot.duckdb", "alerts.jsonl"}
    assert {p.name for p in made} >= {".lineoa.lock", "media", "tags"}
    loose = {str(p.relative_to(data_dir.root)): oct(stat.S_IMODE(p.stat().st_mode)) for p in made}
    assert {k: v for k, v in loose.items() if v != ("0o700" if (data_dir.root / k).is_dir() else "0o600")} == {}
