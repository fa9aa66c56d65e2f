"""The analytics' asset checks on a real warehouse, materialised through Dagster."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from lineoa_pipeline.defs.analytics.assets import analytics_views
from lineoa_pipeline.defs.analytics.checks import NO_CHAT_WAITING_PAST_SLA, no_chat_waiting_past_sla
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline_tests.helpers import BuildWarehouse, write_settings

ACCOUNT = "さくら整体院"


def _check(build_warehouse: BuildWarehouse, downloaded: datetime) -> dg.AssetCheckEvaluation:
    """The check after the views, with a 30-minute SLA and business hours Monday and Tuesday 09:00-18:00."""
    chats = {
        "山田": [ChatMessage("User", "山田", datetime(2026, 3, 2, 10, 0), "予約したいです")],  # Monday
        "鈴木": [
            ChatMessage("User", "鈴木", datetime(2026, 3, 2, 9, 0), "?"),
            ChatMessage("Account", "受付", datetime(2026, 3, 2, 9, 5), "!"),
        ],
    }
    data_dir = build_warehouse(
        {f"{chat}.csv": render_export(ACCOUNT, rows, downloaded_at=downloaded) for chat, rows in chats.items()},
    )
    write_settings(data_dir, 'sla_minutes = 30\n[business_hours]\nmon = ["09:00-18:00"]\ntue = ["09:00-18:00"]\n')
    result = dg.materialize(
        [analytics_views, no_chat_waiting_past_sla],
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))},
    )
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == NO_CHAT_WAITING_PAST_SLA
    return evaluation


def test_a_chat_waiting_past_the_sla_in_business_time_warns(build_warehouse: BuildWarehouse) -> None:
    # asked Monday 10:00, exported Monday 18:30: 8 business hours, past 30 minutes
    evaluation = _check(build_warehouse, datetime(2026, 3, 2, 18, 30))
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["chats_waiting_past_sla"].value == 1
    longest = [record.data for record in evaluation.metadata["longest_waits"].records]
    assert [(row["chat_name"], row["business_hours"]) for row in longest] == [("山田", 8.0)]


def test_a_wait_outside_business_hours_is_within_the_sla(build_warehouse: BuildWarehouse) -> None:
    # asked Monday 10:00 ... but the SLA counts business time only: exported at 10:20 it is 20 minutes
    evaluation = _check(build_warehouse, datetime(2026, 3, 2, 10, 20))
    assert evaluation.passed and evaluation.metadata["chats_waiting_past_sla"].value == 0
