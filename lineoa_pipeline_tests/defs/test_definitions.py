"""The Dagster definitions as the UI lists them: everything loads, resolves and explains itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from lineoa_pipeline_tests.helpers import ROOT

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
