"""What must hold of the analytics: every manifest row verified, no negative wait, no chat waiting past the SLA
(`sql/checks/<name>.sql`)."""

import dagster as dg

from lineoa_pipeline.defs.metadata import query_preview
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.warehouse.sqlfiles import load_sql

MEDIA_VERIFIED = "every_media_file_verified"
NO_NEGATIVE_WAIT = "no_negative_response_time"
NO_CHAT_WAITING_PAST_SLA = "no_chat_waiting_past_sla"
LONGEST_WAITS_LISTED = 10


@dg.asset_check(asset="media_files", name=MEDIA_VERIFIED, pool=WRITE_POOL)
def every_media_file_verified(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Warns when a manifest lists a file that is missing or whose checksum or size differs."""
    with warehouse.write(context.log) as conn:
        bad = conn.execute(load_sql(f"checks/{MEDIA_VERIFIED}")).fetchall()
    return dg.AssetCheckResult(passed=not bad, severity=dg.AssetCheckSeverity.WARN, metadata={v: n for v, n in bad})


@dg.asset_check(asset="response_times", name=NO_NEGATIVE_WAIT, pool=WRITE_POOL)
def no_negative_response_time(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Fails if any inquiry was answered before it was asked, or has more business seconds than seconds."""
    with warehouse.write(context.log) as conn:
        bad = (conn.execute(load_sql(f"checks/{NO_NEGATIVE_WAIT}")).fetchone() or (0,))[0]
    return dg.AssetCheckResult(passed=bad == 0, metadata={"bad_inquiries": bad})


@dg.asset_check(asset="waiting_chats", name=NO_CHAT_WAITING_PAST_SLA, pool=WRITE_POOL)
def no_chat_waiting_past_sla(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Warns when a chat has waited for an answer longer than its account's `sla_minutes` of business time
    by its latest export, listing the longest waits."""
    with warehouse.write(context.log) as conn:
        late = f"({load_sql(f'checks/{NO_CHAT_WAITING_PAST_SLA}')})"
        count = (conn.execute(f"SELECT count(*) FROM {late}").fetchone() or (0,))[0]
        longest = query_preview(
            conn,
            f"""SELECT account_name, chat_name, chat_type, strftime(waiting_since, '%Y-%m-%d %H:%M') AS since_utc,
                       round(business_seconds / 3600, 1) AS business_hours, sla_minutes
                FROM {late} ORDER BY business_seconds DESC, account_name, chat_name LIMIT ?""",
            [LONGEST_WAITS_LISTED],
        )
    return dg.AssetCheckResult(
        passed=count == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"chats_waiting_past_sla": count, "longest_waits": longest},
    )
