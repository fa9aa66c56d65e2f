"""Interrupting is safe and says so: SIGINT or SIGTERM ends a command in one line (exit status 130 or 143),
no traceback, nothing half-loaded, and the next run completes the work; a reader whose pipe closes
(`lineoa show | head`) ends quietly."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.commands.signals import INTERRUPTED
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import RUN_TIMEOUT, run_lineoa, snapshot_tables
from lineoa_pipeline_tests.history.sample import CLINIC, HANAKO, build_history
from lineoa_pipeline_tests.runs import clean_run, watched_run


def test_a_reader_whose_pipe_closes_ends_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    history = build_history(tmp_path)
    read, write = os.pipe()
    os.close(read)  # `| head` has read what it wanted and gone
    with open(write, "w", encoding="utf-8", buffering=1) as closed:  # each line written as printed
        monkeypatch.setattr(sys, "stdout", closed)
        status = cli.main(["show", "--data-dir", str(history.data_dir.root), "--account", CLINIC, "--chat", HANAKO])
        monkeypatch.undo()
    assert status == 141
    assert capsys.readouterr().err == ""


# (signal, sent when the output shows, seconds after that)
POINTS = [
    (signal.SIGINT, "archiving: ", 0.3),  # during the staging step
    (signal.SIGTERM, "archiving: ", 0.3),
    (signal.SIGINT, "staging: ", 0.0),  # between the ingest and the months job, or early in the months
]


@pytest.mark.slow
def test_a_signal_ends_a_run_in_one_line_and_the_next_run_completes_it(
    tmp_path: Path, new_data_dir: Callable[[str], DataDir]
) -> None:
    source, expected = clean_run(tmp_path, new_data_dir, chats=400)
    for number, (signum, mark, delay) in enumerate(POINTS):
        data_dir = new_data_dir(f"interrupted{number}")
        shutil.copytree(source, data_dir.inbox, dirs_exist_ok=True)
        with watched_run(data_dir) as run:
            assert run.wait_for(mark), run.output
            time.sleep(delay)
            if run.proc.poll() is not None:
                pytest.fail(f"the run ended before the signal: {run.output}")
            os.killpg(run.proc.pid, signum)  # as a terminal's Ctrl-C reaches the whole foreground group
            status = run.finish()
        assert status == 128 + signum, run.output
        assert run.output.count(INTERRUPTED) == 1 and "Traceback" not in run.output, run.output
        assert "failed:" not in run.output and "FAILED" not in run.output, run.output
        after = run_lineoa("run", "--data-dir", str(data_dir.root), timeout=RUN_TIMEOUT)
        assert after.returncode == 0, after.stdout + after.stderr
        assert snapshot_tables(data_dir) == expected, (number, run.output, after.stdout)
