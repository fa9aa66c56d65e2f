"""A whole run through the Dagster definitions the UI shows: ingest, then the stale months in one run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import dagster as dg

from lineoa_pipeline.archive import register_archive
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
            f"months written {len(self.months_written)}{' (' + months + ')' if months else ''}; "
            f"files unchanged {self.files_unchanged} (not parsed)"
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
        elif summary.files_loaded or summary.files_quarantined or _side_inputs_changed(data_dir):
            result = months.execute_in_process(
                instance=inst, run_config=run_config, asset_selection=AFTER_MONTHS, raise_on_error=False
            )
        else:
            print("nothing new since the last run: the warehouse and its snapshot are current")
            return summary
        summary.ok = result.success
    return summary


def _side_inputs_changed(data_dir: DataDir) -> bool:
    """Whether tags, media or settings changed after the snapshot was published (a stat of each, no reading):
    with no new export either, a run has nothing to refresh and stops after the ingest run."""
    if not data_dir.snapshot.exists():
        return True
    published = data_dir.snapshot.stat().st_mtime_ns
    paths = [data_dir.settings_file]
    for folder in (data_dir.tags, data_dir.media):
        for parent, _, names in os.walk(folder):
            paths += [Path(parent), *(Path(parent, name) for name in names)]
    return any(path.exists() and path.stat().st_mtime_ns > published for path in paths)


def rebuild_warehouse(data_dir: DataDir, instance: dg.DagsterInstance | None = None) -> RunSummary:
    """Recreate the warehouse from `archive/` alone, then run as a fresh run would."""
    with writer_lock(data_dir, on_wait=print):
        for path in (data_dir.warehouse, data_dir.warehouse.with_name(data_dir.warehouse.name + ".wal")):
            if path.exists():
                shutil.move(path, path.with_name(path.name + ".before-rebuild"))
        with write_connection(data_dir) as conn:
            copies = register_archive(conn, data_dir)
        summary = run_pipeline(data_dir, instance)
        summary.files_seen += copies  # as a fresh run of every name the archive recorded counts them
        return summary


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
