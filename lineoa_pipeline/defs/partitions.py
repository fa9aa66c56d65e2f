"""The month grain every partitioned asset shares; first month and time zone come from lineoa.toml."""

import dagster as dg

from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.settings import load_settings

SETTINGS = load_settings(DataDir.resolve().settings_file)

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=SETTINGS.first_month.isoformat(),
    timezone=SETTINGS.timezone,
    end_offset=1,  # the current month exists
)


def partition_keys_of(months: list[str]) -> list[str]:
    """The partition keys (`YYYY-MM-01`) of the given ISO dates that this partitions definition holds, sorted."""
    keys = set(monthly_partitions.get_partition_keys())
    return sorted(k for k in {m[:7] + "-01" for m in months} if k in keys)


def range_tags(keys: list[str]) -> dict[str, str]:
    """Run tags that make one run cover the partitions from the first key to the last."""
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
