"""The archive: every input kept byte for byte under its SHA-256, with the paths it arrived under."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

CHUNK = 1 << 20
FSYNC_AT_MOST = 64  # files made durable one by one; more: one os.sync()


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


class Archive:
    """`archive/<sha256>` holds the bytes; `archive/<sha256>.paths` the inbox paths, one a line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_of(self, sha256: str) -> Path:
        return self.folder / sha256

    def put(self, source: Path, durable: bool = True) -> tuple[str, int]:
        """Copy `source` in (hashing as it streams); return its SHA-256 and size. Already there: no copy.
        `durable=False` leaves the fsync to the caller (one `os.sync()` after many files)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".incoming.{uuid.uuid4().hex}.tmp"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(source, "rb") as src, open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_of(sha)
            if target.exists() and target.stat().st_size == size:
                tmp.unlink()
            else:  # absent, or a leftover of unknown provenance: the verified copy replaces it
                os.replace(tmp, target)
                if durable:
                    fsync_dir(self.folder)
        finally:
            tmp.unlink(missing_ok=True)
        return sha, size

    def make_durable(self, shas: list[str]) -> None:
        """Put the bytes and sidecars of entries written with `durable=False` on disk: a few fsyncs for a
        few files, else one `os.sync()` (thousands of fsyncs cost a disk seconds; one sync flushes them all)."""
        if len(shas) > FSYNC_AT_MOST:
            os.sync()
            return
        for sha in dict.fromkeys(shas):
            for path in (self.path_of(sha), self.folder / f"{sha}.paths"):
                with open(path, "rb") as written:
                    os.fsync(written.fileno())
        fsync_dir(self.folder)

    def discard_partial(self) -> int:
        """Delete the temporary copies a killed run left behind (never trusted, never needed); call this only
        while holding the writer lock, when no copy can be in progress. Returns how many there were."""
        leftovers = list(self.folder.glob(".*.tmp")) if self.folder.exists() else []
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)

    def record_path(self, sha256: str, inbox_path: str, durable: bool = True) -> bool:
        """Add `inbox_path` to the names these bytes arrived under; False if it was there already."""
        sidecar = self.folder / f"{sha256}.paths"
        known = self.paths(sha256)
        if inbox_path in known:
            return False
        write_atomically(sidecar, "".join(p + "\n" for p in [*known, inbox_path]).encode("utf-8"), durable)
        return True

    def paths(self, sha256: str) -> list[str]:
        sidecar = self.folder / f"{sha256}.paths"
        return sidecar.read_text(encoding="utf-8").splitlines() if sidecar.exists() else []

    def entries(self) -> list[str]:
        """Every archived SHA-256 whose bytes verify (a half-written or altered file is never trusted)."""
        out = []
        for path in sorted(self.folder.iterdir()):
            if len(path.name) == 64 and "." not in path.name and sha256_of(path) == path.name:
                out.append(path.name)
        return out


def sha256_of(path: Path) -> str:
    with open(path, "rb") as src:
        return hashlib.file_digest(src, "sha256").hexdigest()
