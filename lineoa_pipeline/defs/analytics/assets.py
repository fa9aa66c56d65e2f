"""Support analytics: chat tags, verified media, and the response-time views over `messages`."""

import dagster as dg

from lineoa_pipeline.defs.metadata import code_reference, described_schema, relation_metadata
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.ingest.side_inputs import side_inputs_hash
from lineoa_pipeline.ingest.tags_media import load_chat_tags, load_media_files
from lineoa_pipeline.warehouse.classify import sync_settings
from lineoa_pipeline.warehouse.views import VIEW_SPECS, VIEWS, create_views

GROUP = "analytics"
# Every table and view this area writes: what a run refreshes after `messages`, what readers see.
ANALYTICS_ASSETS = ("chat_tags", "media_files", *VIEWS)
PREVIEW_ROWS = 10
MESSAGE_TEXT = "content"  # the column of a view that holds what customers wrote
# Tables a view reads that are not assets themselves, and the asset that writes each.
WRITTEN_BY = {"source_files": "staged_files"}


@dg.asset(
    deps=["messages"],
    group_name=GROUP,
    kinds={"duckdb", "csv"},
    pool=WRITE_POOL,
    metadata={"dagster/column_schema": described_schema("chat_tags")},
)
def chat_tags(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Chat tags from every `tags/*.csv` (`account_name,chat_name,tag`), chat names matched to the
    warehouse's after NFKC and without white space and brackets; unreadable rows go to `rejected_rows`."""
    with warehouse.write(context.log) as conn:
        sync_settings(conn, warehouse.settings())
        counts = load_chat_tags(conn, warehouse.location)
        meta = relation_metadata(
            conn,
            "chat_tags",
            counts["tags"],
            "SELECT tag, count(*) AS chats FROM chat_tags GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
        )
    if counts["unmatched"]:
        context.log.warning(f"{counts['unmatched']} tag rows name no chat the warehouse knows")
    return dg.MaterializeResult(metadata={**meta, **counts})


@dg.asset(
    deps=["messages"],
    group_name=GROUP,
    kinds={"duckdb", "csv"},
    pool=WRITE_POOL,
    metadata={"dagster/column_schema": described_schema("media_files")},
)
def media_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Rows of every `media/*manifest*.csv`, each file's size and SHA-256 checked (`ok`, `missing_file`,
    `checksum_mismatch`) and linked to the placeholder message it saves (same account, chat, kind and
    second; one file per message). Rows that can't be read or point outside `media/` are rejected."""
    with warehouse.write(context.log) as conn:
        sync_settings(conn, warehouse.settings())
        counts = load_media_files(conn, warehouse.location)
        meta = relation_metadata(
            conn,
            "media_files",
            counts["ok"] + counts["missing_file"] + counts["checksum_mismatch"],
            "SELECT account_name, kind, verification, count(*) AS files FROM media_files GROUP BY ALL ORDER BY ALL",
        )
    return dg.MaterializeResult(metadata={**meta, **counts})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            view.name,
            deps=[WRITTEN_BY.get(table, table) for table in view.reads],
            group_name=GROUP,
            kinds={"duckdb", "sql"},
            description=view.description,
            metadata={
                "dagster/column_schema": described_schema(view.name),
                "dagster/code_references": code_reference(view.path),
            },
        )
        for view in VIEW_SPECS
    ],
    pool=WRITE_POOL,
)
def analytics_views(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The analytics views (`sql/views/*.sql`), rebuilt together over the whole warehouse."""
    side_inputs = side_inputs_hash(warehouse.location)  # before reading them: a later change is seen next run
    with warehouse.write(context.log) as conn:
        sync_settings(conn, warehouse.settings())
        create_views(conn, side_inputs=side_inputs)
        for view in VIEW_SPECS:
            rows = (conn.execute(f"SELECT count(*) FROM {view.name}").fetchone() or (0,))[0]
            # the event log is no place for customers' words: no preview of a view that holds message text
            preview = None if MESSAGE_TEXT in view.columns else f"SELECT * FROM {view.name} LIMIT {PREVIEW_ROWS}"
            meta = relation_metadata(conn, view.name, rows, preview)
            yield dg.MaterializeResult(asset_key=view.name, metadata=meta)
