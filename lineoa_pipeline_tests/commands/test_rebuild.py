"""`lineoa rebuild`: the warehouse recreated from `archive/` alone gives the same tables as the runs that
filled it, and the counts a fresh run of the same inputs gives."""

from __future__ import annotations

import errno
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.defs.ingest import assets as message_assets
from lineoa_pipeline.ingest.archive import Archive
from lineoa_pipeline.line_export.render import render_export, write_bulk_zip
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.classify import write_months as real_write_months
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import msg, read_tables, snapshot_tables

CHAT = [
    msg("User", "山田 花子", "2026-01-10 10:00:00", "予約したいです"),
    msg("Account", "応答メッセージ", "2026-01-10 10:00:00", "メッセージありがとうございます。"),
    msg("Account", "受付 佐々木", "2026-01-10 10:05:00", "はい、可能です。\n明日10時は?"),
    msg("User", "山田 花子", "2026-02-14 12:00:00", "写真を送信しました。"),
    msg("User", "山田 花子", "2026-02-14 12:00:00", "写真を送信しました。"),
    msg("User", "山田 花子", "2026-03-31 23:59:58", "=また来月"),
]
GROUP = [msg("User", "田中", "2026-02-01 10:00:00", "参加します"), msg("User", "伊藤", "2026-02-01 10:05:00", "私も")]


def first_inputs(inbox: Path) -> None:
    write_bulk_zip(
        inbox / "backups" / "bulk_backup_20260215.zip",
        "さくら整体院",
        {"山田 花子": CHAT[:5], "ヨガ教室": GROUP, "無言": []},
        downloaded_at=datetime(2026, 2, 15, 9, 0),
    )
    (inbox / "excel").mkdir()
    (inbox / "excel" / "20260110_20260110_山田花子.csv").write_bytes(
        render_export("さくら整体院", CHAT[:3], downloaded_at=datetime(2026, 2, 16, 9, 0), excel=True)
    )
    whole = render_export("さくら整体院", CHAT, downloaded_at=datetime(2026, 4, 1))
    (inbox / "bad.csv").write_bytes(whole[: whole.index("明日".encode())])  # cut off inside a quoted message
    (inbox / "rejects.csv").write_bytes(
        render_export("Bangkok", [], lang="th", tz_offset="+07:00", downloaded_at=datetime(2026, 3, 1))
        + b"User,x,2026/02/30,10:00:00,no such day\r\nUser,x,2026/02/01,10:00:00,ok\r\n"
    )


def second_inputs(inbox: Path) -> None:
    write_bulk_zip(
        inbox / "backups" / "bulk_backup_20260401.zip",
        "さくら整体院",
        {"山田 花子": CHAT, "ヨガ教室": GROUP},
        downloaded_at=datetime(2026, 4, 1, 9, 0),
    )
    (inbox / "resaved").mkdir()
    shutil.copy(inbox / "rejects.csv", inbox / "resaved" / "rejects.csv")  # the same bytes again: ingested once


def summary_counts(output: str) -> str:
    """The counts of a run's closing line, without its wall time."""
    (line,) = [x for x in output.splitlines() if x.startswith(("done:", "FAILED:"))]
    return re.sub(r"; took [\d.]+ s$", "", line)


