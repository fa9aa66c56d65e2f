"""The retention sensor: each alert once per subject and level in alerts.jsonl, and one digest per check to
the log and each push channel (webhook, LINE, e-mail)."""

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.retention.jobs import RetentionConfig, retention_job
from lineoa_pipeline.retention.alerts import deliver, raise_new
from lineoa_pipeline.retention.channels import push_channels
from lineoa_pipeline.retention.digest import AccountDigest, compose, terminal_lines
from lineoa_pipeline.retention.status import latest_ingest
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import Language, operator_language
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect


@dg.sensor(
    job=retention_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Raises every month or media placeholder that became at risk or lost: once per subject and level in "
        "alerts.jsonl; one digest per account and level to the log and to each push channel set (the "
        "LINEOA_ALERT_WEBHOOK webhook, LINE, e-mail; a channel that refuses gets it again on the next tick), "
        "and a retention_job run whose checks show it in the UI. Reads the readers' snapshot."
    ),
)
def retention_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    check = raise_retention_alerts(
        warehouse.location, warehouse.settings(), datetime.now(UTC), context.cursor, context.log.warning
    )
    if check is None:
        return dg.SensorResult(skip_reason="no warehouse published yet")
    log_check(check, context.log)
    if not check.new:
        return dg.SensorResult(skip_reason="no new retention alert", cursor=check.cursor)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"alerts-{check.checked_at.isoformat()}",
                run_config=RetentionConfig.run_config(check.checked_at),  # its checks show what was raised
                tags={"lineoa/new_alerts": str(check.new)},
            )
        ],
        cursor=check.cursor,
    )


@dataclass(frozen=True)
class Delivery:
    """What one push channel did with its outbox: alerts accepted, or why not (no secret in it)."""

    label: str
    delivered: int
    problem: str | None


@dataclass(frozen=True)
class AlertCheck:
    """What one check raised: how many new alerts and their digest, what each channel took, and the cursor
    for the next check."""

    checked_at: datetime
    new: int
    digest: list[AccountDigest]
    deliveries: list[Delivery]
    cursor: str
    lang: Language  # the operator's: what the digest's lines are written in

    def lines(self) -> list[str]:
        """The digest as the terminal and the log show it: a line per account and level."""
        return terminal_lines(self.digest, self.lang)

    def problems(self) -> list[str]:
        """One line per channel that refused: it is sent again at the next check."""
        return [
            f"{d.label} refused delivery ({d.problem}): the next run or check sends it again"
            for d in self.deliveries
            if d.problem
        ]


def log_check(check: AlertCheck, log: logging.Logger) -> None:
    """The digest of a check in a Dagster log: a warning per account and level, and each channel's outcome."""
    for line in check.lines():
        log.warning(line)
    for problem in check.problems():
        log.warning(problem)
    for delivery in check.deliveries:
        if delivery.delivered:
            log.info(f"{delivery.label} accepted {delivery.delivered} alert(s)")


def raise_retention_alerts(
    location: DataDir, settings: Settings, now: datetime, cursor: str | None, log: Callable[[str], None] = print
) -> AlertCheck | None:
    """Raise the alerts of the published warehouse not raised before (alerts.jsonl), then send each push
    channel one digest of them and of what waits in its outbox: the retention sensor, the retention asset
    and `lineoa run` all call this. None before any warehouse is published."""
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
    # The new alerts' lines go to a file of their own first: appended to alerts.jsonl and each outbox as
    # bytes, and counted for the digest by DuckDB; none becomes a Python object.
    with tempfile.TemporaryDirectory(prefix=".alerts-", dir=location.root) as scratch:
        fresh = Path(scratch) / "new.jsonl"
        try:
            ingested_through = latest_ingest(conn)  # of the same snapshot as the alerts
            new = raise_new(conn, settings, now, location.alerts, fresh, lost_since, ingested_after, log)
        finally:
            conn.close()
        digest = compose(fresh) if new else []
        deliveries = [
            Delivery(channel.label, *deliver(location.outbox(channel.key), fresh if new else None, channel, log))
            for channel in push_channels(settings, os.environ)
        ]
    next_cursor = json.dumps(
        {"checked_at": now.isoformat(), "ingested_through": ingested_through and ingested_through.isoformat()}
    )
    return AlertCheck(now, new, digest, deliveries, next_cursor, operator_language(settings.language))
