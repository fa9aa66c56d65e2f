"""The two jobs a run of the pipeline is made of: take the inbox in, then rewrite the stale months."""

import dagster as dg

from lineoa_pipeline.defs.analytics.assets import ANALYTICS_ASSETS

# Unpartitioned: inbox -> archive -> staged rows (each file parsed once) -> bulk backups.
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets("archived_inputs", "staged_files", "bulk_backups"),
    description="Archive new inbox files and stage every new export once.",
)

# Partitioned over months (one run for a range, BackfillPolicy.single_run) and everything downstream.
months_job = dg.define_asset_job(
    "months_job",
    selection=dg.AssetSelection.assets("messages").downstream(),
    description="Rewrite a range of `messages` months, then the analytics and the readers' snapshot.",
)

# What months_job refreshes when no month is stale (new files held only duplicates; tags or media changed).
AFTER_MONTHS = [
    dg.AssetKey(name) for name in (*ANALYTICS_ASSETS, "retention_status", "warehouse_snapshot", "chat_transcripts")
]
