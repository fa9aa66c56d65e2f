"""The ingest side of the definitions, ticked and materialised for real: `inbox_sensor` (its ticks, cursor
and run keys) and `bulk_backups`, materialised only when a new bulk backup arrives."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import dagster as dg

from lineoa_pipeline.defs.ingest.assets import bulk_backups
from lineoa_pipeline.defs.ingest.sensors import inbox_sensor
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.line_export.render import ChatMessage, render_export, write_bulk_zip
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import IngestDir

CLINIC = "さくら整体院"
CHAT = [ChatMessage("User", "山田 花子", datetime(2026, 3, 1, 10, 0), "予約したいです")]


def _resources(data_dir: DataDir) -> dict[str, WarehouseResource]:
    return {"warehouse": WarehouseResource(data_dir=str(data_dir.root))}


def _tick(data_dir: DataDir, cursor: str | None) -> dg.SensorResult:
    with dg.instance_for_test() as instance:
        return inbox_sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=_resources(data_dir)))


def test_the_inbox_sensor_requests_one_run_per_new_state_of_the_inbox(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    empty = _tick(data_dir, None)
    assert empty.run_requests == [] and empty.skip_reason

    export = data_dir.inbox / "山田花子.csv"
    export.write_bytes(render_export(CLINIC, CHAT, downloaded_at=datetime(2026, 3, 2)))
    first = _tick(data_dir, empty.cursor)
    (request,) = first.run_requests
    assert request.run_key == first.cursor and request.tags == {"lineoa/inbox_files": "1"}

    again = _tick(data_dir, first.cursor)  # nothing changed: no run, the same cursor
    assert again.run_requests == [] and again.skip_reason and again.cursor == first.cursor

    os.utime(export, ns=(1, 1))  # touched (downloaded again under the same name): a run of its own
    touched = _tick(data_dir, again.cursor)
    assert [r.run_key for r in touched.run_requests] == [touched.cursor] and touched.cursor != first.cursor

    (data_dir.inbox / "later").mkdir()
    (data_dir.inbox / "later" / "佐藤.csv").write_bytes(render_export(CLINIC, CHAT, downloaded_at=datetime(2026, 3, 3)))
    (data_dir.inbox / ".partial.csv").write_bytes(b"a hidden file, never listed")
    added = _tick(data_dir, touched.cursor)
    (request,) = added.run_requests
    assert request.tags == {"lineoa/inbox_files": "2"}
    assert len({first.cursor, touched.cursor, added.cursor}) == 3


def test_bulk_backups_materialise_only_when_a_new_bulk_backup_arrives(ingest_dir: IngestDir, tmp_path: Path) -> None:
    def backup(downloaded: datetime) -> bytes:
        path = tmp_path / f"{downloaded:%Y%m%d}.zip"
        write_bulk_zip(path, CLINIC, {"山田花子": CHAT}, downloaded_at=downloaded)
        return path.read_bytes()

    data_dir = ingest_dir.data_dir
    with dg.instance_for_test() as instance:

        def materialised() -> list[dict]:
            result = dg.materialize([bulk_backups], instance=instance, resources=_resources(data_dir))
            assert result.success
            return [
                {k: v.value for k, v in e.materialization.metadata.items()}
                for e in result.get_asset_materialization_events()
            ]

        ingest_dir.drop("山田花子.csv", render_export(CLINIC, CHAT, downloaded_at=datetime(2026, 3, 2)))
        ingest_dir.ingest()
        assert materialised() == []  # a single chat's export is no bulk backup

        ingest_dir.drop("backup1.zip", backup(datetime(2026, 3, 2, 9, 0)))
        ingest_dir.ingest()
        (meta,) = materialised()
        assert meta["accounts"] == 1 and meta["last_bulk_backup_at"] == {CLINIC: "2026-03-02T00:00:00+00:00"}

        assert materialised() == []  # no new backup: no materialisation, so its freshness can lapse

        ingest_dir.drop("backup2.zip", backup(datetime(2026, 3, 9, 9, 0)))
        ingest_dir.ingest()
        (meta,) = materialised()
        assert meta["last_bulk_backup_at"] == {CLINIC: "2026-03-09T00:00:00+00:00"}
        assert instance.get_latest_materialization_event(dg.AssetKey("bulk_backups")) is not None
