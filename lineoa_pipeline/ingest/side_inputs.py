"""What a run reads besides exports (settings, tags, media), as one hash: a change is seen by content."""

from __future__ import annotations

import hashlib
import os

import duckdb

from lineoa_pipeline.settings.datadir import DataDir


def side_inputs_hash(data_dir: DataDir) -> str:
    """One hash of what a run reads besides exports: `lineoa.toml`, the tag CSVs and the media manifests by
    content, every other file under `media/` by name, size and change time (ctime, which no copy can set
    back: `cp -p` and `rsync -a` restore mtime, not ctime), so that a photo is not read on every run."""
    digest = hashlib.sha256()
    for folder in (data_dir.tags, data_dir.media):
        for parent, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(parent, name)
                digest.update(os.path.relpath(path, data_dir.root).encode("utf-8", "surrogateescape") + b"\0")
                try:
                    if folder == data_dir.tags or "manifest" in name.lower():
                        with open(path, "rb") as src:
                            digest.update(hashlib.file_digest(src, "sha256").digest())
                    else:
                        info = os.stat(path)
                        digest.update(f"{info.st_size} {info.st_mtime_ns} {info.st_ctime_ns}".encode())
                except OSError as exc:  # unreadable now: a run says why; the hash differs once it is readable
                    digest.update(f"unreadable {exc.errno}".encode())
    try:
        digest.update(b"settings\0" + data_dir.settings_file.read_bytes())
    except OSError:
        digest.update(b"no settings")
    return digest.hexdigest()


def published_side_inputs(data_dir: DataDir) -> str | None:
    """The hash the published warehouse's views were built with (None before any, or from an older version)."""
    from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect

    try:
        conn = connect(data_dir.root)
    except NoWarehouseYet:
        return None
    try:
        row = conn.execute("SELECT hash FROM _side_inputs").fetchone()
    except duckdb.CatalogException:  # a warehouse built before the hash was kept
        return None
    finally:
        conn.close()
    return row[0] if row else None
