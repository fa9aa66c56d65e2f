"""Readers and writers in separate real processes: notebooks on `connect()` while `lineoa run` writes.

DuckDB lets one process write a file, and a reader holding it open stops that writer. The design under test:
runs write `warehouse.duckdb` under a lock file and publish `warehouse.snapshot.duckdb` by renaming a whole
copy into place; `connect()` opens the snapshot read-only. So a reader never fails a run, a run never breaks
a reader, and a reader sees whole runs only (never new source files without the messages they brought).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.synthetic.scale import write_scale_inbox
from lineoa_pipeline.warehouse.connection import connect
from lineoa_pipeline_tests.helpers import ROOT
from lineoa_pipeline_tests.processes import stop_group
from lineoa_pipeline_tests.reader_process import STATE

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 600
# Two weekly bulk backups of one more account: the second repeats most of the first, plus a week of news.
CHATS, MESSAGES_PER_CHAT, SPAN_DAYS = 400, 150, 365


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}  # an ephemeral instance
    return env | {"LINEOA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def _lineoa_run(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`lineoa run` in its own process, as a user or cron starts it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lineoa_pipeline.commands.cli", "run"],
        cwd=ROOT,
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        stop_group(proc, grace=5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def _state(data_dir: Path) -> list[int]:
    """The published state, read by a connection of this process (opened and closed here)."""
    conn = connect(data_dir)
    try:
        row = conn.execute(STATE).fetchone()
    finally:
        conn.close()
    return [int(v) for v in row or ()]


class Reader:
    """`reader_process` in a real process of its own; `finish()` stops it and returns what it saw."""

    def __init__(self, data_dir: Path, mode: str, stop_file: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lineoa_pipeline_tests.reader_process", str(data_dir), str(stop_file), mode],
            cwd=ROOT,
            env=_env(data_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()  # the connection is open once this line arrives
        assert json.loads(ready or "{}").get("ready"), f"reader did not start: {ready}{self.proc.stderr.read()}"

    def finish(self) -> dict:
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, f"reader exited {self.proc.returncode}: {err}"
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The demo data directory after its first `lineoa run`: a published warehouse to read."""
    data = tmp_path / "data"
    write_demo_data(data)
    first = _lineoa_run(data)
    assert first.returncode == 0, first.stdout
    return data


@pytest.fixture
def readers(tmp_path: Path, data_dir: Path) -> Iterator[tuple[Reader, Reader, Path]]:
    stop = tmp_path / "stop-readers"
    started: list[Reader] = []
    try:
        started.append(Reader(data_dir, "hold", stop))
        started.append(Reader(data_dir, "reopen", stop))
        yield started[0], started[1], stop
    finally:
        stop.touch()
        for reader in started:
            if reader.proc.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    reader.proc.wait(timeout=30)
            stop_group(reader.proc, grace=5)


def _weekly_backup(data_dir: Path, history_from: datetime, downloaded_at: datetime) -> dict[str, int]:
    """The bulk backup of one more account downloaded at `downloaded_at`: the year before it of a history that
    starts at `history_from` (the same history each week, so next week's backup overlaps this one)."""
    return write_scale_inbox(
        data_dir / "inbox" / "weekly",
        chats=CHATS,
        messages_per_chat=MESSAGES_PER_CHAT,
        as_zip=True,
        start=history_from,
        downloaded_at=downloaded_at,
        span_days=SPAN_DAYS,
    )


def test_readers_see_only_whole_runs_and_never_fail_a_run(data_dir: Path, readers: tuple[Reader, Reader, Path]) -> None:
    holder, poller, stop = readers
    before = _state(data_dir)
    last_week = datetime.now().replace(second=0, microsecond=0) - timedelta(days=8)
    history_from = last_week - timedelta(days=SPAN_DAYS)

    _weekly_backup(data_dir, history_from, last_week)
    run1 = _lineoa_run(data_dir)
    assert run1.returncode == 0, run1.stdout
    after1 = _state(data_dir)

    _weekly_backup(data_dir, history_from, last_week + timedelta(days=7))
    run2 = _lineoa_run(data_dir)
    assert run2.returncode == 0, run2.stdout
    after2 = _state(data_dir)

    stop.touch()
    held, polled = holder.finish(), poller.finish()
    whole_runs = [before, after1, after2]
    assert before[2] < after1[2] < after2[2] and before[0] < after1[0] < after2[0], whole_runs

    assert not held["errors"], held["errors"][0]
    assert not polled["errors"], polled["errors"][0]
    # The connection held throughout stays on the warehouse it opened, and keeps answering.
    assert held["seen"] == [before], f"a held connection saw {held['seen']}, runs were {whole_runs}"
    assert held["queries"] > 10
    # Connections opened during the runs see the state before, after run 1 or after run 2: never a mix.
    assert all(state in whole_runs for state in polled["seen"]), f"saw {polled['seen']}, runs were {whole_runs}"
    assert polled["seen"][0] == before and polled["last"] == after2, polled["seen"]
    assert polled["queries"] > 10
    print(
        f"\n[readers] whole runs {whole_runs}; held connection: {held['queries']} queries; "
        f"reopening reader: {polled['queries']} queries, saw {polled['seen']}"
    )


def test_a_new_connect_sees_the_latest_run_while_an_older_connection_is_open(data_dir: Path) -> None:
    """A notebook that re-runs its `conn = connect()` cell, the old connection not yet garbage-collected."""
    old = connect(data_dir)
    try:
        before = old.execute(STATE).fetchone()
        yesterday = datetime.now().replace(second=0, microsecond=0) - timedelta(days=1)
        _weekly_backup(data_dir, yesterday - timedelta(days=SPAN_DAYS), yesterday)
        run = _lineoa_run(data_dir)
        assert run.returncode == 0, run.stdout
        new = connect(data_dir)
        try:
            assert new.execute(STATE).fetchone() != before
            assert old.execute(STATE).fetchone() == before
        finally:
            new.close()
    finally:
        old.close()
