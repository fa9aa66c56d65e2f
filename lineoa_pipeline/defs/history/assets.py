"""Reading the history back: the search side table, and `transcripts/` kept current after each run."""

from datetime import timedelta

import dagster as dg

from lineoa_pipeline.defs.metadata import relation_metadata
from lineoa_pipeline.defs.partitions import DEFAULT_MONTHS
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.history.export import refresh_transcripts, transcripts_folder
from lineoa_pipeline.history.search import index_months

GROUP = "history"


@dg.asset(
    deps=["messages"],
    partitions_def=DEFAULT_MONTHS,  # replaced by the data directory's months in build_defs
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"duckdb", "python"},
    pool=WRITE_POOL,
)
def search_text(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """What `lineoa search` matches a message by when its stored content is not already its own NFKC +
    case-folded form (full-width Latin, half-width kana, capitals, …): that form, computed in Python once
    per distinct content of the months written, with the columns a search result shows."""
    window = context.partition_time_window
    first, last = window.start.date(), (window.end - timedelta(days=1)).date().replace(day=1)
    with warehouse.write(context.log) as conn:
        rows = index_months(conn, first, last)
        meta = relation_metadata(conn, "_search_text", rows)
    context.log.info(f"search: {rows:,} messages of {first:%Y-%m} to {last:%Y-%m} need folding")
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    deps=["warehouse_snapshot"],
    group_name=GROUP,
    kinds={"html"},
)
def chat_transcripts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """`transcripts/` in the data directory: per account a folder with `index.html` and a page per chat that
    reads like the LINE chat screen, from the published snapshot (it writes no table, so it takes no turn
    at the warehouse). Only the chats whose messages, tags or saved media changed are written again."""
    report = refresh_transcripts(warehouse.location, warehouse.settings())
    folder = transcripts_folder(warehouse.location)
    context.log.info(
        f"transcripts: {report.pages_written:,} of {report.chats:,} chat pages written, "
        f"{report.pages_removed:,} removed, {report.indexes_written:,} indexes, in {folder}"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(folder / "index.html")),
            "accounts": report.accounts,
            "chats": report.chats,
            "pages_written": report.pages_written,
            "pages_removed": report.pages_removed,
        }
    )
