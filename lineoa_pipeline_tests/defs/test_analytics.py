"""The analytics assets as the UI shows them: each view's description, inputs and columns from its `.sql`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg

from lineoa_pipeline.defs.analytics.assets import WRITTEN_BY, analytics_views, media_files
from lineoa_pipeline.defs.analytics.checks import (
    MEDIA_VERIFIED,
    NO_NEGATIVE_WAIT,
    every_media_file_verified,
    no_negative_response_time,
)
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline.warehouse.views import VIEW_SPECS
from lineoa_pipeline_tests.helpers import BuildWarehouse

CHAT = [
    ChatMessage("User", "山田 花子", datetime(2026, 3, 4, 10, 0), "予約したいです"),
    ChatMessage("Account", "受付 佐々木", datetime(2026, 3, 4, 10, 5), "はい"),
]


def _code_references(spec: dg.AssetSpec) -> list[str]:
    value = spec.metadata.get("dagster/code_references")
    assert isinstance(value, dg.CodeReferencesMetadataValue), f"{spec.key.to_user_string()} links no source"
    return [ref.file_path for ref in value.code_references if isinstance(ref, dg.LocalFileCodeReference)]


def test_each_view_asset_comes_from_its_sql_file(definitions: dg.Definitions) -> None:
    specs = {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}
    for view in VIEW_SPECS:
        spec = specs[view.name]
        assert spec.description == view.description
        assert {dep.asset_key.to_user_string() for dep in spec.deps} == {WRITTEN_BY.get(r, r) for r in view.reads}
        schema = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.description) for c in schema.columns] == list(view.columns.items())
        assert _code_references(spec)[0] == str(view.path)
    assert {dep.asset_key.to_user_string() for dep in specs["response_times"].deps} == {"messages", "staged_files"}
    assert {dep.asset_key.to_user_string() for dep in specs["tag_counts"].deps} >= {"response_times", "chat_tags"}


def test_every_asset_links_to_its_source_file(definitions: dg.Definitions) -> None:
    for spec in definitions.resolve_all_asset_specs():
        paths = [Path(p) for p in _code_references(spec)]
        assert paths and all(p.is_file() and p.suffix in (".sql", ".py") for p in paths), (spec.key, paths)


def test_each_view_materialisation_describes_its_columns(build_warehouse: BuildWarehouse) -> None:
    data_dir = build_warehouse({"a.csv": render_export("さくら整体院", CHAT, downloaded_at=datetime(2026, 4, 1))})
    result = dg.materialize([analytics_views], resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))})
    assert result.success
    events = result.asset_materializations_for_node("analytics_views")
    for view, event in zip(VIEW_SPECS, events, strict=True):
        assert event.asset_key == dg.AssetKey(view.name)
        schema = event.metadata["dagster/column_schema"].value
        assert [(c.name, c.description) for c in schema.columns] == list(view.columns.items())
        assert all(c.type for c in schema.columns)
        if "content" in view.columns:  # message text never reaches the event log (frequent_user_texts)
            assert "preview" not in event.metadata, view.name
            continue
        preview = event.metadata["preview"].value
        assert [c.name for c in preview.schema.columns] == list(view.columns)
    assert "preview" not in next(e for e in events if e.asset_key.to_user_string() == "frequent_user_texts").metadata
    counts = {e.asset_key.to_user_string(): e.metadata["dagster/row_count"].value for e in events}
    assert counts["response_times"] == counts["monthly_response_stats"] == 1


def test_the_checks_run_their_sql(build_warehouse: BuildWarehouse) -> None:
    data_dir = build_warehouse({"a.csv": render_export("さくら整体院", CHAT, downloaded_at=datetime(2026, 4, 1))})
    (data_dir.media / "manifest.csv").write_text(
        "account_name,chat_name,sent_at,kind,file,sha256,bytes\n"
        f"さくら整体院,山田花子,2026-03-04T10:00:00+09:00,photo,gone.jpg,{'0' * 64},10\n",
        encoding="utf-8",
    )
    result = dg.materialize(
        [media_files, analytics_views, every_media_file_verified, no_negative_response_time],
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))},
    )
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks[MEDIA_VERIFIED].passed
    assert checks[MEDIA_VERIFIED].metadata["missing_file"].value == 1
    assert checks[NO_NEGATIVE_WAIT].passed and checks[NO_NEGATIVE_WAIT].metadata["bad_inquiries"].value == 0


def test_a_reply_before_its_question_fails_the_check(build_warehouse: BuildWarehouse) -> None:
    data_dir = build_warehouse({"a.csv": render_export("さくら整体院", CHAT, downloaded_at=datetime(2026, 4, 1))})
    resources = {"warehouse": WarehouseResource(data_dir=str(data_dir.root))}
    assert dg.materialize([analytics_views], resources=resources).success
    # response_times as a wrong rule would write it: the answer five minutes before the question
    with write_connection(data_dir) as conn:
        conn.execute(
            """UPDATE _response_times SET replied_at = asked_at - INTERVAL 5 MINUTE, response_seconds = -300,
                                         business_seconds = -300"""
        )
    result = dg.materialize(
        [analytics_views, no_negative_response_time],
        resources=resources,
        selection=dg.AssetSelection.checks(no_negative_response_time),
    )
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == NO_NEGATIVE_WAIT and not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR and check.metadata["bad_inquiries"].value == 1


def test_importing_the_assets_prints_no_beta_warning() -> None:
    """Code references are beta in Dagster 1.13: their warning is silenced where they are made, so that no
    command (each imports the assets, as `lineoa run` does here) prints it."""
    loaded = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import lineoa_pipeline.commands.run"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "BetaWarning" not in loaded.stderr and "SupersessionWarning" not in loaded.stderr, loaded.stderr
