"""The one resource every asset, check and sensor shares: the data directory and its warehouse."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from lineoa_pipeline.settings.config import Settings, load_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection

WRITE_POOL = "duckdb_write"


class WarehouseResource(dg.ConfigurableResource):
    """The data directory (given, else `LINEOA_DATA_DIR`, else `data/`) and its DuckDB warehouse.

    Every write goes through `write()`: the data directory's writer lock, then one short connection.
    """

    data_dir: str = ""
    first_month: str = ""  # the first monthly partition of the definitions it runs in; empty: the data directory's

    @property
    def location(self) -> DataDir:
        return DataDir.resolve(self.data_dir or None)

    def settings(self) -> Settings:
        return load_settings(self.location.settings_file)

    @contextmanager
    def write(self, log: dg.DagsterLogManager, exclusive: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """`exclusive`: also with a lake, one such writer at a time (taking the inbox in)."""
        with write_connection(self.location, on_wait=log.info, exclusive=exclusive) as conn:
            yield conn

    def publish(self, log: dg.DagsterLogManager) -> Path | None:
        return publish_snapshot(self.location, on_wait=log.info)
