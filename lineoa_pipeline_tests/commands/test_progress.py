"""What a person sees during `lineoa run`: phases, not Dagster's log lines; warnings once, readably."""

from __future__ import annotations

import os
import pty
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import lineoa_command, lineoa_env

PHASES = ("archiving: ", "staging: ", "writing months: ", "views: ", "retention: ", "snapshot: ")


def inbox(data_dir: DataDir) -> None:
    messages = [ChatMessage("User", "山田", datetime(2026, m, 5, 10), f"#{m}") for m in (1, 2)]
    (data_dir.inbox / "山田.csv").write_bytes(render_export("A", messages, downloaded_at=datetime(2026, 2, 6, 9)))
    cut = render_export("A", messages, downloaded_at=datetime(2026, 2, 6))[:-3] + b'"cut'
    (data_dir.inbox / "cut.csv").write_bytes(cut)


def test_redirected_output_is_one_plain_line_per_phase_then_the_summary(
    pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox(pipeline_dir)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [next(p for p in PHASES if line.startswith(p)) for line in lines if line.startswith(PHASES)] == list(PHASES)
    assert [line for line in lines if line.startswith("warning: quarantined cut.csv")], out
    assert (
        lines[-1].startswith("done: files loaded 1, ")
        and "months written 2 (2026-01 to 2026-02); retention alerts new " in out
    )
    assert " - dagster - " not in out + err  # no Dagster log line


def test_every_inbox_entry_skipped_is_named_in_the_output(
    pipeline_dir: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox(pipeline_dir)
    (tmp_path / "outside.csv").write_bytes((pipeline_dir.inbox / "山田.csv").read_bytes())
    (pipeline_dir.inbox / "link.csv").symlink_to(tmp_path / "outside.csv")  # a link out of the data directory
    os.mkfifo(pipeline_dir.inbox / "pipe.csv")
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("warning: skipped inbox/link.csv")], out
    assert [line for line in out.splitlines() if line.startswith("warning: skipped inbox/pipe.csv")], out


def test_verbose_shows_dagsters_own_logs(pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str]) -> None:
    inbox(pipeline_dir)
    assert cli.main(["run", "--verbose", "--data-dir", str(pipeline_dir.root)]) == 0
    out, err = capsys.readouterr()
    assert " - dagster - INFO - ingest_job - " in out + err and "staging: " in out


def test_a_terminal_shows_a_bar_per_phase(tmp_path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    inbox(data_dir)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        lineoa_command("run", "--data-dir", str(data_dir.root)),
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**lineoa_env(), "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the run ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=300) == 0
    shown = b"".join(chunks).decode("utf-8", errors="replace")
    assert "━" in shown and "archiving" in shown and "2/2" in shown and "months" in shown
    assert "done: files loaded 1" in shown
