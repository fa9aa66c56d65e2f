"""What the tests share besides fixtures: the project's root, the shared sample exports beside a checkout,
the message a test writes in an export, and the real processes of the readers' tests (a `lineoa run`, a
notebook stand-in, a weekly backup)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from lineoa_pipeline.line_export.render import ChatMessage
from lineoa_pipeline.synthetic.scale import write_scale_inbox
from lineoa_pipeline.warehouse.connection import connect
from lineoa_pipeline_tests.processes import stop_group
from lineoa_pipeline_tests.reader_process import STATE

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"  # absent in a user's clone: the tests that read it skip


def msg(sender_type: str, name: str, when: str, content: str) -> ChatMessage:
    """A message as an export lists it: `User` or `Account`, the sender's name, local time, content."""
    return ChatMessage(sender_type, name, datetime.fromisoformat(when), content)


def jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    """`records` written to `path` as `alerts.jsonl` holds them, a line each (what `deliver` and `compose`
    read); returns `path`."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# --- the `lineoa` command in a real process ----------------------------------------------------------


def lineoa_command(*args: str) -> list[str]:
    """The argv of the installed `lineoa` console script (the venv's), for real subprocesses."""
    script = Path(sys.executable).with_name("lineoa")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "lineoa_pipeline.commands.cli", *args]


def lineoa_env() -> dict[str, str]:
    """The environment for a `lineoa` subprocess: no data directory or Dagster instance leaks in from ours."""
    return {k: v for k, v in os.environ.items() if k not in ("LINEOA_DATA_DIR", "DAGSTER_HOME")}


# --- readers and writers in real processes (warehouse/test_readers, test_lake) -------------------------

RUN_TIMEOUT = 600
# Two weekly bulk backups of one more account: the second repeats most of the first, plus a week of news.
CHATS, MESSAGES_PER_CHAT, SPAN_DAYS = 400, 150, 365


def reader_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}  # an ephemeral instance
    return env | {"LINEOA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def started(argv: list[str], data_dir: Path, stderr: int) -> subprocess.Popen[str]:
    """`argv` in a process group of its own on `data_dir`, its output piped (stderr: PIPE or STDOUT)."""
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=reader_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def lineoa_run(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`lineoa run` in its own process, as a user or cron starts it."""
    proc = started(lineoa_command("run"), data_dir, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        stop_group(proc, grace=5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def published_state(data_dir: Path) -> list[int]:
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
        self.proc = started(
            [sys.executable, "-m", "lineoa_pipeline_tests.reader_process", str(data_dir), str(stop_file), mode],
            data_dir,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()  # the connection is open once this line arrives
        assert json.loads(ready or "{}").get("ready"), f"reader did not start: {ready}{self.proc.stderr.read()}"

    def finish(self) -> dict:
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, f"reader exited {self.proc.returncode}: {err}"
        return json.loads(out.strip().splitlines()[-1])


def weekly_backup(data_dir: Path, history_from: datetime, downloaded_at: datetime) -> dict[str, int]:
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
