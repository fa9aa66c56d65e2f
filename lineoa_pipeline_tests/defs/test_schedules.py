"""The schedules, ticked with `build_schedule_context` at a chosen instant, in the settings' time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.defs.partitions import RANGE_END, RANGE_START
from lineoa_pipeline.settings.datadir import DataDir

LAKE = '[warehouse]\ncatalog = "postgres:dbname=lineoa host=db.example.internal user=lineoa"\ndata_path = "lake"\n'


def _definitions(tmp_path: Path, settings: str) -> dg.Definitions:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    data_dir.settings_file.write_text(settings, encoding="utf-8")
    return build_defs(data_dir)


def _tick(definitions: dg.Definitions, name: str, at: datetime) -> dg.RunRequest:
    schedule = definitions.resolve_schedule_def(name)
    with dg.instance_for_test() as instance:
        (request,) = schedule.evaluate_tick(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=at)
        ).run_requests
    return request


def test_the_monthly_refresh_rewrites_the_month_just_ended_and_the_new_one(tmp_path: Path) -> None:
    definitions = _definitions(tmp_path, 'timezone = "Asia/Bangkok"\nfirst_month = "2025-01"\n')
    schedule = definitions.resolve_schedule_def("monthly_refresh_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 1 * *", "Asia/Bangkok")
    assert schedule.job_name == "months_job"
    for at, (first, last) in (
        (datetime(2026, 4, 1, 6, 0, tzinfo=ZoneInfo("Asia/Bangkok")), ("2026-03-01", "2026-04-01")),
        (datetime(2027, 1, 1, 6, 0, tzinfo=ZoneInfo("Asia/Bangkok")), ("2026-12-01", "2027-01-01")),
    ):
        request = _tick(definitions, "monthly_refresh_schedule", at)
        assert request.run_key == f"refresh-{last}"
        assert (request.tags[RANGE_START], request.tags[RANGE_END]) == (first, last)


def test_a_lake_gets_its_nightly_maintenance_and_the_embedded_file_none(tmp_path: Path) -> None:
    embedded = _definitions(tmp_path / "embedded", "")
    repository = embedded.get_repository_def()
    assert "lake_maintenance_schedule" not in {s.name for s in repository.schedule_defs}
    assert not repository.has_job("lake_maintenance_job")  # the UI shows no lake where there is none
    assert dg.AssetKey("lake_files") not in repository.asset_graph.get_all_asset_keys()

    # with [warehouse] the schedule runs it every night at 03:30 in the settings' time zone
    lake = _definitions(tmp_path / "lake", f'timezone = "Asia/Taipei"\n{LAKE}')
    schedule = lake.resolve_schedule_def("lake_maintenance_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * *", "Asia/Taipei")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    request = _tick(lake, "lake_maintenance_schedule", datetime(2026, 4, 2, 3, 30, tzinfo=ZoneInfo("Asia/Taipei")))
    assert request.job_name in (None, "lake_maintenance_job") and schedule.job_name == "lake_maintenance_job"
    job = lake.resolve_job_def("lake_maintenance_job")
    assert job.asset_layer.executable_asset_keys == {dg.AssetKey("lake_files")}
