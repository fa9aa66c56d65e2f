"""Support analytics: chat tags, verified media, and the response-time views over `messages`."""

import dagster as dg

from lineoa_pipeline.defs.metadata import described_schema, relation_metadata
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.ingest.side_inputs import side_inputs_hash
from lineoa_pipeline.ingest.tags_media import load_chat_tags, load_media_files
from lineoa_pipeline.warehouse.classify import sync_settings
from lineoa_pipeline.warehouse.views import VIEW_SPECS, VIEWS, create_views

GROUP = "analytics"
# Every table and view this area writes: what a run refreshes after `messages`, what readers see.
ANALYTICS_ASSETS = ("chat_tags", "media_files", *VIEWS)
PREVIEW_ROWS = 10
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
                "dagster/code_references": dg.CodeReferencesMetadataValue(
                    code_references=[dg.LocalFileCodeReference(file_path=str(view.path), label=view.path.name)]
                ),
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
            meta = relation_metadata(conn, view.name, rows, f"SELECT * FROM {view.name} LIMIT {PREVIEW_ROWS}")
            yield dg.MaterializeResult(asset_key=view.name, metadata=meta)
