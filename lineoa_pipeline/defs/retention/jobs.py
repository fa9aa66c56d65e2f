"""The retention check: the status report and its checks, without touching any partition."""

import dagster as dg

retention_job = dg.define_asset_job(
    "retention_job",
    selection=dg.AssetSelection.assets("retention_status"),
    description="Recompute coverage and alerts as of now; its checks warn (at risk) or fail (lost).",
)
