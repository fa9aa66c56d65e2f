"""The read-only snapshot that notebooks and `lineoa status` open."""

import dagster as dg

from lineoa_pipeline.defs.analytics.assets import ANALYTICS_ASSETS
from lineoa_pipeline.defs.metadata import relation_metadata
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.warehouse import connect

# Everything a reader queries; the snapshot follows whenever any of it changes.
PUBLISHED = ["messages", "bulk_backups", *ANALYTICS_ASSETS, "search_text"]


@dg.asset(
    deps=PUBLISHED,
    group_name="warehouse",
    kinds={"duckdb"},
    pool=WRITE_POOL,
    automation_condition=dg.AutomationCondition.eager(),
)
def warehouse_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """`warehouse.snapshot.duckdb`: a whole copy of the warehouse, renamed into place after the tables
    it depends on are written, so a reader never blocks a run, a run never breaks a reader, and a reader
    always sees whole runs. `lineoa_pipeline.warehouse.connect()` opens it read-only."""
    warehouse.publish(context.log)
    conn = connect(warehouse.location.root)
    try:
        rows = (conn.execute("SELECT count(*) FROM messages").fetchone() or (0,))[0]
        meta = relation_metadata(conn, "messages", rows)
    finally:
        conn.close()
    size = warehouse.location.snapshot.stat().st_size
    return dg.MaterializeResult(metadata={**meta, "bytes": dg.MetadataValue.int(size)})
