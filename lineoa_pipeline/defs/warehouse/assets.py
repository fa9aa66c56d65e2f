"""What readers open: the read-only snapshot of the embedded warehouse, or a lake's latest snapshot."""

import dagster as dg

from lineoa_pipeline.defs.analytics.assets import ANALYTICS_ASSETS
from lineoa_pipeline.defs.metadata import relation_metadata
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.warehouse.connection import connect

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
    always sees whole runs. `lineoa_pipeline.warehouse.connection.connect()` opens it read-only. With a lake
    (`[warehouse]`) nothing is copied: readers attach the lake's latest snapshot."""
    published = warehouse.publish(context.log)
    conn = connect(warehouse.location.root)
    try:
        rows = (conn.execute("SELECT count(*) FROM messages").fetchone() or (0,))[0]
        meta = relation_metadata(conn, "messages", rows)
    finally:
        conn.close()
    if published is None:  # a lake: readers attach its latest snapshot, nothing is copied
        return dg.MaterializeResult(metadata=meta)
    return dg.MaterializeResult(metadata={**meta, "bytes": dg.MetadataValue.int(published.stat().st_size)})
