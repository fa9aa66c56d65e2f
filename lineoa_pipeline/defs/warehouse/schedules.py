"""A nightly maintenance of the lake warehouse, in the settings' time zone."""

import dagster as dg

from lineoa_pipeline.defs.warehouse.jobs import lake_maintenance_job
from lineoa_pipeline.settings.config import Settings


def lake_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """The lake's maintenance schedule when `[warehouse]` names one (built with the definitions, not at
    import); none for the embedded warehouse file, which needs no maintenance."""
    if settings.warehouse is None:
        return []
    return [
        dg.ScheduleDefinition(
            name="lake_maintenance_schedule",
            job=lake_maintenance_job,
            cron_schedule="30 3 * * *",
            execution_timezone=settings.timezone,
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description="Nightly: merge the lake's small files, expire snapshots older than keep_snapshots_days.",
        )
    ]
