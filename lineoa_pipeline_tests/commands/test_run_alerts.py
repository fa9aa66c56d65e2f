"""`lineoa run` with nothing new still evaluates retention as of now: a user who stopped backing up (the
user the alerts are for) hears that a month went at risk, from the run cron starts, with its clock moved on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from lineoa_pipeline.commands import cli
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir


def test_a_run_with_nothing_new_raises_what_time_brought(
    pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(pipeline_dir.root)
    pipeline_dir.inbox.mkdir(parents=True, exist_ok=True)
    (pipeline_dir.inbox / "山田.csv").write_bytes(
        render_export(
            "さくら整体院",
            [ChatMessage("User", "山田", datetime(2025, 3, 5, 10, 0), "予約したいです")],
            downloaded_at=datetime(2025, 3, 10, 9, 0),
        )
    )
    with time_machine.travel(datetime(2025, 3, 10, 12, 0, tzinfo=UTC)):
        assert cli.main(["run", "--data-dir", root]) == 0
    first = capsys.readouterr().out
    assert "retention alert (" not in first and "retention alerts new 0" in first
    assert not pipeline_dir.alerts.exists() or not pipeline_dir.alerts.read_text().strip()

    # a year on, with nothing new in the inbox: March 2025 passes its text cutoff (365 days), later months
    # (no bulk backup covers them) are at risk
    with time_machine.travel(datetime(2026, 4, 1, 12, 0, tzinfo=UTC)):
        assert cli.main(["run", "--data-dir", root]) == 0
    later = capsys.readouterr().out
    assert "nothing new since the last run" in later
    raised = [json.loads(line) for line in pipeline_dir.alerts.read_text().splitlines()]
    assert ("2025-03", "lost") in [(r["month"], r["level"]) for r in raised]
    assert "retention alert:" in later and "lost" in later and f"retention alerts new {len(raised)};" in later

    # and once only: the next run with nothing new has nothing new to say
    with time_machine.travel(datetime(2026, 4, 2, 12, 0, tzinfo=UTC)):
        assert cli.main(["run", "--data-dir", root]) == 0
    assert "retention alerts new 0" in capsys.readouterr().out
