"""Unchanged files: a file with the rows of a file staged before is stored from that file's counts, unparsed.

Real DuckDB files under tmp_path, the real ingest code and `lineoa run`/`rebuild`, exports in LINE's format.
"""

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.staged import BodyHash
from lineoa_pipeline.ingest.staging import stage_pending
from lineoa_pipeline.line_export.render import write_bulk_zip
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import IngestDir, read_tables
from lineoa_pipeline_tests.ingest.chats import CHAT, DOWNLOADED, GOOD, export, msg, reconciled

WEEK = timedelta(days=7)
NEW = msg("User", "佐藤 一郎", "2026-04-05 10:00:00", "来週また")
REJECTS = "User,x,2026/13/45,08:00:00,bad date\r\nBot,x,2026/03/02,08:00:00,who\r\nUser,x,2026/03/02\r\n"


def _week(inbox: Path, downloaded: datetime, *, new_message: bool) -> None:
    """One weekly backup: a bulk zip (one chat unchanged, one with a new message when `new_message`) and
    loose CSVs: one with rejected rows, the same chat for another account and in another time zone, and an
    Excel re-save of the zip's first chat (its text, in cp932)."""
    stamp = f"{downloaded:%Y%m%d}"
    write_bulk_zip(
        inbox / f"bulk_{stamp}.zip",
        "さくら整体院",
        {"山田 花子": CHAT, "佐藤 一郎": GOOD + ([NEW] if new_message else [])},
        downloaded_at=downloaded,
    )
    loose = {
        "rejects/受付.csv": export(GOOD, downloaded_at=downloaded) + REJECTS.encode(),
        "other/山田花子.csv": export(CHAT, account="他院", downloaded_at=downloaded),
        "utc/山田花子.csv": export(CHAT, tz_offset="+00:00", downloaded_at=downloaded),
        "excel/山田花子.csv": export(CHAT, excel=True, downloaded_at=downloaded),
    }
    for name, data in loose.items():
        path = inbox / stamp / name
        path.parent.mkdir(parents=True)
        path.write_bytes(data)


def test_a_file_with_the_rows_of_one_staged_before_is_not_parsed_and_stores_what_parsing_it_would(
    tmp_path: Path,
) -> None:
    weekly, at_once = (IngestDir(DataDir(tmp_path / name)) for name in ("weekly", "at_once"))
    for ingest_dir in (weekly, at_once):
        ingest_dir.data_dir.create()
    _week(weekly.data_dir.inbox, DOWNLOADED, new_message=False)
    first = weekly.ingest()
    assert (first.files_loaded, first.files_unchanged, first.files_parsed) == (6, 0, 6)
    # a week later: everything re-downloaded, only the download-time line differs but in one chat
    later = DOWNLOADED + WEEK
    _week(weekly.data_dir.inbox, later, new_message=True)
    second = weekly.ingest()
    # the zip's unchanged chat, the re-downloaded rejects and the chat of the other account and time zone
    assert (second.files_loaded, second.files_unchanged, second.files_parsed) == (6, 4, 2)
    assert (second.messages_new, second.rejected) == (1, 3)
    assert second.rows_read == second.messages_new + second.duplicates + second.rejected
    assert reconciled(weekly) == []

    # The same files taken in by one run, in one batch, every one parsed: the same tables.
    _week(at_once.data_dir.inbox, DOWNLOADED, new_message=False)
    _week(at_once.data_dir.inbox, later, new_message=True)
    reference = at_once.ingest()
    assert (reference.files_unchanged, reference.files_parsed) == (0, 12)
    with write_connection(weekly.data_dir) as a, write_connection(at_once.data_dir) as b:
        assert read_tables(a) == read_tables(b)
    assert weekly.query(
        "SELECT rows_read, messages_new, duplicates, rejected FROM source_files WHERE file_path = ?",
        [f"{later:%Y%m%d}/rejects/受付.csv"],
    ) == [(5, 0, 2, 3)]
    assert weekly.query(
        "SELECT count(*) FROM rejected_rows WHERE source_file = ?", [f"{later:%Y%m%d}/rejects/受付.csv"]
    ) == [(3,)]


def test_in_one_run_a_later_batch_matches_the_files_of_an_earlier_one(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    _week(data_dir.inbox, DOWNLOADED, new_message=False)
    _week(data_dir.inbox, DOWNLOADED + WEEK, new_message=True)
    with write_connection(data_dir) as conn:
        archive_inbox(conn, data_dir, log=lambda _: None)
        report = stage_pending(conn, data_dir, log=lambda _: None, batch_files=6)  # a week a batch
    assert (report.files_loaded, report.files_unchanged, report.files_parsed) == (12, 4, 8)


def test_the_same_rows_for_another_account_chat_or_time_zone_are_parsed(tmp_path: Path) -> None:
    ingest_dir = IngestDir(DataDir(tmp_path / "data"))
    ingest_dir.data_dir.create()
    ingest_dir.drop("a/山田花子.csv", export(CHAT))
    assert ingest_dir.ingest().files_parsed == 1
    for name, data in {
        "b/山田花子.csv": export(CHAT, account="他院", downloaded_at=DOWNLOADED + WEEK),
        "c/佐藤一郎.csv": export(CHAT, downloaded_at=DOWNLOADED + WEEK),
        "d/山田花子.csv": export(CHAT, tz_offset="+08:00", downloaded_at=DOWNLOADED + WEEK),
    }.items():
        ingest_dir.drop(name, data)
    report = ingest_dir.ingest()
    assert (report.files_unchanged, report.files_parsed, report.messages_new) == (0, 3, 3 * len(CHAT))
    ingest_dir.drop("e/山田花子.csv", export(CHAT, downloaded_at=DOWNLOADED + 2 * WEEK))
    report = ingest_dir.ingest()
    assert (report.files_unchanged, report.files_parsed, report.duplicates) == (1, 0, len(CHAT))


def test_lineoa_run_says_how_many_files_it_did_not_parse_and_rebuild_gives_the_same_tables(
    pipeline_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    _week(pipeline_dir.inbox, DOWNLOADED, new_message=False)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    assert "unchanged" not in capsys.readouterr().out  # a first backup: every file parsed
    _week(pipeline_dir.inbox, DOWNLOADED + WEEK, new_message=True)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    out = capsys.readouterr().out
    assert "files loaded 6 (4 unchanged, not parsed)" in out and "messages new 1" in out
    with write_connection(pipeline_dir) as conn:
        before = read_tables(conn)
    assert cli.main(["rebuild", "--data-dir", str(pipeline_dir.root)]) == 0
    with write_connection(pipeline_dir) as conn:
        assert read_tables(conn) == before


@pytest.mark.parametrize("size", [1, 2, 7, 1 << 20])
def test_a_body_hash_is_of_the_bytes_after_the_third_line_however_the_file_is_cut(size: int) -> None:
    data = export(CHAT)
    body = data.split(b"\n", 3)[3]
    hasher = BodyHash()
    for at in range(0, len(data), size):
        hasher.update(data[at : at + size])
    assert hasher.hexdigest() == hashlib.sha256(body).hexdigest()
