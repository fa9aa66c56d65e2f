"""The Dagster definitions as the UI lists them: everything loads, resolves and explains itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.line_export.render import ChatMessage
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.tables import TABLE_SPECS
from lineoa_pipeline.warehouse.views import VIEW_SPECS
from lineoa_pipeline_tests.helpers import ROOT, write_settings
from lineoa_pipeline_tests.history.sample import CLINIC, write_chat

# The pipeline's core assets; other assets may join them, and the rules below hold for all of them.
CORE_ASSETS = ("archived_inputs", "staged_files", "bulk_backups", "messages", "warehouse_snapshot")
WRITE_POOL = "duckdb_write"


def test_the_definitions_are_loadable(definitions: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(definitions)


def test_the_core_assets_exist(definitions: dg.Definitions) -> None:
    keys = {spec.key.to_user_string() for spec in definitions.resolve_all_asset_specs()}
    assert set(CORE_ASSETS) <= keys, f"missing: {sorted(set(CORE_ASSETS) - keys)}"


def test_every_asset_has_a_description_kinds_and_a_group(definitions: dg.Definitions) -> None:
    specs = list(definitions.resolve_all_asset_specs())
    assert specs
    for spec in specs:
        name = spec.key.to_user_string()
        assert (spec.description or "").strip(), f"{name} has no description"
        assert spec.kinds, f"{name} has no kinds"
        assert spec.group_name and spec.group_name != "default", f"{name} has no group"


def test_every_duckdb_asset_writes_through_the_one_pool(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable and "duckdb" in node.kinds:
            assert node.pools == {WRITE_POOL}, f"{key.to_user_string()} writes DuckDB outside the pool: {node.pools}"


def test_messages_is_monthly_and_backfills_in_one_run(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    node = graph.get(dg.AssetKey("messages"))
    assert isinstance(node.partitions_def, dg.MonthlyPartitionsDefinition)
    assert node.backfill_policy == dg.BackfillPolicy.single_run()
    keys = node.partitions_def.get_partition_keys()
    assert keys and all(k.endswith("-01") and len(k) == 10 for k in keys)
    assert all(not graph.get(key).is_partitioned for key in map(dg.AssetKey, ("archived_inputs", "staged_files")))


def test_every_asset_check_has_a_description(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        assert (spec.description or "").strip(), f"check {check_key.to_user_string()} has no description"


def test_every_job_resolves(definitions: dg.Definitions) -> None:
    repository = definitions.get_repository_def()
    names = {job.name for job in repository.get_all_jobs()}
    assert {"ingest_job", "months_job"} <= names
    for name in names - {"__ASSET_JOB"}:
        job = definitions.resolve_job_def(name)
        assert (job.description or "").strip(), f"job {name} has no description"
        assert job.asset_layer.executable_asset_keys, f"job {name} selects no asset"
    months = definitions.resolve_job_def("months_job").asset_layer.executable_asset_keys
    assert {dg.AssetKey("messages"), dg.AssetKey("warehouse_snapshot")} <= set(months)


def test_every_sensor_and_schedule_resolves_is_described_and_on_by_default(definitions: dg.Definitions) -> None:
    repository = definitions.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs()}
    sensors = {sensor.name: sensor for sensor in repository.sensor_defs}
    assert {"inbox_sensor", "stale_months_sensor"} <= set(sensors)
    for name, sensor in sensors.items():
        assert (sensor.description or "").strip(), f"sensor {name} has no description"
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, f"sensor {name} is off by default"
        if sensor.has_jobs:
            assert {job.name for job in sensor.jobs} <= jobs
        else:
            assert sensor.asset_selection is not None
            assert sensor.asset_selection.resolve(definitions.resolve_asset_graph()), f"sensor {name} selects none"
    for schedule in repository.schedule_defs:
        assert (schedule.description or "").strip(), f"schedule {schedule.name} has no description"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, f"schedule {schedule.name} is off"
        assert schedule.job_name in jobs, f"schedule {schedule.name} targets an unknown job"


def test_dg_check_defs_passes(tmp_path: Path) -> None:
    """`dg check defs` from the project root, as CI and a fresh clone run it (on an empty data directory of
    its own, never the project's `data/`)."""
    venv = Path(sys.executable).parent
    env = {**os.environ, "VIRTUAL_ENV": str(venv.parent), "PATH": f"{venv}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["LINEOA_DATA_DIR"] = str(tmp_path)
    started = time.monotonic()
    result = subprocess.run(
        [str(venv / "dg"), "check", "defs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All definitions loaded successfully" in output, output
    print(f"\n[dg check defs] {time.monotonic() - started:.1f} s")


def _asset_names(definitions: dg.Definitions) -> set[str]:
    return {spec.key.to_user_string() for spec in definitions.resolve_all_asset_specs()}


def _first_month(definitions: dg.Definitions) -> str | None:
    return definitions.resolve_assets_def("messages").partitions_def.get_first_partition_key()  # type: ignore[union-attr]


def test_the_lake_asset_and_its_schedule_only_with_a_lake(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    embedded = build_defs(data_dir)
    assert "lake_files" not in _asset_names(embedded)
    assert "lake_maintenance_schedule" not in {s.name for s in embedded.schedules or []}
    write_settings(
        data_dir, '[warehouse]\ncatalog = "postgres:dbname=nowhere host=127.0.0.1 port=1"\ndata_path = "lake/"\n'
    )
    with_lake = build_defs(data_dir)  # loads though the lake cannot be reached (a run says why)
    assert "lake_files" in _asset_names(with_lake)
    assert with_lake.resolve_job_def("lake_maintenance_job") is not None
    assert "lake_maintenance_schedule" in {s.name for s in with_lake.schedules or []}


def test_months_start_at_the_first_month_with_data_or_the_one_set(pipeline_dir: DataDir) -> None:
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    assert _first_month(build_defs(pipeline_dir)) == f"{now:%Y-%m}-01"  # no data: only the current month
    messages = [ChatMessage("User", "山田花子", datetime(2025, month, 3, 10), f"予約 {month}") for month in (3, 4, 5)]
    write_chat(pipeline_dir, CLINIC, "山田花子", messages, "2025-05-30 18:05")
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and not summary.months_outside
    assert summary.months_written[:3] == ["2025-03", "2025-04", "2025-05"]
    assert _first_month(build_defs(pipeline_dir)) == "2025-03-01"
    with dg.DagsterInstance.get() as instance:  # the run wrote them as partitions: none shows as missing
        assert {"2025-03-01", "2025-04-01", "2025-05-01"} <= instance.get_materialized_partitions(
            dg.AssetKey("messages")
        )

    older = [ChatMessage("User", "佐藤一郎", datetime(2024, 11, 20, 9), "はじめまして")]
    write_chat(pipeline_dir, CLINIC, "佐藤一郎", older, "2024-11-21 18:05")
    summary = run_pipeline(pipeline_dir)  # an older backup: the months grow back to it
    assert summary.ok and summary.months_written[0] == "2024-11"
    assert _first_month(build_defs(pipeline_dir)) == "2024-11-01"

    write_settings(pipeline_dir, 'first_month = "2025-01"\n')
    assert _first_month(build_defs(pipeline_dir)) == "2025-01-01"


def test_every_table_asset_shows_its_described_columns(definitions: dg.Definitions) -> None:
    tables = {"messages": "messages", "staged_files": "source_files", "chat_tags": "chat_tags"}
    tables |= {"media_files": "media_files", "monthly_response_stats": "monthly_response_stats"}
    specs = {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}
    for asset, table in tables.items():
        schema = specs[asset].metadata["dagster/column_schema"]
        described = next(t for t in (*TABLE_SPECS, *VIEW_SPECS) if t.name == table).columns
        assert {c.name: c.description for c in schema.columns} == described, asset
    staged = specs["staged_files"].metadata
    assert {c.name for c in staged["rejected_rows"].columns} == {"source_file", "line", "raw", "reason"}
    assert all(c.description for c in staged["quarantined_files"].columns)
