"""A daily retention check and a monthly refresh of the latest months, in the settings' time zone."""

import dagster as dg

from lineoa_pipeline.defs.ingest.jobs import months_job
from lineoa_pipeline.defs.partitions import range_tags
from lineoa_pipeline.defs.retention.jobs import RetentionConfig, retention_job
from lineoa_pipeline.settings.config import Settings


def retention_schedules(settings: Settings, months: dg.PartitionsDefinition) -> list[dg.ScheduleDefinition]:
    """The schedules, in the time zone of `settings`, over the definitions' `months` (built with them)."""

    @dg.schedule(
        job=months_job,
        cron_schedule="0 6 1 * *",
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="On the 1st: one run rewriting the month just ended and the new one, then analytics and snapshot.",
    )
    def monthly_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        keys = months.get_partition_keys(current_time=context.scheduled_execution_time)[-2:]
        return dg.RunRequest(run_key=f"refresh-{keys[-1]}", tags=range_tags(keys))

    @dg.schedule(
        job=retention_job,
        cron_schedule="0 9 * * *",
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every morning: coverage, alerts and the retention checks as of the tick.",
    )
    def daily_retention_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time
        return dg.RunRequest(run_key=f"retention-{tick:%Y-%m-%d}", run_config=RetentionConfig.run_config(tick))

    return [daily_retention_schedule, monthly_refresh_schedule]
