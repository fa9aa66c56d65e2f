"""The code location: every asset, check, job, sensor and schedule of `defs/`, with one data directory's
settings, read when the definitions are built (never at import)."""

import warnings
from pathlib import Path

import dagster as dg

from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.defs.partitions import monthly_partitions
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.retention.schedules import retention_schedules
from lineoa_pipeline.settings import load_settings


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` and `dg dev` load: the data directory of `LINEOA_DATA_DIR` (default `data/`)."""
    return build_defs(DataDir.resolve())


def build_defs(data_dir: DataDir) -> dg.Definitions:
    settings = load_settings(data_dir.settings_file)
    months = monthly_partitions(settings)
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    with warnings.catch_warnings():  # map_asset_specs is "preview" in 1.13: not a warning for the user
        warnings.simplefilter("ignore", dg.PreviewWarning)
        loaded = loaded.map_asset_specs(
            func=lambda spec: spec.replace_attributes(partitions_def=months) if spec.partitions_def else spec
        )
    own = dg.Definitions(
        schedules=retention_schedules(settings),
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))},
        # Every writing step waits for the writer lock anyway: separate step processes would only add their
        # start-up (~6 s a step here), so steps run in the run's own process.
        executor=dg.in_process_executor,
    )
    return dg.Definitions.merge(loaded, own)