def test_rebuild_from_the_archive_alone_gives_the_same_tables(
    pipeline_dir: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first_inputs(pipeline_dir.inbox)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    second_inputs(pipeline_dir.inbox)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    capsys.readouterr()
    with write_connection(pipeline_dir) as conn:
        before = read_tables(conn)
    assert len(before["messages"]) == len(CHAT) + len(GROUP) + 1
    assert len(before["quarantined_files"]) == 1 and len(before["rejected_rows"]) == 1
    assert {row[0] for row in before["source_files"]} >= {"rejects.csv", "excel/20260110_20260110_山田花子.csv"}

    # The warehouse file is corrupt and the inbox emptied: the archive alone is enough.
    shutil.rmtree(pipeline_dir.inbox)
    pipeline_dir.warehouse.write_bytes(b"not a database any more")
    archive = pipeline_dir.archive
    (archive / ("0" * 64)).write_bytes(b"half-written: its name is not its hash")  # never trusted
    (archive / ".incoming.0123abcd.tmp").write_bytes(b"left by a killed run")
    assert cli.main(["rebuild", "--data-dir", str(pipeline_dir.root)]) == 0
    rebuilt = capsys.readouterr().out
    with write_connection(pipeline_dir) as conn:
        assert read_tables(conn) == before
    assert snapshot_tables(pipeline_dir) == before
    assert "0" * 64 not in Archive(archive).entries()
    assert not (archive / ".incoming.0123abcd.tmp").exists()

    # ... and its counts are those of a fresh run of every input at once.
    fresh = DataDir(tmp_path / "fresh")
    fresh.create()
    first_inputs(fresh.inbox)
    second_inputs(fresh.inbox)
    monkeypatch.setenv("LINEOA_DATA_DIR", str(fresh.root))
    assert cli.main(["run", "--data-dir", str(fresh.root)]) == 0
    assert summary_counts(capsys.readouterr().out) == summary_counts(rebuilt)
    assert snapshot_tables(fresh) == before


def test_rebuild_keeps_the_old_warehouse_aside_only_until_the_new_one_is_published(
    pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    first_inputs(pipeline_dir.inbox)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    earlier = pipeline_dir.root / "warehouse.duckdb.before-rebuild"  # left by an earlier version's rebuild
    earlier.write_bytes(b"the only copy of something")
    with write_connection(pipeline_dir) as conn:
        before = read_tables(conn)
    for _ in range(2):
        assert cli.main(["rebuild", "--data-dir", str(pipeline_dir.root)]) == 0
        with write_connection(pipeline_dir) as conn:
            assert read_tables(conn) == before
    assert earlier.read_bytes() == b"the only copy of something"  # used to be overwritten by the next rebuild
    assert [p.name for p in pipeline_dir.root.glob("*before-rebuild*")] == [earlier.name]


@pytest.mark.parametrize("archive", ["missing", "empty", "only leftovers"])
def test_rebuild_without_an_archive_stops_in_one_line_and_keeps_the_warehouse(
    pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str], archive: str
) -> None:
    if lake.configured(pipeline_dir) is not None:
        pytest.skip("the bytes of warehouse.duckdb: the embedded file's case")
    first_inputs(pipeline_dir.inbox)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    capsys.readouterr()
    warehouse = pipeline_dir.warehouse.read_bytes()
    shutil.rmtree(pipeline_dir.archive)
    if archive != "missing":
        pipeline_dir.archive.mkdir()
    if archive == "only leftovers":
        (pipeline_dir.archive / ".incoming.0123abcd.tmp").write_bytes(b"left by a killed run")
    assert cli.main(["rebuild", "--data-dir", str(pipeline_dir.root)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"lineoa: nothing to rebuild from: {pipeline_dir.archive} is missing or holds no archived input; "
        "the warehouse is left as it is"
    )
    assert pipeline_dir.warehouse.read_bytes() == warehouse
    assert not list(pipeline_dir.root.glob("*before-rebuild*"))


def test_a_failed_rebuild_puts_the_old_warehouse_back(pipeline_dir: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    if lake.configured(pipeline_dir) is not None:
        pytest.skip("warehouse.duckdb set aside and put back: the embedded file's case (a lake drops its tables)")
    first_inputs(pipeline_dir.inbox)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    with write_connection(pipeline_dir) as conn:
        before = read_tables(conn)
    warehouse = pipeline_dir.warehouse.read_bytes()
    wal = pipeline_dir.warehouse.with_name("warehouse.duckdb.wal")
    seen: list[tuple[bool, int]] = []

    def fails_after_writing(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> None:
        """The real month write, committed to the new warehouse's write-ahead log (never checkpointed, as by
        a process that dies), then a failure: the disk is full."""
        conn.execute("PRAGMA disable_checkpoint_on_shutdown")
        conn.execute("SET checkpoint_threshold = '1TB'")
        real_write_months(conn, first, last)
        seen.append((pipeline_dir.warehouse.exists(), wal.stat().st_size if wal.exists() else 0))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(message_assets, "write_months", fails_after_writing)
    assert cli.main(["rebuild", "--data-dir", str(pipeline_dir.root)]) == 1
    assert seen and seen[0][0] and seen[0][1] > 0  # it failed with a half-built file and its log beside it
    assert pipeline_dir.warehouse.read_bytes() == warehouse and not wal.exists()
    assert not list(pipeline_dir.root.glob("*before-rebuild*"))
    with write_connection(pipeline_dir) as conn:
        assert read_tables(conn) == before
