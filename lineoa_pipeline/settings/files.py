"""Writing files durably: an atomic replace, and the fsync of a folder that makes a rename survive a crash."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `target` so that a reader (or a crash) sees the old file or the new one, never half.
    `durable=False` leaves the fsync to the caller (one `os.sync()` after many files)."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        if durable:
            out.flush()
            os.fsync(out.fileno())
    os.replace(tmp, target)
    if durable:
        fsync_dir(target.parent)
