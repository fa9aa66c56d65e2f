"""Retention: what each month's bulk backups cover, and what LINE is about to delete."""

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

import dagster as dg

from lineoa_pipeline.defs.ingest.jobs import STARTED_BY
from lineoa_pipeline.defs.metadata import preview_table
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.defs.retention.jobs import RetentionConfig
from lineoa_pipeline.defs.retention.sensors import log_check, raise_retention_alerts
from lineoa_pipeline.retention.status import SOONEST_AT_RISK, StatusReport, compute_status

STARTED_BY_TAG = next(iter(STARTED_BY))

MONTHS_CHECK = "months_not_at_risk"
MEDIA_CHECK = "media_not_at_risk"
_SEVERITY = {"at_risk": dg.AssetCheckSeverity.WARN, "lost": dg.AssetCheckSeverity.ERROR}


@dg.asset(
    deps=["messages", "media_files", "bulk_backups"],
    group_name="retention",
    kinds={"duckdb", "python"},
    pool=WRITE_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            MONTHS_CHECK,
            asset="retention_status",
            description="WARN while a month not fully covered by a bulk backup is at risk, ERROR once lost.",
        ),
        dg.AssetCheckSpec(
            MEDIA_CHECK,
            asset="retention_status",
            description="WARN while an unsaved photo, video, voice message or file is at risk, ERROR once lost.",
        ),
    ],
)
def retention_status(
    context: dg.AssetExecutionContext, config: RetentionConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Coverage and alert of every month of every account (from its bulk backups), and the status of every
    media placeholder, as of the run's `as_of` (the schedule's tick, the sensor's check; else now): the same
    report as `lineoa status`. A run the daemon started (the daily schedule's, a sensor's) then raises what is
    new, as the retention sensor does: its digest goes to the run log and each push channel once. A command's
    run leaves that to the command, which prints it."""
    now = config.moment()
    settings = warehouse.settings()
    with warehouse.write(context.log) as conn:
        report = compute_status(conn, settings, now)
    metadata = _metadata(report)
    if context.run.tags.get(STARTED_BY_TAG) != STARTED_BY[STARTED_BY_TAG]:
        check = raise_retention_alerts(warehouse.location, settings, now, None, context.log.warning)
        if check is not None:
            log_check(check, context.log)
            metadata["new_alerts"] = dg.MetadataValue.md("\n".join(f"- {line}" for line in check.lines()) or "none")
    yield dg.MaterializeResult(metadata=metadata)
    yield _months_check(report)
    yield _media_check(report)


def _metadata(report: StatusReport) -> dict[str, dg.MetadataValue]:
    rows = []
    for account in report.accounts:
        months = [m for m in report.months if m.account_name == account.account_name]
        media = report.media_counts.get(account.account_name, {})
        rows.append(
            (
                account.account_name,
                _when(account.last_bulk_backup_at),
                _when(account.next_backup_due_by),
                sum(m.alert == "at_risk" for m in months),
                sum(m.alert == "lost" for m in months),
                media.get("at_risk", 0),
                media.get("lost", 0),
            )
        )
    columns = [
        "account",
        "last bulk backup",
        "next backup due by",
        "months at risk",
        "months lost",
        "media at risk",
        "media lost",
    ]
    return {
        "as_of": dg.MetadataValue.text(report.as_of.isoformat()),
        "accounts": dg.MetadataValue.int(len(report.accounts)),
        "summary": preview_table(rows, columns),
    }


def _months_check(report: StatusReport) -> dg.AssetCheckResult:
    bad = [m for m in report.months if m.alert != "ok"]
    worst = "lost" if any(m.alert == "lost" for m in bad) else "at_risk"
    return dg.AssetCheckResult(
        check_name=MONTHS_CHECK,
        passed=not bad,
        severity=_SEVERITY[worst],
        metadata={
            "at_risk": sum(m.alert == "at_risk" for m in bad),
            "lost": sum(m.alert == "lost" for m in bad),
            "per_account": _per_account(
                report, lambda name: Counter(m.alert for m in report.months if m.account_name == name)
            ),
            "months": dg.MetadataValue.json(
                [
                    {
                        "account_name": m.account_name,
                        "month": f"{m.month:%Y-%m}",
                        "coverage": m.coverage,
                        "alert": m.alert,
                        "cutoff_at": m.cutoff_at.isoformat(),
                        "final_at": m.final_at.isoformat(),
                    }
                    for m in bad
                ]
            ),
        },
    )


def _media_check(report: StatusReport) -> dg.AssetCheckResult:
    at_risk = sum(c.get("at_risk", 0) for c in report.media_counts.values())
    lost = sum(c.get("lost", 0) for c in report.media_counts.values())
    return dg.AssetCheckResult(
        check_name=MEDIA_CHECK,
        passed=not (at_risk or lost),
        severity=_SEVERITY["lost" if lost else "at_risk"],
        metadata={
            "at_risk": at_risk,
            "lost": lost,
            "per_account": _per_account(report, lambda name: report.media_counts.get(name, Counter())),
            "soonest": dg.MetadataValue.json(
                [
                    {
                        "account_name": m.account_name,
                        "chat_name": m.chat_name,
                        "kind": m.kind,
                        "sent_at": m.sent_at.isoformat(),
                        "expires_at": m.expires_at.isoformat(),
                    }
                    for m in report.media_at_risk[:SOONEST_AT_RISK]
                ]
            ),
        },
    )


def _per_account(report: StatusReport, counts: Callable[[str], Mapping[str, int]]) -> dg.MetadataValue:
    """Per account, how many are at risk and lost: the counts of the digest, for every account."""
    rows = []
    for account in report.accounts:
        counted = counts(account.account_name)
        rows.append(
            {"account_name": account.account_name, "at_risk": counted.get("at_risk", 0), "lost": counted.get("lost", 0)}
        )
    return dg.MetadataValue.json(rows)


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M %z}"
