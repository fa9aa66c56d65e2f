"""The two jobs a run of the pipeline is made of: take the inbox in, then rewrite the stale months."""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from lineoa_pipeline.defs.analytics.assets import ANALYTICS_ASSETS
from lineoa_pipeline.defs.partitions import partition_keys_of, range_tags
from lineoa_pipeline.ingest.side_inputs import published_side_inputs, side_inputs_hash
from lineoa_pipeline.settings.datadir import DataDir

# Runs the command line starts carry this tag: the sensors leave their follow-up to the command.
STARTED_BY = {"lineoa/started_by": "command line"}

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


def after_staging(
    staged: Mapping[str, Any], data_dir: DataDir, months: dg.PartitionsDefinition
) -> dg.RunRequest | None:
    """What runs after a staging (its `staged_files` metadata): one `months_job` run over the range of
    months it made stale; without any, a run of what follows the months when a file came in or tags, media
    or settings differ from those the published views were built with; else nothing. The stale-months
    sensor and `lineoa run` both decide here, over the `months` of the definitions that will run it."""
    keys = partition_keys_of(list(staged.get("stale_months") or []), months)
    if keys:
        return dg.RunRequest(tags=range_tags(keys))
    if (
        int(staged.get("files_loaded", 0))
        or int(staged.get("files_quarantined", 0))
        or published_side_inputs(data_dir) != side_inputs_hash(data_dir)
    ):
        return dg.RunRequest(asset_selection=AFTER_MONTHS)
    return None
