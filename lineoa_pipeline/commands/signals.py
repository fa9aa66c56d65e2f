"""Ctrl-C and SIGTERM end a command in one line: which signal arrived, whoever handled it.

Dagster takes SIGINT and SIGTERM over while it runs a job (a step then fails as interrupted, and the job
returns); the wakeup file descriptor still hears every signal, so the command learns that it was
interrupted, and by which, wherever the signal fell.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

INTERRUPTED = "interrupted: nothing half-loaded; the next run takes up from here"
_heard: set[int] = set()
_wakeup: list[int] = []  # the read end of the pipe, while `listening`


@contextmanager
def listening() -> Iterator[None]:
    """Note every signal that arrives, and make SIGTERM end the command as Ctrl-C does (main thread only)."""
    _heard.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    _wakeup.append(read)
    try:
        yield
    finally:
        _wakeup.remove(read)
        signal.signal(signal.SIGTERM, term)
        signal.set_wakeup_fd(previous)
        heard()
        os.close(read)
        os.close(write)


def heard() -> set[int]:
    """The signals that arrived while listening (SIGINT, SIGTERM, ...)."""
    for read in _wakeup:
        try:
            while chunk := os.read(read, 512):
                _heard.update(chunk)
        except BlockingIOError:
            pass
    return _heard & {signal.SIGINT, signal.SIGTERM}


def stop_if_interrupted() -> None:
    """Raise KeyboardInterrupt when SIGINT or SIGTERM arrived, even if Dagster took it (between two jobs)."""
    if heard():
        raise KeyboardInterrupt


def exit_status() -> int:
    """128 + the signal: 143 for SIGTERM, else 130 (Ctrl-C)."""
    return 128 + (signal.SIGTERM if signal.SIGTERM in heard() else signal.SIGINT)
