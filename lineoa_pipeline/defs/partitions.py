"""The month grain every partitioned asset shares; first month and time zone come from lineoa.toml."""

from datetime import date

import dagster as dg

from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.settings import load_settings

SETTINGS = load_settings(DataDir.resolve().settings_file)

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=SETTINGS.first_month.isoformat(),
    timezone=SETTINGS.timezone,
    end_offset=1,  # the current month exists
)


def month_keys(months: list[date]) -> list[str]:
    """The partition keys (`YYYY-MM-01`) of these months that the partitions definition holds."""
    keys = set(monthly_partitions.get_partition_keys())
    return [k for k in (m.strftime("%Y-%m-01") for m in months) if k in keys]
