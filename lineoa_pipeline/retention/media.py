"""Saving a photo, video, voice message or file: which placeholder a file is, and recording it.

The file is copied into `media/<account>/<chat>/` and listed, with its SHA-256 and size, in the pipeline's own
manifest `media/lineoa-manifest.csv`; the next run verifies it and marks the placeholder `saved`. Pure domain
code: the command line says what happened in its own words (`SaveRefused.reason` names the case).
"""

from __future__ import annotations

import csv
import hashlib
import io
import mimetypes
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lineoa_pipeline.retention.status import MediaStatus
from lineoa_pipeline.settings.datadir import MANIFEST_COLUMNS, DataDir
from lineoa_pipeline.settings.files import fsync_dir, write_atomically

MANIFEST_NAME = "lineoa-manifest.csv"
_MIME_KINDS = {"image": "photo", "video": "video", "audio": "voice"}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')  # not in a folder or file name on any system


@dataclass
class SaveRefused(Exception):
    """Why a file cannot be saved as a placeholder: `reason` is `none`, `several`, `index`, `saved` or
    `earlier`; `candidates` the placeholders at that time, `index` the 1-based one it concerns."""

    reason: str
    candidates: list[MediaStatus] = field(default_factory=list)
    index: int | None = None


def kind_of(file_name: str) -> str:
    """The placeholder kind a file looks like by its name: an image a photo, a video, audio a voice
    message, anything else a file."""
    mime = mimetypes.guess_type(file_name)[0] or ""
    return _MIME_KINDS.get(mime.split("/")[0], "file")


def choose(candidates: list[MediaStatus], file_name: str, index: int | None) -> MediaStatus:
    """The placeholder a file is, among those of its chat at the given time (in message order): when they
    are of several kinds, those of the file's kind; then the only one, or the `index`-th (1-based).

    Within one second, files pair with placeholders in order (the manifest rule), so the n-th of a second is
    refused while an earlier one of that second is not saved."""
    if not candidates:
        raise SaveRefused("none")
    if len({c.kind for c in candidates}) > 1:
        candidates = [c for c in candidates if c.kind == kind_of(file_name)] or candidates
    if index is None and len(candidates) > 1:
        raise SaveRefused("several", candidates)
    if index is not None and not 1 <= index <= len(candidates):
        raise SaveRefused("index", candidates, index)
    chosen = candidates[(index or 1) - 1]
    if chosen.status == "saved":
        raise SaveRefused("saved", candidates, index or 1)
    for n, other in enumerate(candidates, start=1):
        if other is chosen:
            break
        if other.kind == chosen.kind and other.sent_at == chosen.sent_at and other.status != "saved":
            raise SaveRefused("earlier", candidates, n)
    return chosen


def save(data_dir: DataDir, source: Path, placeholder: MediaStatus) -> Path:
    """Copy `source` into `media/<account>/<chat>/` (a new name if one there differs) and add its row to
    the pipeline's manifest. Returns the copy's path."""
    folder = data_dir.media / _safe(placeholder.account_name) / _safe(placeholder.chat_name)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(source, "rb") as f:
        sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    target = _free_name(folder, _safe(source.name), sha256)
    if not target.exists():
        scratch = target.with_name(f".{target.name}.part")
        shutil.copyfile(source, scratch)
        with open(scratch, "rb+") as out:
            os.fsync(out.fileno())
        os.replace(scratch, target)
        fsync_dir(folder)
    row: dict[str, Any] = {
        "account_name": placeholder.account_name,
        "chat_name": placeholder.chat_name,
        "sent_at": placeholder.sent_at.isoformat(),
        "kind": placeholder.kind,
        "file": target.relative_to(data_dir.media).as_posix(),
        "sha256": sha256,
        "bytes": target.stat().st_size,
    }
    _append_row(data_dir.media / MANIFEST_NAME, row)
    return target


def _safe(name: str) -> str:
    """A name usable as one folder or file name: no separator, control character or leading dot."""
    return _UNSAFE.sub("_", name).lstrip(".") or "_"


def _free_name(folder: Path, name: str, sha256: str) -> Path:
    """`name` in `folder`, or the same file already there, or `stem (2).ext` and so on."""
    candidate, n = folder / name, 1
    while candidate.exists():
        with open(candidate, "rb") as f:
            if hashlib.file_digest(f, "sha256").hexdigest() == sha256:
                return candidate
        n += 1
        candidate = folder / f"{Path(name).stem} ({n}){Path(name).suffix}"
    return candidate


def _append_row(manifest: Path, row: dict[str, Any]) -> None:
    """The manifest with one more row, written atomically (a header first when it is new)."""
    before = manifest.read_bytes() if manifest.exists() else b""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    if not before:
        writer.writeheader()
    writer.writerow(row)
    write_atomically(manifest, before + text.getvalue().encode("utf-8"))
