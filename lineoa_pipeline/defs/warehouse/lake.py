"""The lake warehouse's upkeep: the `lake_files` asset, its job and a nightly schedule in the settings' time
zone. Built with the definitions, only when `[warehouse]` names a lake: the embedded file needs none of it,
and the UI shows no asset that can never be materialised."""

import dagster as dg

from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.warehouse.lake import maintain


def lake_definitions(settings: Settings) -> dg.Definitions:
    """`lake_files`, `lake_maintenance_job` and `lake_maintenance_schedule` with a lake; nothing without."""
    if settings.warehouse is None:
        return dg.Definitions()
    files = dg.asset(name="lake_files", group_name="warehouse", kinds={"duckdb", "parquet"}, pool=WRITE_POOL)(
        _lake_files
    )
    job = dg.define_asset_job(
        "lake_maintenance_job",
        selection=[files],
        description="Merge the lake's small Parquet files and expire its old snapshots.",
    )
    schedule = dg.ScheduleDefinition(
        name="lake_maintenance_schedule",
        job=job,
        cron_schedule="30 3 * * *",
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Nightly: merge the lake's small files, expire snapshots older than keep_snapshots_days.",
    )
    return dg.Definitions(assets=[files], jobs=[job], schedules=[schedule])


def _lake_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The lake's Parquet files and snapshots (`[warehouse]` in lineoa.toml): the small files many runs leave
    merged, snapshots older than `keep_snapshots_days` expired, and the files no kept snapshot reads
    deleted (DuckLake's own functions)."""
    settings = warehouse.settings().warehouse
    if settings is None:  # lineoa.toml lost its [warehouse] since the definitions were loaded
        raise dg.Failure("lineoa.toml names no lake ([warehouse]) any more: reload the definitions")
    counts = maintain(warehouse.location, settings)
    context.log.info(
        f"lake: {counts['files_before']} data files before, {counts['files_after']} after (rows inlined in the"
        f" catalog written out, small files merged); {counts['snapshots_before']} snapshots before,"
        f" {counts['snapshots_after']} after"
    )
    return dg.MaterializeResult(metadata={"lake": True, **counts, "keep_snapshots_days": settings.keep_snapshots_days})
