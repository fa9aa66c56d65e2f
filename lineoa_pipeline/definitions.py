"""The code location: every asset, check, job, sensor and schedule of `defs/`, with one data directory's
settings, read when the definitions are built (never at import), each asset linked to its source file."""

import warnings
from datetime import date
from pathlib import Path

import dagster as dg

from lineoa_pipeline.defs.partitions import data_months
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.retention.schedules import retention_schedules
from lineoa_pipeline.defs.warehouse.lake import lake_definitions
from lineoa_pipeline.settings.config import load_settings
from lineoa_pipeline.settings.datadir import DataDir, keep_private


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` and `dg dev` load: the data directory of `LINEOA_DATA_DIR` (default `data/`)."""
    return build_defs(DataDir.resolve())


def build_defs(data_dir: DataDir, earliest: date | None = None) -> dg.Definitions:
    """The definitions for `data_dir`; with `first_month = "auto"`, months from `earliest` too (a run's)."""
    keep_private()  # every process that runs the pipeline (UI, daemon, run workers) writes private files
    settings = load_settings(data_dir.settings_file)
    months = data_months(data_dir, settings, earliest)
    # Code references and mapping specs are beta/preview in Dagster 1.13: without this their warnings would
    # print on every load, in `lineoa run` as in the UI.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        loaded = dg.Definitions.merge(
            dg.load_from_defs_folder(path_within_project=Path(__file__).parent), lake_definitions(settings)
        )
        # Each asset's function, after any reference its spec gives first (a view's `.sql`).
        references = {
            spec.key: spec.metadata["dagster/code_references"]
            for linked in dg.with_source_code_references(loaded.assets or [])
            if isinstance(linked, dg.AssetsDefinition)
            for spec in linked.specs
        }
        loaded = loaded.map_asset_specs(
            func=lambda spec: spec.merge_attributes(
                metadata={"dagster/code_references": references[spec.key]}
            ).replace_attributes(partitions_def=months if spec.partitions_def else None)
        )
    own = dg.Definitions(
        schedules=retention_schedules(settings, months),
        resources={
            "warehouse": WarehouseResource(data_dir=str(data_dir.root), first_month=months.start.date().isoformat())
        },
        # Every writing step waits for the writer lock anyway: separate step processes would only add their
        # start-up (~6 s a step here), so steps run in the run's own process.
        executor=dg.in_process_executor,
    )
    return dg.Definitions.merge(loaded, own)
