"""A nightly maintenance of the lake warehouse, in the settings' time zone."""

import dagster as dg

from lineoa_pipeline.defs.partitions import SETTINGS
from lineoa_pipeline.defs.warehouse.jobs import lake_maintenance_job

lake_maintenance_schedule = dg.ScheduleDefinition(
    name="lake_maintenance_schedule",
    job=lake_maintenance_job,
    cron_schedule="30 3 * * *",
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night: merge the lake's small files and expire snapshots older than keep_snapshots_days.",
)
