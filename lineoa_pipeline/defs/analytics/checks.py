"""What must hold of the analytics: every manifest row verified, no negative wait (`sql/checks/<name>.sql`)."""

import dagster as dg

from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.sqlfiles import load_sql

MEDIA_VERIFIED = "every_media_file_verified"
NO_NEGATIVE_WAIT = "no_negative_response_time"


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
