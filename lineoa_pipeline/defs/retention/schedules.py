"""A daily retention check and a monthly refresh of the latest months, in the settings' time zone."""

import dagster as dg

from lineoa_pipeline.defs.ingest.jobs import months_job
from lineoa_pipeline.defs.partitions import SETTINGS, monthly_partitions, range_tags
from lineoa_pipeline.defs.retention.jobs import retention_job

daily_retention_schedule = dg.ScheduleDefinition(
    name="daily_retention_schedule",
    job=retention_job,
    cron_schedule="0 9 * * *",
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning: coverage, alerts and the retention checks as of now.",
)


@dg.schedule(
    job=months_job,
    cron_schedule="0 6 1 * *",
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 1st: one run rewriting the month just ended and the new one, then analytics and snapshot.",
)
def monthly_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    keys = monthly_partitions.get_partition_keys(current_time=context.scheduled_execution_time)[-2:]
    return dg.RunRequest(run_key=f"refresh-{keys[-1]}", tags=range_tags(keys))
