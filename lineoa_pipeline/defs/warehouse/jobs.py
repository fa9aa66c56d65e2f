"""Keeping a lake warehouse small: merged files, expired snapshots."""

import dagster as dg

lake_maintenance_job = dg.define_asset_job(
    "lake_maintenance_job",
    selection=dg.AssetSelection.assets("lake_files"),
    description="Merge the lake's small Parquet files and expire its old snapshots (a no-op when embedded).",
)
