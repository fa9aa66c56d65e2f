"""A whole run through the Dagster definitions the UI shows: ingest, then the stale months in one run."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from lineoa_pipeline.archive import register_archive, write_atomically
from lineoa_pipeline.batches import IngestCounts
from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.defs.ingest.jobs import AFTER_MONTHS
from lineoa_pipeline.defs.partitions import monthly_partitions, partition_keys_of, range_tags
from lineoa_pipeline.warehouse import write_connection, writer_lock

INFO_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class RunSummary(IngestCounts):
    """The counts a run ends with."""

    ok: bool = True
    months_written: list[str] = field(default_factory=list)
    months_outside: list[str] = field(default_factory=list)  # months with messages but no partition

    def __str__(self) -> str:
        months = (
            ", ".join(self.months_written)
            if len(self.months_written) <= 6
            else (f"{self.months_written[0]} .. {self.months_written[-1]}")
        )
        return (
            f"{'done' if self.ok else 'FAILED'}: files loaded {self.files_loaded}, already seen {self.files_seen}, "
            f"quarantined {self.files_quarantined}; messages new {self.messages_new}, "
            f"duplicate {self.duplicates}; rows rejected {self.rejected}; "
            f"months written {len(self.months_written)}{' (' + months + ')' if months else ''}"
            + (
                f"; {len(self.months_outside)} months outside the monthly partitions (from "
                f"{self.months_outside[0][:7]}): set first_month in lineoa.toml to include them"
                if self.months_outside
                else ""
            )
        )


def run_pipeline(data_dir: DataDir, instance: dg.DagsterInstance | None = None) -> RunSummary:
    """Take the inbox in and rewrite every month it touched: one run to ingest, one for the month range."""
    from lineoa_pipeline.definitions import defs

    definitions = defs()
    # The data directory reaches the resource as run config: resources passed to execute_in_process conflict
    # with the definitions' own when a run selects a subset of the job's assets.
    run_config = {**INFO_LOGS, "resources": {"warehouse": {"config": {"data_dir": str(data_dir.root)}}}}
    data_dir.create()
    summary = RunSummary()
    with writer_lock(data_dir, on_wait=print), _instance(instance) as inst:
        side_inputs = side_inputs_hash(data_dir)  # before anything reads them: a change during the run counts
        ingest = definitions.resolve_job_def("ingest_job").execute_in_process(
            instance=inst, run_config=run_config, raise_on_error=False
        )
        summary.ok = ingest.success
        if not ingest.success:
            return summary
        staged = _metadata(ingest, "staged_files")
        for counted in fields(IngestCounts):
            setattr(summary, counted.name, int(staged.get(counted.name, 0)))
        # a file whose bytes were an input already is not staged again: the archive step counts it
        summary.files_seen += int(_metadata(ingest, "archived_inputs").get("already_seen_inputs", 0))
        summary.months_outside = list(staged.get("months_outside_partitions", []))
        keys = partition_keys_of(staged.get("stale_months", []))
        months = definitions.resolve_job_def("months_job")
        if keys:
            result = months.execute_in_process(
                instance=inst, run_config=run_config, tags=range_tags(keys), raise_on_error=False
            )
            summary.months_written = [
                k[:7] for k in monthly_partitions.get_partition_keys() if keys[0] <= k <= keys[-1]
            ]
        elif (
            summary.files_loaded
            or summary.files_quarantined
            or not data_dir.snapshot.exists()
            or _published_side_inputs(data_dir) != side_inputs
        ):
            result = months.execute_in_process(
                instance=inst, run_config=run_config, asset_selection=AFTER_MONTHS, raise_on_error=False
            )
        else:
            print("nothing new since the last run: the warehouse and its snapshot are current")
            return summary
        summary.ok = result.success
        if summary.ok:
            write_atomically(data_dir.side_inputs_mark, side_inputs.encode())
    return summary


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


def _published_side_inputs(data_dir: DataDir) -> str | None:
    try:
        return data_dir.side_inputs_mark.read_text(encoding="utf-8")
    except OSError:
        return None


class RebuildError(Exception):
    """A rebuild that cannot start; the warehouse is left as it was."""


class WarehouseBusy(Exception):
    """Another program (not a run of this pipeline) has the warehouse file open."""


def ensure_not_held(data_dir: DataDir) -> None:
    """Raise WarehouseBusy, in one line, when a program outside the pipeline holds the warehouse (a database
    tool or a notebook that opened `warehouse.duckdb` itself): a run would fail on DuckDB's lock."""
    if not data_dir.warehouse.is_file():
        return
    with writer_lock(data_dir, on_wait=print):  # a run of ours holding it is waited for, not reported
        try:
            duckdb.connect(data_dir.warehouse).close()
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc):
                return  # a damaged file, say: the run (or rebuild) reports it, or replaces it
            holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(exc))
            who = f" ({holder[1]}, process {holder[2]})" if holder else ""
            raise WarehouseBusy(
                f"another program{who} has {data_dir.warehouse} open, so the run cannot write it: close that "
                "program (notebooks read the snapshot through connect()) and run again"
            ) from None


def rebuild_warehouse(data_dir: DataDir, instance: dg.DagsterInstance | None = None) -> RunSummary:
    """Recreate the warehouse from `archive/` alone, then run as a fresh run would (new inbox files
    included). The old warehouse is kept aside until the new one is published, then deleted; if the run
    fails, it is put back. Raises RebuildError, touching nothing, when the archive holds no input."""
    archive = data_dir.archive
    if not archive.is_dir() or not any(len(p.name) == 64 and "." not in p.name for p in archive.iterdir()):
        raise RebuildError(
            f"nothing to rebuild from: {archive} is missing or holds no archived input; the warehouse is left as it is"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    with writer_lock(data_dir, on_wait=print):
        moved = []
        for path in (data_dir.warehouse, _wal(data_dir)):
            if path.exists():
                aside = path.with_name(f"{path.name}.before-rebuild-{stamp}")  # never over an earlier one
                os.replace(path, aside)
                moved.append((aside, path))
        try:
            with write_connection(data_dir) as conn:
                copies = register_archive(conn, data_dir)
            summary = run_pipeline(data_dir, instance)
        except BaseException:
            _put_back(data_dir, moved)
            raise
        if not summary.ok:
            _put_back(data_dir, moved)
            return summary
        for aside, _ in moved:
            aside.unlink()
        summary.files_seen += copies  # as a fresh run of every name the archive recorded counts them
        return summary


def _put_back(data_dir: DataDir, moved: list[tuple[Path, Path]]) -> None:
    """The warehouse as it was before the rebuild: the new one (and its write-ahead log) gone, the old back."""
    for path in (data_dir.warehouse, _wal(data_dir)):
        path.unlink(missing_ok=True)
    for aside, path in moved:
        os.replace(aside, path)


def _wal(data_dir: DataDir) -> Path:
    return data_dir.warehouse.with_name(data_dir.warehouse.name + ".wal")


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization  # type: ignore[union-attr]
        if mat.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in mat.metadata.items()}
    return {}


@contextmanager
def _instance(given: dg.DagsterInstance | None) -> Iterator[dg.DagsterInstance]:
    """The given instance; else the one at DAGSTER_HOME when set (runs show in the UI); else an ephemeral one."""
    if given:
        yield given
        return
    with dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral() as inst:
        yield inst
