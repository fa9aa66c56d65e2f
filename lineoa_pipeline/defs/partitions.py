"""The month grain every partitioned asset shares; first month and time zone come from lineoa.toml.

The settings are read when the definitions are built (`build_defs`), never at import: the assets are
declared with the default months, and the factory gives them those of the data directory's settings.
"""

import dagster as dg

from lineoa_pipeline.settings.config import Settings


def monthly_partitions(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    return dg.MonthlyPartitionsDefinition(
        start_date=settings.first_month.isoformat(),
        timezone=settings.timezone,
        end_offset=1,  # the current month exists
    )


# What the assets are declared with; `build_defs` replaces it with the data directory's months.
DEFAULT_MONTHS = monthly_partitions(Settings())


def partition_keys_of(months: list[str], settings: Settings) -> list[str]:
    """The partition keys (`YYYY-MM-01`) of the given ISO dates that the settings' months hold, sorted."""
    keys = set(monthly_partitions(settings).get_partition_keys())
    return sorted(k for k in {m[:7] + "-01" for m in months} if k in keys)


RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def range_tags(keys: list[str]) -> dict[str, str]:
    """Run tags that make one run cover the partitions from the first key to the last."""
    return {RANGE_START: keys[0], RANGE_END: keys[-1]}
