"""Writing files safely and durably: through a new temporary file opened exclusively without following
links, 0600 whatever the umask, renamed over the target (a link planted there is replaced, never followed);
and the fsync of a folder that makes a rename survive a crash."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PRIVATE_FILE = 0o600
# A new name only (never an existing file, never through a link), and not inherited by a child process.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(target: Path, durable: bool = False) -> Iterator[BinaryIO]:
    """A stream whose bytes replace `target` when the block ends (a reader sees the old file or the new
    one, never half), created 0600; nothing of it is left when the block fails. `durable`: fsync the file
    and its folder."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, _NEW_FILE, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the mode promised, whatever the umask
        with os.fdopen(fd, "wb") as stream:
            yield stream
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(tmp, target)  # a link at `target` is itself replaced
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)


def write_atomically(target: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `target` through `replacing`. `durable=False` leaves the fsync to the caller (one
    `os.sync()` after many files)."""
    with replacing(target, durable) as out:
        out.write(data)
