"""Ingest through the Dagster definitions: every month materialised, rewritten, never doubled.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

from datetime import date, datetime

import dagster as dg
import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.defs.ingest.assets import messages as messages_asset
from lineoa_pipeline.defs.partitions import range_tags
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.line_export.render import write_bulk_zip
from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.connection import connect, published_marker, write_connection
from lineoa_pipeline_tests.helpers import read_tables, snapshot_tables
from lineoa_pipeline_tests.ingest.chats import CHAT, DOWNLOADED, GOOD, export, msg, unknown_header

# --- through the Dagster definitions ----------------------------------------------------------------------


def test_lineoa_run_materialises_every_month_through_the_dagster_definitions(
    pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    write_bulk_zip(
        pipeline_dir.inbox / "backups" / "bulk.zip", "さくら整体院", {"山田 花子": CHAT}, downloaded_at=DOWNLOADED
    )
    (pipeline_dir.inbox / "bad.csv").write_bytes(unknown_header())
    (pipeline_dir.inbox / "rej.csv").write_bytes(export(GOOD, account="Other") + b"User,x,2026/03/01\r\n")
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    out = capsys.readouterr().out
    assert "files loaded 2" in out and "quarantined 1" in out and "messages new 9" in out
    assert "rows rejected 1" in out and "months written 3 (2026-01 to 2026-03); retention alerts new " in out
    reader = connect(pipeline_dir.root)  # the snapshot a notebook opens
    try:
        assert reader.execute("SELECT month, count(*) FROM messages GROUP BY 1 ORDER BY 1").fetchall() == [
            (date(2026, 1, 1), 2),
            (date(2026, 2, 1), 3),
            (date(2026, 3, 1), 4),
        ]
    finally:
        reader.close()
    # Run again with no new input: no row changes, not even a time stamp.
    every_column = {
        table: f"SELECT * FROM {table} ORDER BY ALL"
        for table in ("messages", "source_files", "quarantined_files", "rejected_rows")
    }
    with write_connection(pipeline_dir) as conn:
        before = {table: conn.execute(query).fetchall() for table, query in every_column.items()}
    snapshot = published_marker(pipeline_dir)  # the snapshot, or with a lake the time readers last got a run
    published = snapshot.stat().st_mtime_ns
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    out = capsys.readouterr().out
    assert "files loaded 0" in out and "messages new 0" in out and "months written 0" in out
    assert "nothing new since the last run" in out and snapshot.stat().st_mtime_ns == published
    with write_connection(pipeline_dir) as conn:
        assert {table: conn.execute(query).fetchall() for table, query in every_column.items()} == before
    # A new tag file is something new: the analytics and the snapshot follow.
    pipeline_dir.tags.mkdir(exist_ok=True)
    (pipeline_dir.tags / "tags.csv").write_text("account_name,chat_name,tag\nさくら整体院,山田 花子,vip\n")
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    assert "nothing new" not in capsys.readouterr().out and snapshot.stat().st_mtime_ns > published
    reader = connect(pipeline_dir.root)
    try:
        assert reader.execute("SELECT tag FROM chat_tags").fetchall() == [("vip",)]
    finally:
        reader.close()


def test_a_chat_that_becomes_a_group_rewrites_its_earlier_months(pipeline_dir: DataDir) -> None:
    (pipeline_dir.inbox / "1.csv").write_bytes(
        export([msg("User", "田中", "2026-01-05 10:00:00", "a")], downloaded_at=datetime(2026, 1, 6, 9, 0))
    )
    assert run_pipeline(pipeline_dir).ok
    assert snapshot_tables(pipeline_dir)["messages"][0][3] == "one_to_one"
    (pipeline_dir.inbox / "2" / "1.csv").parent.mkdir()
    # the chat's next export lists a second user: one file with two user names makes it a group
    (pipeline_dir.inbox / "2" / "1.csv").write_bytes(
        export(
            [msg("User", "田中", "2026-01-05 10:00:00", "a"), msg("User", "伊藤", "2026-03-05 10:00:00", "b")],
            downloaded_at=datetime(2026, 3, 6, 9, 0),
        )
    )
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.months_written == ["2026-01", "2026-02", "2026-03"]
    assert {row[3] for row in snapshot_tables(pipeline_dir)["messages"]} == {"group"}


def test_rematerialising_months_replaces_them_and_never_doubles(pipeline_dir: DataDir) -> None:
    write_bulk_zip(pipeline_dir.inbox / "bulk.zip", "さくら整体院", {"山田 花子": CHAT}, downloaded_at=DOWNLOADED)
    assert run_pipeline(pipeline_dir).ok
    with write_connection(pipeline_dir) as conn:
        before = read_tables(conn)
    months_job = build_defs(pipeline_dir).resolve_job_def("months_job")
    with dg.DagsterInstance.ephemeral() as instance:
        result = months_job.execute_in_process(instance=instance, tags=range_tags(["2026-01-01", "2026-03-01"]))
        assert result.success
        one = dg.materialize(
            [messages_asset],
            partition_key="2026-03-01",
            resources={"warehouse": WarehouseResource(data_dir=str(pipeline_dir.root))},
            instance=instance,
        )
        assert one.success
        # counted work: with the same settings, writing months again rewrites no row
        written = [
            *result.asset_materializations_for_node("messages"),
            *one.asset_materializations_for_node("messages"),
        ]
        assert len(written) == 4 and {m.metadata["rows_reclassified"].value for m in written} == {0}
    with write_connection(pipeline_dir) as conn:
        assert read_tables(conn) == before
        # ... and after a settings change, only the rows whose class it changes
        sync_settings(conn, parse_settings({"auto_reply_names": ["受付 佐々木"]}))
        changed = write_months(conn, date(2026, 1, 1), date(2026, 3, 1))
        staff = sum(1 for m in CHAT if m.sender_type == "Account" and m.sender_name == "受付 佐々木")
        assert changed == (len(CHAT), staff) and staff > 0
    assert [len(before["messages"])] == [len(CHAT)]
