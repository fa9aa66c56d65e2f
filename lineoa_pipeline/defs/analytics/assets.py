"""Support analytics: chat tags, verified media, and the response-time views over `messages`."""

import dagster as dg

from lineoa_pipeline.classify import sync_settings
from lineoa_pipeline.defs.metadata import markdown_table, relation_metadata
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.tags_media import load_chat_tags, load_media_files
from lineoa_pipeline.views import VIEWS, create_views

GROUP = "analytics"
# Every table and view this area writes: what a run refreshes after `messages`, what readers see.
ANALYTICS_ASSETS = ("chat_tags", "media_files", *VIEWS)
# The assets each view reads, where not response_times alone.
_VIEW_DEPS = {
    "response_times": ["messages", "chat_tags", "media_files"],
    "hourly_volume": ["messages", "response_times"],
    "line_reply_times": ["messages"],
    "monthly_line_reply_stats": ["line_reply_times"],
    "frequent_user_texts": ["messages"],
}


@dg.asset(deps=["messages"], group_name=GROUP, kinds={"duckdb", "csv"}, pool=WRITE_POOL)
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


@dg.asset(deps=["messages"], group_name=GROUP, kinds={"duckdb", "csv"}, pool=WRITE_POOL)
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
            view,
            deps=_VIEW_DEPS.get(view, ["response_times"]),
            group_name=GROUP,
            kinds={"duckdb", "sql"},
            description=description,
        )
        for view, description in {
            "response_times": "One row per inquiry: when a user asked, when staff first answered, the wait in "
            "seconds and in business seconds (the account's business hours and holidays), who answered.",
            "monthly_response_stats": "Per account and month: inquiries, answered, unanswered, median and p90 "
            "response (quantile_cont), median business seconds, and the share answered within the SLA.",
            "staff_response_stats": "Per account, month and staff member: inquiries answered, median response.",
            "tag_counts": "Per account, month and tag: chats with a message that month, inquiries asked that "
            "month in them, median response.",
            "response_buckets": "Per account and month: inquiries by wait (under 1 h, 1-4 h, 4-8 h, 8-24 h, over "
            "24 h, unanswered), six rows per month with an inquiry.",
            "hourly_volume": "Per account, month, local weekday and hour: user messages (no menu taps) and "
            "inquiries asked.",
            "line_reply_times": "LINE's own reply time: per one-to-one chat, 24-hour cycles opened by a user "
            "message, and the first answer within them.",
            "monthly_line_reply_stats": "Per account and month: LINE's cycles, how many were replied to within 24 "
            "hours, and the mean reply time.",
            "waiting_chats": "The backlog: chats whose latest inquiry has no answer, and how long they have "
            "waited (seconds and business seconds) by their latest export.",
            "frequent_user_texts": "User texts and menu taps sent word for word in at least 5 chats of an "
            "account: where to find the rich-menu texts for `menu_texts`.",
        }.items()
    ],
    pool=WRITE_POOL,
)
def analytics_views(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The analytics views (`sql/views/*.sql`), rebuilt together over the whole warehouse."""
    with warehouse.write(context.log) as conn:
        sync_settings(conn, warehouse.settings())
        create_views(conn)
        for view in VIEWS:
            rows = (conn.execute(f"SELECT count(*) FROM {view}").fetchone() or (0,))[0]
            meta = relation_metadata(conn, view, rows)
            if view == "monthly_response_stats":
                meta["preview"] = dg.MetadataValue.md(
                    markdown_table(
                        conn,
                        """SELECT account_name, strftime(month, '%Y-%m') AS month, inquiries,
                                  round(median_response_seconds / 60, 1) AS median_min,
                                  round(p90_response_seconds / 60, 1) AS p90_min, round(within_sla, 3) AS within_sla
                           FROM monthly_response_stats ORDER BY month DESC, account_name LIMIT 24""",
                    )
                )
            yield dg.MaterializeResult(asset_key=view, metadata=meta)
