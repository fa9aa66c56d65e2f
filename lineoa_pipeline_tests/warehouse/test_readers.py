"""Readers and writers in separate real processes: notebooks on `connect()` while `lineoa run` writes.

DuckDB lets one process write a file, and a reader holding it open stops that writer. The design under test:
runs write `warehouse.duckdb` under a lock file and publish `warehouse.snapshot.duckdb` by renaming a whole
copy into place; `connect()` opens the snapshot read-only. So a reader never fails a run, a run never breaks
a reader, and a reader sees whole runs only (never new source files without the messages they brought).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.warehouse.connection import connect
from lineoa_pipeline_tests.helpers import (
    SPAN_DAYS,
    Reader,
    published_state,
    run_lineoa,
    weekly_backup,
)
from lineoa_pipeline_tests.processes import stop_group
from lineoa_pipeline_tests.reader_process import STATE

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The demo data directory after its first `lineoa run`: a published warehouse to read."""
    data = tmp_path / "data"
    write_demo_data(data)
    first = run_lineoa("run", data_dir=data)
    assert first.returncode == 0, first.stdout + first.stderr
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


def test_readers_see_only_whole_runs_and_never_fail_a_run(data_dir: Path, readers: tuple[Reader, Reader, Path]) -> None:
    holder, poller, stop = readers
    before = published_state(data_dir)
    last_week = datetime.now().replace(second=0, microsecond=0) - timedelta(days=8)
    history_from = last_week - timedelta(days=SPAN_DAYS)

    weekly_backup(data_dir, history_from, last_week)
    run1 = run_lineoa("run", data_dir=data_dir)
    assert run1.returncode == 0, run1.stdout + run1.stderr
    after1 = published_state(data_dir)

    weekly_backup(data_dir, history_from, last_week + timedelta(days=7))
    run2 = run_lineoa("run", data_dir=data_dir)
    assert run2.returncode == 0, run2.stdout + run2.stderr
    after2 = published_state(data_dir)

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
        weekly_backup(data_dir, yesterday - timedelta(days=SPAN_DAYS), yesterday)
        run = run_lineoa("run", data_dir=data_dir)
        assert run.returncode == 0, run.stdout + run.stderr
        new = connect(data_dir)
        try:
            assert new.execute(STATE).fetchone() != before
            assert old.execute(STATE).fetchone() == before
        finally:
            new.close()
    finally:
        old.close()
