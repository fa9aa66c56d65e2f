"""What must hold of the analytics: every manifest row verified, no negative wait."""

import dagster as dg

from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource

MEDIA_VERIFIED = "every_media_file_verified"
NO_NEGATIVE_WAIT = "no_negative_response_time"


@dg.asset_check(asset="media_files", name=MEDIA_VERIFIED, pool=WRITE_POOL)
def every_media_file_verified(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Warns when a manifest lists a file that is missing or whose checksum or size differs."""
    with warehouse.write(context.log) as conn:
        bad = conn.execute(
            "SELECT verification, count(*) FROM media_files WHERE verification <> 'ok' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    return dg.AssetCheckResult(passed=not bad, severity=dg.AssetCheckSeverity.WARN, metadata={v: n for v, n in bad})


@dg.asset_check(asset="response_times", name=NO_NEGATIVE_WAIT, pool=WRITE_POOL)
def no_negative_response_time(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Fails if any inquiry was answered before it was asked, or has more business seconds than seconds."""
    with warehouse.write(context.log) as conn:
        bad = (
            conn.execute(
                """SELECT count(*) FROM response_times
                   WHERE response_seconds < 0 OR business_seconds < 0 OR business_seconds > response_seconds"""
            ).fetchone()
            or (0,)
        )[0]
    return dg.AssetCheckResult(passed=bad == 0, metadata={"bad_inquiries": bad})
