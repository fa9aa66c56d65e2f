from pathlib import Path

import dagster as dg

from lineoa_pipeline.datadir import keep_private


@dg.definitions
def defs() -> dg.Definitions:
    keep_private()  # every process that runs the pipeline (UI, daemon, run workers) writes private files
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
