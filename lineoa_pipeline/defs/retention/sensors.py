"""The retention sensor: each alert once per subject and level, to the log, alerts.jsonl and the webhook."""

import json
import os
from datetime import UTC, datetime

import dagster as dg

from lineoa_pipeline.alerts import WEBHOOK_ENV, deliver, raise_new
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.retention.jobs import retention_job
from lineoa_pipeline.retention import current_alerts, latest_ingest
from lineoa_pipeline.warehouse import NoWarehouseYet, connect


@dg.sensor(
    job=retention_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Raises every month or media placeholder that became at risk or lost: once per subject and level in "
        "alerts.jsonl and the log, to LINEOA_ALERT_WEBHOOK when set (retried on the next tick if the hook is "
        "down), and as a retention_job run whose checks show it in the UI. Reads the readers' snapshot."
    ),
)
def retention_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    now = datetime.now(UTC)
    previous = json.loads(context.cursor) if context.cursor else {}
    # Placeholders lost since the last check, and those of exports ingested after the latest one that check
    # saw (not after its time: a run stages exports before it publishes them). Without that mark (first
    # check, or an older cursor) every lost one is listed, and raise_new drops those already raised.
    ingested_after = datetime.fromisoformat(previous["ingested_through"]) if previous.get("ingested_through") else None
    lost_since = datetime.fromisoformat(previous["checked_at"]) if ingested_after else None
    location = warehouse.location
    try:
        conn = connect(location.root)
    except NoWarehouseYet:
        return dg.SensorResult(skip_reason="no warehouse published yet")
    settings = warehouse.settings()
    try:
        ingested_through = latest_ingest(conn)  # of the same snapshot as the alerts
        alerts = current_alerts(conn, settings, now, lost_since=lost_since, ingested_after=ingested_after)
    finally:
        conn.close()
    new = raise_new(location.alerts, alerts, now, context.log.warning)
    for record in new:
        context.log.warning(f"retention alert ({record['level']}): {record['message']}")
    delivered, problem = deliver(
        location.webhook_outbox,
        new,
        os.environ.get(WEBHOOK_ENV),
        masked=settings.alert_names == "masked",
        log=context.log.warning,
    )
    if problem:
        context.log.warning(f"alert webhook refused delivery ({problem}); retrying on the next tick")
    elif delivered:
        context.log.info(f"alert webhook accepted {delivered} alert(s)")
    cursor = json.dumps(
        {"checked_at": now.isoformat(), "ingested_through": ingested_through and ingested_through.isoformat()}
    )
    if not new:
        return dg.SensorResult(skip_reason="no new retention alert", cursor=cursor)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"alerts-{now.isoformat()}", tags={"lineoa/new_alerts": str(len(new))})],
        cursor=cursor,
    )
