"""Real subprocesses for the end-to-end tests: free ports on 127.0.0.1, and process groups that always end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_group(proc: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 15.0) -> None:
    """End a process started with `start_new_session=True` and everything it started (its process group,
    whose id is the leader's pid even after the leader exits): SIGTERM, then SIGKILL after `grace` seconds."""
    pgid = proc.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(pgid):
        proc.poll()  # reap the leader, so that only the processes it left count as alive
        time.sleep(0.2)
    _signal_group(pgid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
