"""The stale-months sensor: the runner's decision, for the runs a command did not start itself."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.defs.ingest.sensors import stale_months_sensor
from lineoa_pipeline.defs.partitions import range_tags
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir


def drop(data_dir: DataDir, name: str, *months: int) -> None:
    messages = [ChatMessage("User", "山田", datetime(2026, m, 5, 10), f"#{m}") for m in months]
    (data_dir.inbox / name).write_bytes(render_export("A", messages, downloaded_at=datetime(2026, 4, 1, 9)))


def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    return stale_months_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_it_follows_a_ui_staging_and_leaves_a_commands_to_the_command(pipeline_dir: DataDir) -> None:
    with dg.instance_for_test() as instance:
        drop(pipeline_dir, "a.csv", 1, 2)
        assert run_pipeline(pipeline_dir, instance).ok  # `lineoa run`: it writes its months itself
        first = tick(instance, None)
        assert first.run_requests == [] and "command-line" in (first.skip_message or "")
        definitions = build_defs(pipeline_dir)  # as the UI loads them: the months from the first with data on
        ingest = definitions.resolve_job_def("ingest_job")

        drop(pipeline_dir, "b.csv", 2, 3)  # then a run the UI or the inbox sensor started
        assert ingest.execute_in_process(instance=instance).success
        second = tick(instance, first.cursor)
        (request,) = second.run_requests
        assert range_tags(["2026-02-01", "2026-03-01"]).items() <= request.tags.items()

        months = definitions.resolve_job_def("months_job")
        assert months.execute_in_process(instance=instance, tags=request.tags).success  # as the daemon runs it
        assert ingest.execute_in_process(instance=instance).success  # nothing new: no months run
        third = tick(instance, second.cursor)
        assert third.run_requests == []
