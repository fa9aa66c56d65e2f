import warnings
from pathlib import Path

import dagster as dg

from lineoa_pipeline.datadir import keep_private


@dg.definitions
def defs() -> dg.Definitions:
    """Every asset, check, job, sensor and schedule under `defs/`, each asset linked to its source file."""
    keep_private()  # every process that runs the pipeline (UI, daemon, run workers) writes private files
    # Code references (and mapping specs) are beta/preview in Dagster 1.13: without this their warnings
    # would print on every load, in `lineoa run` as in the UI.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
        # Each asset's function, after any reference its spec gives first (a view's `.sql`).
        references = {
            spec.key: spec.metadata["dagster/code_references"]
            for linked in dg.with_source_code_references(loaded.assets or [])
            if isinstance(linked, dg.AssetsDefinition)
            for spec in linked.specs
        }
        return loaded.map_asset_specs(
            func=lambda spec: spec.merge_attributes(metadata={"dagster/code_references": references[spec.key]})
        )
