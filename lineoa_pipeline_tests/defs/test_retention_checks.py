"""The retention checks as the UI shows them: WARN while something is at risk, ERROR once lost, with what
and when in their metadata, as of the instant the run is given (the daily schedule's tick, the sensor's
check), through `retention_status`, `retention_job` and `daily_retention_schedule`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.retention.assets import MEDIA_CHECK, MONTHS_CHECK, retention_status
from lineoa_pipeline.defs.retention.jobs import RetentionConfig
from lineoa_pipeline.line_export.render import ChatMessage, render_export, write_bulk_zip
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import BuildWarehouse

CLINIC, YOGA = "さくら整体院", "ヨガ教室"
# March 2025 is past its cutoff (2026-03-01) and April 2025 within its 30 days' warning; of the group's
# placeholders sent 2026-03-01 10:00, the file (7 days, warned 2 before) is at risk, the photo (14) pending.
WARN_AT = datetime.fromisoformat("2026-03-06T10:00:00+09:00")
# March 2025's final day has passed, and both placeholders are gone.
ERROR_AT = datetime.fromisoformat("2026-04-01T00:00:00+09:00")


@pytest.fixture
def data_dir(build_warehouse: BuildWarehouse, tmp_path: Path) -> DataDir:
    """One account known only from a single-chat export of March 2025 (no bulk backup covers it), and a
    group's bulk backup with a photo and a file."""
    group = [
        ChatMessage("User", "山田 花子", datetime(2026, 3, 1, 10, 0), "写真を送信しました。"),
        ChatMessage("User", "佐藤 一郎", datetime(2026, 3, 1, 10, 0), "ファイルを送信しました。"),
    ]
    zipped = tmp_path / "backup.zip"
    write_bulk_zip(zipped, YOGA, {"火曜クラス": group}, downloaded_at=datetime(2026, 3, 2, 9, 0))
    single = [ChatMessage("User", "山田 花子", datetime(2025, 3, 10, 12, 0), "予約したいです")]
    return build_warehouse(
        {
            "山田花子.csv": render_export(CLINIC, single, downloaded_at=datetime(2025, 4, 2, 9, 0)),
            "backup.zip": zipped.read_bytes(),
        }
    )


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    assert result.success
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _retention_status(data_dir: DataDir, as_of: datetime) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [retention_status],
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))},
        run_config=RetentionConfig.run_config(as_of),
    )


def test_at_risk_warns_with_what_and_when(data_dir: DataDir) -> None:
    result = _retention_status(data_dir, WARN_AT)
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["as_of"].value == WARN_AT.isoformat()
    checks = _evaluations(result)

    months = checks[MONTHS_CHECK]
    assert not months.passed and months.severity == dg.AssetCheckSeverity.WARN
    assert (months.metadata["at_risk"].value, months.metadata["lost"].value) == (2, 0)
    assert months.metadata["months"].value == [
        {
            "account_name": CLINIC,
            "month": f"2025-{month:02d}",
            "coverage": "missing",
            "alert": "at_risk",
            "cutoff_at": f"2026-{month:02d}-01T00:00:00+09:00",
            "final_at": f"2026-{month + 1:02d}-01T00:00:00+09:00",
        }
        for month in (3, 4)
    ]

    media = checks[MEDIA_CHECK]
    assert not media.passed and media.severity == dg.AssetCheckSeverity.WARN
    assert (media.metadata["at_risk"].value, media.metadata["lost"].value) == (1, 0)
    assert media.metadata["soonest"].value == [
        {
            "account_name": YOGA,
            "chat_name": "火曜クラス",
            "kind": "file",
            "sent_at": "2026-03-01T10:00:00+09:00",
            "expires_at": "2026-03-08T10:00:00+09:00",
        }
    ]


def test_lost_is_an_error(data_dir: DataDir) -> None:
    checks = _evaluations(_retention_status(data_dir, ERROR_AT))
    months, media = checks[MONTHS_CHECK], checks[MEDIA_CHECK]
    assert not months.passed and months.severity == dg.AssetCheckSeverity.ERROR
    assert (months.metadata["at_risk"].value, months.metadata["lost"].value) == (2, 1)  # April, May; March
    assert not media.passed and media.severity == dg.AssetCheckSeverity.ERROR
    assert (media.metadata["at_risk"].value, media.metadata["lost"].value) == (0, 2)
    assert media.metadata["soonest"].value == []


def test_nothing_at_risk_passes(data_dir: DataDir) -> None:
    checks = _evaluations(_retention_status(data_dir, datetime.fromisoformat("2025-04-03T00:00:00+09:00")))
    assert checks[MONTHS_CHECK].passed and checks[MEDIA_CHECK].passed
    assert checks[MONTHS_CHECK].metadata["months"].value == []


def test_the_daily_schedule_runs_retention_job_as_of_its_tick(data_dir: DataDir) -> None:
    definitions = build_defs(data_dir)
    schedule = definitions.resolve_schedule_def("daily_retention_schedule")
    tick = datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    with dg.instance_for_test() as instance:
        (request,) = schedule.evaluate_tick(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        ).run_requests
        assert request.run_key == "retention-2026-04-01"
        job = definitions.resolve_job_def("retention_job")
        assert job.name == schedule.job_name
        result = job.execute_in_process(run_config=request.run_config, instance=instance)
    (event,) = result.get_asset_materialization_events()
    assert event.asset_key == dg.AssetKey("retention_status")
    assert event.materialization.metadata["as_of"].value == tick.isoformat()
    checks = _evaluations(result)
    assert checks[MONTHS_CHECK].severity == dg.AssetCheckSeverity.ERROR
    assert checks[MONTHS_CHECK].metadata["lost"].value == 1


def test_without_a_given_instant_it_is_now(data_dir: DataDir) -> None:
    before = datetime.now(ZoneInfo("UTC"))
    result = dg.materialize([retention_status], resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))})
    (event,) = result.get_asset_materialization_events()
    assert (
        before <= datetime.fromisoformat(event.materialization.metadata["as_of"].value) <= datetime.now(ZoneInfo("UTC"))
    )
    assert _evaluations(result)[MONTHS_CHECK].metadata["lost"].value >= 1  # March 2025 is long gone
