"""The retention sensor: each alert once per subject and level, to the log, alerts.jsonl and the webhook."""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.retention.assets import RetentionConfig
from lineoa_pipeline.defs.retention.jobs import retention_job
from lineoa_pipeline.retention.alerts import WEBHOOK_ENV, deliver, raise_new
from lineoa_pipeline.retention.status import current_alerts, latest_ingest
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect


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
    check = raise_retention_alerts(
        warehouse.location, warehouse.settings(), datetime.now(UTC), context.cursor, context.log.warning
    )
    if check is None:
        return dg.SensorResult(skip_reason="no warehouse published yet")
    for record in check.new:
        context.log.warning(f"retention alert ({record['level']}): {record['message']}")
    if check.problem:
        context.log.warning(f"alert webhook refused delivery ({check.problem}); retrying on the next tick")
    elif check.delivered:
        context.log.info(f"alert webhook accepted {check.delivered} alert(s)")
    if not check.new:
        return dg.SensorResult(skip_reason="no new retention alert", cursor=check.cursor)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"alerts-{check.checked_at.isoformat()}",
                run_config=RetentionConfig.run_config(check.checked_at),  # its checks show what was raised
                tags={"lineoa/new_alerts": str(len(check.new))},
            )
        ],
        cursor=check.cursor,
    )


@dataclass(frozen=True)
class AlertCheck:
    """What one check raised: the new alerts' records, what the webhook took, and the cursor for the next."""

    checked_at: datetime
    new: list[dict[str, Any]]
    delivered: int
    problem: str | None
    cursor: str


def raise_retention_alerts(
    location: DataDir, settings: Settings, now: datetime, cursor: str | None, log: Callable[[str], None] = print
) -> AlertCheck | None:
    """Raise the alerts of the published warehouse not raised before (alerts.jsonl, then the webhook when
    LINEOA_ALERT_WEBHOOK is set): the retention sensor and `lineoa run` both call this. None before any
    warehouse is published."""
    previous = json.loads(cursor) if cursor else {}
    # Placeholders lost since the last check, and those of exports ingested after the latest one that check
    # saw (not after its time: a run stages exports before it publishes them). Without that mark (first
    # check, a command-line run, or an older cursor) every lost one is listed, and raise_new drops those
    # already raised.
    ingested_after = datetime.fromisoformat(previous["ingested_through"]) if previous.get("ingested_through") else None
    lost_since = datetime.fromisoformat(previous["checked_at"]) if ingested_after else None
    try:
        conn = connect(location.root)
    except NoWarehouseYet:
        return None
    try:
        ingested_through = latest_ingest(conn)  # of the same snapshot as the alerts
        alerts = current_alerts(conn, settings, now, lost_since=lost_since, ingested_after=ingested_after)
    finally:
        conn.close()
    new = raise_new(location.alerts, alerts, now, log)
    delivered, problem = deliver(
        location.webhook_outbox, new, os.environ.get(WEBHOOK_ENV), masked=settings.alert_names == "masked", log=log
    )
    next_cursor = json.dumps(
        {"checked_at": now.isoformat(), "ingested_through": ingested_through and ingested_through.isoformat()}
    )
    return AlertCheck(now, new, delivered, problem, next_cursor)
