"""The month grain every partitioned asset shares; first month and time zone come from lineoa.toml.

The settings are read when the definitions are built (`build_defs`), never at import: the assets are
declared with the default months, and the factory gives them those of the data directory. With
`first_month = "auto"` (the default) the months start at the first month the published warehouse holds,
so the UI shows no partition before any data; a run that stages older months first (a first run, an older
backup) builds the definitions again from them.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect
from lineoa_pipeline.warehouse.sqlfiles import load_sql

MESSAGES = dg.AssetKey("messages")


def monthly_partitions(settings: Settings, first_with_data: date | None = None) -> dg.MonthlyPartitionsDefinition:
    """From `first_month`, else (auto) from `first_with_data`, else from the current month, to the current one."""
    first = settings.first_month or first_with_data or datetime.now(ZoneInfo(settings.timezone)).date()
    return dg.MonthlyPartitionsDefinition(
        start_date=first.replace(day=1).isoformat(),
        timezone=settings.timezone,
        end_offset=1,  # the current month exists
    )


# What the assets are declared with; `build_defs` replaces it with the data directory's months.
DEFAULT_MONTHS = monthly_partitions(Settings(first_month=date(2019, 1, 1)))


def data_months(data_dir: DataDir, settings: Settings, earliest: date | None = None) -> dg.MonthlyPartitionsDefinition:
    """The data directory's months: with `first_month = "auto"`, from the first month its published warehouse
    holds, or from `earliest` (a month a run is about to write) when that is earlier."""
    if settings.first_month is not None:
        return monthly_partitions(settings)
    held = first_month_held(data_dir)
    return monthly_partitions(settings, min((m for m in (held, earliest) if m), default=None))


def first_month_held(data_dir: DataDir) -> date | None:
    """The first month of `messages` in the published warehouse (the readers' snapshot, or the lake); None
    before any run, or while the lake is unreachable (the definitions still load; a run then says why)."""
    try:
        conn = connect(data_dir.root)
    except (NoWarehouseYet, lake.LakeUnreachable):
        return None
    try:
        row = conn.execute(load_sql("first_month_held")).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def loaded_months(
    repository: dg.RepositoryDefinition | None, data_dir: DataDir, settings: Settings
) -> dg.PartitionsDefinition:
    """The months of `messages` in the running code location (a run's or a sensor's definitions: what a run
    request may name); the data directory's when it holds no `messages` (a few assets materialised alone)."""
    if repository is not None and repository.asset_graph.has(MESSAGES):
        months = repository.asset_graph.get(MESSAGES).partitions_def
        if months is not None:
            return months
    return data_months(data_dir, settings)


def partition_keys_of(months: list[str], partitions: dg.PartitionsDefinition) -> list[str]:
    """The partition keys (`YYYY-MM-01`) of the given ISO dates that `partitions` holds, sorted."""
    keys = set(partitions.get_partition_keys())
    return sorted(k for k in {m[:7] + "-01" for m in months} if k in keys)


RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def range_tags(keys: list[str]) -> dict[str, str]:
    """Run tags that make one run cover the partitions from the first key to the last."""
    return {RANGE_START: keys[0], RANGE_END: keys[-1]}
