"""New inbox files start an ingest run; a staged_files materialisation starts one run for its stale months."""

import hashlib
import json

import dagster as dg

from lineoa_pipeline.defs.ingest.jobs import AFTER_MONTHS, ingest_job, months_job
from lineoa_pipeline.defs.partitions import partition_keys_of, range_tags
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.exports.discover import walk_inbox


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts `ingest_job` when a file in the inbox is added, replaced or touched.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    inbox = warehouse.location.inbox
    listing = [(f.relative, f.bytes, f.mtime_ns) for f in walk_inbox(inbox)] if inbox.exists() else []
    fingerprint = hashlib.sha256(json.dumps(listing).encode()).hexdigest()
    if not listing or fingerprint == context.cursor:
        return dg.SensorResult(skip_reason="no new or changed inbox files", cursor=fingerprint)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=fingerprint, tags={"lineoa/inbox_files": str(len(listing))})],
        cursor=fingerprint,
    )


@dg.asset_sensor(
    asset_key=dg.AssetKey("staged_files"),
    job=months_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each staging, one `months_job` run over the range of months it made stale.",
)
def stale_months_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry) -> dg.RunRequest:
    materialization = asset_event.asset_materialization
    stale = materialization.metadata["stale_months"].value if materialization else []
    keys = partition_keys_of(stale)  # type: ignore[arg-type]
    run_key = f"staged-{asset_event.run_id}"  # one staged_files materialisation a run
    if not keys:
        return dg.RunRequest(run_key=run_key, asset_selection=AFTER_MONTHS)
    return dg.RunRequest(run_key=run_key, tags=range_tags(keys))


automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.assets("warehouse_snapshot"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Publishes a fresh readers' snapshot after anything it copies is materialised from the UI.",
)
