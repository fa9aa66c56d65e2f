"""The one Dagster instance the command line and the UI share: `DAGSTER_HOME` when set, else `.dagster/` in
the data directory, which holds the project's instance settings (`dagster.yaml`: the write pool)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from lineoa_pipeline.defs.ingest.jobs import STARTED_BY
from lineoa_pipeline.defs.partitions import data_months, partition_keys_of
from lineoa_pipeline.defs.resources import WRITE_POOL
from lineoa_pipeline.settings.config import load_settings
from lineoa_pipeline.settings.datadir import PROJECT_ROOT, DataDir
from lineoa_pipeline.settings.files import write_atomically
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect

INSTANCE_SETTINGS = PROJECT_ROOT / "dagster.yaml"
_UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def instance_home(data_dir: DataDir) -> Path:
    """`DAGSTER_HOME` when set; else `.dagster/` in the data directory, given the project's settings once."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"]).expanduser().resolve()
    home = data_dir.root / ".dagster"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        write_atomically(home / "dagster.yaml", INSTANCE_SETTINGS.read_bytes())
    return home


@contextmanager
def open_instance(data_dir: DataDir) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(instance_home(data_dir))) as instance:
        limit_write_pool(instance, data_dir)
        yield instance


def limit_write_pool(instance: dg.DagsterInstance, data_dir: DataDir) -> int:
    """Set the write pool's limit to the runs that may write at once: a lake's `writers`, or the embedded
    file's one writer (`dagster.yaml`'s default). Returns the limit."""
    lake = load_settings(data_dir.settings_file).warehouse
    limit = lake.writers if lake else 1
    storage = instance.event_log_storage
    if storage.get_concurrency_info(WRITE_POOL).slot_count != limit:
        storage.set_concurrency_slots(WRITE_POOL, limit)
    return limit


def fail_abandoned_runs(instance: dg.DagsterInstance) -> int:
    """Mark failed the command line's runs that never finished (a `lineoa run` killed mid-run).

    Call it under the writer lock: every command holds that lock for as long as its runs last, so a run of
    one still unfinished now belongs to a process that is gone. Left as they are, they would count against
    the write pool and keep the daemon's runs queued for ever.
    """
    records = instance.get_run_records(dg.RunsFilter(statuses=_UNFINISHED, tags=STARTED_BY))
    for record in records:
        instance.report_run_failed(record.dagster_run, "the command that started it ended before the run did")
    return len(records)


def record_months_held(
    instance: dg.DagsterInstance, data_dir: DataDir, months: dg.PartitionsDefinition | None = None
) -> list[str]:
    """Report to the instance, once, each month of `messages` the published warehouse holds that has no
    recorded materialisation (an older data directory, a copy, runs recorded in another instance), so that
    the UI shows it materialised rather than missing. `months`: the partitions (default: the data
    directory's, as the UI will load them). Returns the partition keys reported."""
    try:
        conn = connect(data_dir.root)
    except NoWarehouseYet:
        return []
    try:
        held = conn.execute(
            "SELECT strftime(month, '%Y-%m-01'), count(*) FROM messages GROUP BY 1 ORDER BY 1"
        ).fetchall()
    finally:
        conn.close()
    rows = dict(held)
    recorded = instance.get_materialized_partitions(dg.AssetKey("messages"))
    missing = [
        key
        for key in partition_keys_of(list(rows), months or data_months(data_dir, load_settings(data_dir.settings_file)))
        if key not in recorded
    ]
    for key in missing:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key="messages",
                partition=key,
                description="held by the warehouse, written without a run this instance recorded",
                metadata={"dagster/row_count": dg.MetadataValue.int(rows[key])},
            )
        )
    return missing
