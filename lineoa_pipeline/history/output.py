"""Where exports and transcripts are written: every file through `write_file`, private folders, the saved
media copied beside the pages, and an export's folder replaced whole.

Chat history is personal data: folders 0700, files 0600, whatever the umask.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import duckdb

from lineoa_pipeline.settings.files import replacing
from lineoa_pipeline.settings.language import N_, Told

MARKER = ".lineoa-export"  # in every export's folder: what `--out` may replace
MEDIA = "media"  # the saved files of a plain export, beside its pages
_CHUNK = 1 << 20


class OutNotAnExport(Told, ValueError):
    """`--out` names something other than an empty folder or an earlier export: it is never replaced."""


def private_folder(folder: Path) -> None:
    """`folder` and the parents it needs, created 0700."""
    if not folder.is_dir():
        private_folder(folder.parent)
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)


def write_file(path: Path, data: str | bytes | Iterable[bytes]) -> None:
    """Write beside, then rename (`replacing`: a new file opened without following links, 0600): a browser
    open on the page never reads half of it, and a link planted at the path is replaced, never followed."""
    private_folder(path.parent)
    with replacing(path) as stream:
        if isinstance(data, str):
            data = data.encode("utf-8")
        for chunk in [data] if isinstance(data, bytes) else data:
            stream.write(chunk)


def _is_export(folder: Path) -> bool:
    return (folder / MARKER).is_file() and not (folder / MARKER).is_symlink()


@contextmanager
def export_folder(out: Path, fmt: str, masked: bool) -> Iterator[Path]:
    """A new folder to write an export into; when the block ends, it replaces `out` whole (an earlier
    export is never mixed with a new one). `out` must be missing, an empty folder, or an earlier export."""
    out = out.resolve()
    if out.exists() and not (out.is_dir() and (_is_export(out) or not any(out.iterdir()))):
        raise OutNotAnExport(
            N_("--out {folder} is not empty and holds no earlier export ({marker}): choose another folder"),
            folder=str(out),
            marker=MARKER,
        )
    private_folder(out.parent)
    for stale in out.parent.glob(f".{out.name}.lineoa-*"):  # an export killed half-way, or its predecessor
        if stale.is_dir() and not stale.is_symlink() and _is_export(stale):
            shutil.rmtree(stale)
    new = out.parent / f".{out.name}.lineoa-new-{uuid.uuid4().hex[:8]}"
    new.mkdir(mode=0o700)
    try:
        write_file(new / MARKER, json.dumps({"program": "lineoa export", "format": fmt, "masked": masked}) + "\n")
        yield new
        if out.exists() and any(out.iterdir()):
            old = out.parent / f".{out.name}.lineoa-old-{uuid.uuid4().hex[:8]}"
            os.rename(out, old)
            os.rename(new, out)
            shutil.rmtree(old)
        else:
            os.replace(new, out)
    finally:
        if new.exists():
            shutil.rmtree(new)


def copy_media(conn: duckdb.DuckDBPyConnection, media_root: Path, folder: Path) -> int:
    """Copy every saved file `history_messages` links into `folder/media/` under its own relative path, so
    the pages' relative links hold wherever the folder goes; returns the files copied. A path that would
    leave `media/`, or a file that is now a link or not a regular file, is not copied."""
    root = media_root.resolve()
    copied = 0
    files = conn.execute("SELECT DISTINCT media_file FROM history_messages WHERE media_file IS NOT NULL ORDER BY 1")
    for (name,) in files.fetchall():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            continue
        source = media_root.joinpath(*relative.parts)
        if not source.parent.resolve().is_relative_to(root):
            continue
        try:
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a pipe never blocks
        except OSError:
            continue
        with os.fdopen(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            write_file(folder.joinpath(MEDIA, *relative.parts), iter(lambda s=stream: s.read(_CHUNK), b""))
        copied += 1
    return copied
