"""The one Dagster instance: where `lineoa run` records its runs, and the months it reports to the UI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from lineoa_pipeline.commands.instance import (
    INSTANCE_SETTINGS,
    STARTED_BY,
    fail_abandoned_runs,
    instance_home,
    open_instance,
    record_months_held,
)
from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir

MONTHS = ["2026-01-01", "2026-02-01", "2026-03-01"]


def three_months(data_dir: DataDir) -> None:
    messages = [ChatMessage("User", "山田", datetime(2026, m, 5, 10), f"#{m}") for m in (1, 2, 3)]
    data_dir.inbox.mkdir(parents=True, exist_ok=True)
    (data_dir.inbox / "山田.csv").write_bytes(
        render_export("さくら整体院", messages, downloaded_at=datetime(2026, 3, 6, 9))
    )


def test_lineoa_run_records_its_runs_and_months_in_the_data_directorys_instance(
    pipeline_dir: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    three_months(pipeline_dir)
    assert run_pipeline(pipeline_dir).ok
    home = pipeline_dir.root / ".dagster"
    assert (home / "dagster.yaml").read_bytes() == INSTANCE_SETTINGS.read_bytes()
    with open_instance(pipeline_dir) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        runs = [r.dagster_run for r in instance.get_run_records()]
        assert sorted(r.job_name for r in runs) == ["ingest_job", "months_job"]
        assert all(STARTED_BY.items() <= r.tags.items() and r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert instance.get_materialized_partitions(dg.AssetKey("messages")) == set(MONTHS)
        assert record_months_held(instance, pipeline_dir) == []  # the runs recorded every month


def test_dagster_home_wins_over_the_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    data_dir = DataDir(tmp_path / "data")
    assert instance_home(data_dir) == tmp_path / "home"
    assert not (data_dir.root / ".dagster").exists()


def test_months_written_without_a_recorded_run_are_reported_once(
    pipeline_dir: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    three_months(pipeline_dir)
    with dg.DagsterInstance.ephemeral() as elsewhere:  # as an older data directory or a copy was written
        assert run_pipeline(pipeline_dir, elsewhere).ok
    with open_instance(pipeline_dir) as instance:
        assert instance.get_materialized_partitions(dg.AssetKey("messages")) == set()
        assert record_months_held(instance, pipeline_dir) == MONTHS
        assert record_months_held(instance, pipeline_dir) == []
        assert instance.get_materialized_partitions(dg.AssetKey("messages")) == set(MONTHS)
        event = instance.get_latest_materialization_event(dg.AssetKey("messages"))
        assert event and event.asset_materialization
        assert event.asset_materialization.metadata["dagster/row_count"] == dg.MetadataValue.int(1)


def test_a_killed_commands_unfinished_runs_are_marked_failed(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        ours = instance.add_run(dg.DagsterRun("ingest_job", status=dg.DagsterRunStatus.STARTED, tags=STARTED_BY))
        daemons = instance.add_run(dg.DagsterRun("ingest_job", status=dg.DagsterRunStatus.STARTED))
        assert fail_abandoned_runs(instance) == 1
        assert instance.get_run_by_id(ours.run_id).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
        assert instance.get_run_by_id(daemons.run_id).status == dg.DagsterRunStatus.STARTED  # type: ignore[union-attr]


def test_the_definitions_take_the_months_of_the_data_directory_they_are_built_for(pipeline_dir: DataDir) -> None:
    # This process imported the definitions long ago, with another data directory's settings.
    pipeline_dir.settings_file.write_text('first_month = "2025-12"\ntimezone = "Asia/Bangkok"\n')
    three_months(pipeline_dir)
    months = build_defs(pipeline_dir).resolve_assets_def("messages").partitions_def
    assert isinstance(months, dg.MonthlyPartitionsDefinition)
    assert (months.get_first_partition_key(), months.timezone) == ("2025-12-01", "Asia/Bangkok")
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.months_written == ["2026-01", "2026-02", "2026-03"]
    schedules = {s.name: s for s in build_defs(pipeline_dir).schedules}  # type: ignore[union-attr]
    assert schedules["daily_retention_schedule"].execution_timezone == "Asia/Bangkok"
