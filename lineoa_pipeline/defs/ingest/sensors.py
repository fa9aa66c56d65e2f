"""New inbox files start an ingest run; a staged_files materialisation starts one run for its stale months."""

import hashlib
import json

import dagster as dg

from lineoa_pipeline.defs.ingest.jobs import STARTED_BY, after_staging, ingest_job, months_job
from lineoa_pipeline.defs.partitions import loaded_months
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.ingest.discover import walk_inbox
from lineoa_pipeline.settings.config import load_settings
from lineoa_pipeline.settings.datadir import DataDir


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
    description=(
        "After each staging in a run it started, one `months_job` run over the range of months the staging "
        "made stale (or of what follows the months, when only files, tags, media or settings changed); none "
        "when nothing changed. A `lineoa run` starts its own."
    ),
)
def stale_months_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry) -> dg.SensorResult:
    run = context.instance.get_run_by_id(asset_event.run_id)
    if run and STARTED_BY.items() <= run.tags.items():
        return dg.SensorResult(skip_reason="a command-line run: the command writes its own months")
    materialization = asset_event.asset_materialization
    staged = {k: v.value for k, v in materialization.metadata.items()} if materialization else {}
    # The data directory the code location serves: a resource parameter of an asset sensor came out empty.
    data_dir = DataDir.resolve()
    months = loaded_months(context.repository_def, data_dir, load_settings(data_dir.settings_file))
    request = after_staging(staged, data_dir, months)
    if request is None:
        return dg.SensorResult(skip_reason="the staging changed nothing")
    # one staged_files materialisation a run
    return dg.SensorResult(run_requests=[request.with_replaced_attrs(run_key=f"staged-{asset_event.run_id}")])


automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.assets("warehouse_snapshot"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Publishes a fresh readers' snapshot after anything it copies is materialised from the UI.",
)
