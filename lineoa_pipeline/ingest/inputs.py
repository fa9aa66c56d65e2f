"""Opening a data directory's input files (inbox entries, tag files, manifests) without being led out of it:
a link to a file outside the data directory is refused, and a pipe or a device is never read."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class Refused(OSError):
    """An input this pipeline will not read; the message says why, for a person."""


def inspect(path: Path, root: Path) -> os.stat_result:
    """The status of `path` when it is (or links to) a regular file inside `root`; else Refused, or the
    system's error (a dangling link)."""
    return inspect_real(os.path.realpath(path), os.path.realpath(root))


def inspect_real(real: str, real_root: str) -> os.stat_result:
    """`inspect` of a path already resolved (`os.path.realpath`), against the resolved `root`."""
    if not real.startswith(real_root + os.sep):
        raise Refused("a link to a file outside the data directory: not read")
    status = os.stat(real)
    if not stat.S_ISREG(status.st_mode):  # checked before opening: opening a device can act on it
        raise Refused("not a regular file (a pipe or a device): not read")
    return status


def open_inside(path: Path, root: Path) -> BinaryIO:
    """`path` opened for reading, when it is (or links to) a regular file inside `root`."""
    inspect(path, root)
    # the resolved path, not followed again, and never waiting for a pipe's writer (if one took its place)
    fd = os.open(os.path.realpath(path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused("not a regular file (a pipe or a device): not read")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_inside(path: Path, root: Path) -> bytes:
    with open_inside(path, root) as src:
        return src.read()


def why_unreadable(exc: OSError) -> str:
    """An input's read error in words: the refusal's own, else the system's."""
    return str(exc) if isinstance(exc, Refused) else f"could not be read: {exc.strerror or exc}"
