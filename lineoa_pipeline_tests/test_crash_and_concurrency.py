"""Real `lineoa run` processes: killed with SIGKILL at many points, then run again, they end with exactly the
tables of one clean run; two at once on one data directory take turns (the second says it waits).

Wall times are printed (`pytest -s` shows them), never asserted: this machine is shared and noisy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lineoa_pipeline.commands.instance import instance_home, open_instance
from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.staging import scratch_folders, stage_pending
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.synthetic.scale import SCALE_SPAN_DAYS, SCALE_START, write_scale_inbox
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, write_connection, writer_lock
from lineoa_pipeline_tests.helpers import RUN_TIMEOUT, lineoa_env, open_warehouse, run_lineoa, snapshot_tables
from lineoa_pipeline_tests.reader_process import STATE
from lineoa_pipeline_tests.runs import Run, bad_files, clean_run, watched_run

WAITING = "waiting for another run"


def warehouse_state(data_dir: DataDir) -> tuple[int, int, int] | None:
    """Of the writer's file itself (opened read-only), or of the lake's latest snapshot, for after a crash:
    source files, the messages they say they stored, messages; None while there is no warehouse yet."""
    if lake.configured(data_dir) is None and not data_dir.warehouse.exists():
        return None
    try:
        conn = open_warehouse(data_dir)
    except NoWarehouseYet:  # a lake before its first writer
        return None
    try:
        files, stored, messages = conn.execute(STATE).fetchone() or (0, 0, 0)
    finally:
        conn.close()
    return files, stored, messages


@dataclass(frozen=True)
class KillPoint:
    """Where a crash happens: the run is killed `delay` seconds after `reached(run, data_dir)` first holds."""

    name: str
    reached: Callable[[Run, DataDir], bool]
    delay: float = 0.0


def said(text: str) -> Callable[[Run, DataDir], bool]:
    return lambda run, _: text in run.output


def archive_holds(files: int) -> Callable[[Run, DataDir], bool]:
    return lambda _, data_dir: data_dir.archive.is_dir() and sum(1 for _ in data_dir.archive.iterdir()) >= files


KILL_POINTS = [
    KillPoint("3 s after the start", lambda _, __: True, 3.0),
    KillPoint("mid-archive: 200 files copied", archive_holds(200)),
    KillPoint("inputs recorded, nothing staged", said("archiving: ")),
    KillPoint("mid-staging: a batch being typed or stored", said("archiving: "), 0.5),
    KillPoint("staging committed, inputs maybe not marked staged", said("staging: ")),
    KillPoint("months written, no snapshot yet", said("writing months: ")),
]


@pytest.mark.slow
def test_a_run_killed_at_any_point_then_run_again_equals_a_clean_run(
    tmp_path: Path, new_data_dir: Callable[[str], DataDir]
) -> None:
    source, expected = clean_run(tmp_path, new_data_dir, chats=2_000)
    assert len(expected["messages"]) > 100_000 and len(expected["quarantined_files"]) == 1
    assert len(expected["rejected_rows"]) == 1

    # Each kill point on a fresh copy; the last scenario is killed at every point in turn, one after another.
    scenarios = [[point] for point in KILL_POINTS] + [KILL_POINTS[1:]]
    for number, points in enumerate(scenarios):
        crashed = new_data_dir(f"crashed{number}")
        shutil.copytree(source, crashed.inbox, dirs_exist_ok=True)
        for point in points:
            with watched_run(crashed) as run:
                reached = run.wait_until(lambda: point.reached(run, crashed))  # noqa: B023 (called right here)
                assert reached, f"scenario {number}: the run ended before {point.name}"
                time.sleep(point.delay)
                assert run.proc.poll() is None, f"scenario {number}: the run ended before it could be killed"
                run.kill()
                assert run.proc.returncode == -signal.SIGKILL
                print(f"scenario {number}: killed at {point.name}, {time.monotonic() - run.started:.1f} s in")
            if (state := warehouse_state(crashed)) is not None:  # whatever the moment, it opens and reads ...
                files, stored, messages = state  # ... and holds whole files: each message counted by its file
                assert stored == messages, f"scenario {number} at {point.name}: {state}"
                assert files <= len(expected["source_files"]) and messages <= len(expected["messages"])
        result = run_lineoa("run", "--data-dir", str(crashed.root), timeout=RUN_TIMEOUT)
        assert result.returncode == 0, result.stdout + result.stderr
        assert snapshot_tables(crashed) == expected, f"scenario {number}: {[p.name for p in points]}"
        half_copies = [*crashed.archive.glob(".*.tmp"), *crashed.root.glob(".*.tmp")]
        assert half_copies == [], f"scenario {number}: {half_copies}"
        left = [folder for folder in scratch_folders(crashed) if folder.exists()]
        assert left == [], f"scenario {number}: scratch left behind {left}"
        print(f"scenario {number}: equal to the clean run")
        shutil.rmtree(crashed.root)


def test_months_staged_by_a_run_killed_before_writing_them_are_written_by_the_next(pipeline_dir: DataDir) -> None:
    # The state a run leaves when killed after its ingest job committed and before its months job ran:
    # what the ingest job does, done with the same functions, and nothing after.
    small_inbox(pipeline_dir.inbox)
    with write_connection(pipeline_dir) as conn:
        archive_inbox(conn, pipeline_dir, log=lambda _: None)
        staged = stage_pending(conn, pipeline_dir, log=lambda _: None)
        # the messages are stored, their months still to be written (classified) and published
        assert staged.messages_new > 0 and conn.execute("SELECT count(*) FROM messages").fetchone() == (
            staged.messages_new,
        )
        assert conn.execute("SELECT count(DISTINCT month) FROM _pending_months").fetchone() == (len(staged.months),)
    assert not pipeline_dir.snapshot.exists()
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and len(summary.months_written) == len(staged.months)
    # the run that completed the work counts it as its own, and only once
    completed = (summary.files_loaded, summary.messages_new, summary.duplicates, summary.rejected)
    assert completed == (staged.files_loaded, staged.messages_new, staged.duplicates, staged.rejected)
    again = run_pipeline(pipeline_dir)
    assert (again.files_loaded, again.messages_new, again.months_written) == (0, 0, [])
    alone = DataDir(pipeline_dir.root.parent / "alone")
    shutil.copytree(pipeline_dir.inbox, alone.inbox)
    assert run_pipeline(alone).ok
    assert snapshot_tables(pipeline_dir) == snapshot_tables(alone)


def test_the_scratch_a_killed_run_left_is_removed_by_the_next(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    small_inbox(data_dir.inbox)
    leave_scratch(data_dir)  # what a run killed while extracting zip members leaves
    with write_connection(data_dir) as conn:
        archive_inbox(conn, data_dir, log=lambda _: None)
        staged = stage_pending(conn, data_dir, log=lambda _: None)
        assert staged.files_loaded > 40
        assert [folder for folder in scratch_folders(data_dir) if folder.exists()] == []
        # killed after marking every input staged, before removing its scratch: the next run has nothing to stage
        leave_scratch(data_dir)
        again = stage_pending(conn, data_dir, log=lambda _: None)
    assert again.files_loaded == 0
    assert [folder for folder in scratch_folders(data_dir) if folder.exists()] == []


def leave_scratch(data_dir: DataDir) -> None:
    for folder in scratch_folders(data_dir):
        (folder / "a-zip-sha").mkdir(parents=True)
        (folder / "a-zip-sha" / "members.spool").write_bytes(b"x" * 1024)


def small_inbox(inbox: Path) -> None:
    """A few exports of every sort: a bulk zip, loose CSVs, a file cut off, a file with a bad row."""
    end = SCALE_START + timedelta(days=SCALE_SPAN_DAYS)
    write_scale_inbox(inbox, chats=40, messages_per_chat=20, as_zip=True, downloaded_at=end)
    write_scale_inbox(inbox, chats=10, messages_per_chat=20, as_zip=False, downloaded_at=end - timedelta(7))
    bad_files(inbox, end)


@pytest.mark.slow
def test_two_runs_at_once_take_turns_and_give_one_clean_warehouse(new_data_dir: Callable[[str], DataDir]) -> None:
    data_dir = new_data_dir("data")
    small_inbox(data_dir.inbox)
    # Both start while a run holds the warehouse (this test, through the same lock), so both must wait.
    runs: list[Run] = []
    try:
        with writer_lock(data_dir):
            runs = [Run.start(data_dir), Run.start(data_dir)]
            assert all(run.wait_for(WAITING, timeout=120) for run in runs), "".join(run.output for run in runs)
        codes = [run.finish() for run in runs]
    finally:
        for run in runs:
            if run.proc.poll() is None:
                run.kill()
    output = "".join(run.output for run in runs)
    assert codes == [0, 0], output
    done = sorted(line for line in output.splitlines() if line.startswith("done:"))
    assert len(done) == 2
    assert "files loaded 0, already seen 0, quarantined 0; messages new 0" in done[0]  # the second, after
    assert "files loaded 51, already seen 0, quarantined 1;" in done[1]  # the first took everything in

    alone = new_data_dir("alone")  # the same inputs in one clean run
    shutil.copytree(data_dir.inbox, alone.inbox, dirs_exist_ok=True)
    assert run_pipeline(alone).ok
    assert snapshot_tables(data_dir) == snapshot_tables(alone)


def dagster_job(data_dir: DataDir, job: str) -> subprocess.Popen[str]:
    """A run of `job` in its own process on the instance the command line uses, the way the daemon's run
    worker executes one (in-process executor, every step through the write pool)."""
    env = {**lineoa_env(), "DAGSTER_HOME": str(instance_home(data_dir)), "LINEOA_DATA_DIR": str(data_dir.root)}
    dagster = str(Path(sys.executable).with_name("dagster"))
    return subprocess.Popen(
        [dagster, "job", "execute", "-m", "lineoa_pipeline.definitions", "-j", job],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )


@pytest.mark.slow
def test_a_dagster_run_and_a_lineoa_run_started_together_both_finish(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    small_inbox(data_dir.inbox)
    instance_home(data_dir)  # the instance both share, with the project's settings (the write pool)
    with open_instance(data_dir):  # made once, as `lineoa ui` or a first run leaves it: two processes creating
        pass  # Dagster's SQLite storage at the same instant can both try to create its tables
    for attempt in range(4):
        sent = datetime(2026, 3, attempt + 1, 9)
        chat = render_export("A", [ChatMessage("User", "x", sent, f"#{attempt}")], downloaded_at=sent)
        (data_dir.inbox / f"new-{attempt}.csv").write_bytes(chat)
        job = dagster_job(data_dir, "ingest_job")
        began = time.monotonic()
        with watched_run(data_dir) as run:
            code = run.finish(timeout=300)
            job_output = job.communicate(timeout=300)[0]
        assert code == 0, run.output
        assert job.returncode == 0, job_output
        print(f"attempt {attempt}: both finished after {time.monotonic() - began:.1f} s")
    with open_instance(data_dir) as instance:
        runs = instance.get_run_records()
    assert len(runs) >= 8 and all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in runs)


@pytest.mark.slow
def test_a_waiting_lineoa_run_sleeps_and_ends_on_sigterm(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    small_inbox(data_dir.inbox)
    with writer_lock(data_dir), watched_run(data_dir) as run:  # this test holds the warehouse
        assert run.wait_for(WAITING, timeout=120), run.output
        assert f"process {os.getpid()}" in run.output  # it says whom it waits for
        cpu = cpu_share(run.proc.pid, seconds=3.0)
        run.proc.send_signal(signal.SIGTERM)
        began = time.monotonic()
        run.finish(timeout=10)
        ended = time.monotonic() - began
    print(f"a waiting lineoa run used {cpu:.1%} of a core and ended {ended:.2f} s after SIGTERM")
    assert cpu < 0.05
    assert ended < 2.0


def cpu_share(pid: int, seconds: float) -> float:
    """The share of one core process `pid` used over `seconds` (user + system time from /proc/<pid>/stat)."""

    def ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))

    before, began = ticks(), time.monotonic()
    time.sleep(seconds)
    return (ticks() - before) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - began)
