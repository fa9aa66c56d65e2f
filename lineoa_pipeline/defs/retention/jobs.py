"""The retention check: the status report and its checks, without touching any partition, as of the instant
the run is given."""

from datetime import UTC, datetime

import dagster as dg

retention_job = dg.define_asset_job(
    "retention_job",
    selection=dg.AssetSelection.assets("retention_status"),
    description="Recompute coverage and alerts as of now; its checks warn (at risk) or fail (lost).",
)


class RetentionConfig(dg.Config):
    """The instant the retention report is computed as of: whoever starts the run gives it."""

    as_of: str | None = None  # ISO-8601 (without an offset: UTC); None: when the step runs

    def moment(self) -> datetime:
        if self.as_of is None:
            return datetime.now(UTC)
        moment = datetime.fromisoformat(self.as_of)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    @staticmethod
    def run_config(as_of: datetime) -> dg.RunConfig:
        """The run config of a run computing the report as of `as_of`."""
        return dg.RunConfig(ops={"retention_status": RetentionConfig(as_of=as_of.isoformat())})
