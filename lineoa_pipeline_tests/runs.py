"""`lineoa run` in a real process of its own that a test watches line by line, kills or interrupts, and the
clean run it is compared with (test_crash_and_concurrency, commands/test_interrupt)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.synthetic.scale import SCALE_SPAN_DAYS, SCALE_START, write_scale_inbox
from lineoa_pipeline_tests.helpers import RUN_TIMEOUT, lineoa_command, lineoa_env, run_lineoa, snapshot_tables


@dataclass
class Run:
    """A `lineoa run` started in its own process group, its output collected line by line as it comes."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _reader: threading.Thread | None = None

    @classmethod
    def start(cls, data_dir: DataDir) -> Run:
        proc = subprocess.Popen(
            lineoa_command("run", "--data-dir", str(data_dir.root)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**lineoa_env(), "PYTHONUNBUFFERED": "1"},  # each line as it is written: kills hit their marks
            start_new_session=True,
        )
        run = cls(proc)
        run._reader = threading.Thread(target=run._read, daemon=True)
        run._reader.start()
        return run

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = RUN_TIMEOUT) -> bool:
        """Until `text` appears in the output (True) or the process ends without it (False)."""
        return self.wait_until(lambda: text in self.output, timeout)

    def wait_until(self, reached: Callable[[], bool], timeout: float = RUN_TIMEOUT) -> bool:
        """Until `reached()` (True) or the process ends first (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if reached():
                return True
            if self.proc.poll() is not None:
                self.finish()
                return reached()
            time.sleep(0.02)
        raise TimeoutError(f"not reached after {timeout} s:\n{self.output}")

    def kill(self) -> None:
        """SIGKILL the run's whole process group (a group this test started)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.finish()

    def finish(self, timeout: float = RUN_TIMEOUT) -> int:
        code = self.proc.wait(timeout)
        if self._reader:
            self._reader.join(timeout)
        return code


@contextlib.contextmanager
def watched_run(data_dir: DataDir) -> Iterator[Run]:
    run = Run.start(data_dir)
    try:
        yield run
    finally:
        if run.proc.poll() is None:
            run.kill()


def scale_inbox(inbox: Path, chats: int) -> None:
    """One account's weekly backups: a bulk zip of `chats` chats, and the week before as loose CSVs."""
    end = SCALE_START + timedelta(days=SCALE_SPAN_DAYS)
    write_scale_inbox(inbox, chats=chats, messages_per_chat=50, as_zip=True, downloaded_at=end)
    write_scale_inbox(inbox, chats=chats // 2, messages_per_chat=50, as_zip=False, downloaded_at=end - timedelta(7))
    bad_files(inbox, end)


def bad_files(inbox: Path, end: datetime) -> None:
    broken = render_export("A", [ChatMessage("User", "x", end, "cut")], downloaded_at=end)[:-3] + b'"cut'
    (inbox / "broken.csv").write_bytes(broken)
    (inbox / "rejects.csv").write_bytes(
        render_export("A", [], downloaded_at=end) + b"User,x,2025/02/30,10:00:00,no such day\r\n"
    )


def clean_run(
    tmp_path: Path, new_data_dir: Callable[[str], DataDir], chats: int
) -> tuple[Path, dict[str, list[tuple[Any, ...]]]]:
    """A scale inbox (`scale_inbox`) under tmp_path, and the tables one uninterrupted `lineoa run` makes of it."""
    source = tmp_path / "inbox"
    scale_inbox(source, chats=chats)
    clean = new_data_dir("clean")
    shutil.copytree(source, clean.inbox, dirs_exist_ok=True)
    began = time.monotonic()
    result = run_lineoa("run", "--data-dir", str(clean.root), timeout=RUN_TIMEOUT)
    print(f"clean run: {time.monotonic() - began:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    return source, snapshot_tables(clean)
