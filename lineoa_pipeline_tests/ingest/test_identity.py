"""Identity and de-duplication: each message stored once, from the first download; chats named by their files.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

import hashlib
import shutil
import zipfile
from collections import Counter
from datetime import date, datetime, timedelta

from lineoa_pipeline.commands.run import rebuild_warehouse, run_pipeline
from lineoa_pipeline.ingest.archive import Archive
from lineoa_pipeline.line_export.render import write_bulk_zip
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import ENGLISH
from lineoa_pipeline_tests.helpers import IngestDir, snapshot_tables, write_settings
from lineoa_pipeline_tests.ingest.chats import CHAT, DOWNLOADED, JST, export, msg, reconciled, window

# --- identity and de-duplication --------------------------------------------------------------------------


def test_a_chat_downloaded_again_over_its_earlier_export_loads_its_new_messages(ingest_dir: IngestDir) -> None:
    # The browser saves the later download under the same name, over the earlier one: other bytes, one path.
    ingest_dir.drop("山田花子.csv", export(window("2026-01-10", "2026-02-14"), downloaded_at=datetime(2026, 2, 15, 9)))
    assert ingest_dir.ingest().messages_new == 5
    ingest_dir.drop("山田花子.csv", export(CHAT, downloaded_at=datetime(2026, 4, 1, 9)))
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.messages_new, report.duplicates) == (1, 2, 5)
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(7,)]


def test_overlapping_exports_store_each_message_once_from_the_first_download(ingest_dir: IngestDir) -> None:
    # Path order is the reverse of download order: the run must take them in download order.
    exports = {
        "a/20260214_20260331_山田花子.csv": (window("2026-02-14", "2026-03-31"), datetime(2026, 4, 1, 9, 0)),
        "b/20260110_20260214_山田花子.csv": (window("2026-01-10", "2026-02-14"), datetime(2026, 2, 15, 9, 0)),
        "c/20260110_20260331_山田花子 (2).csv": (CHAT, datetime(2026, 4, 1, 10, 0)),
    }
    for path, (rows, downloaded) in exports.items():
        ingest_dir.drop(path, export(rows, downloaded_at=downloaded))
    report = ingest_dir.ingest()
    assert (report.rows_read, report.messages_new, report.duplicates) == (5 + 5 + 7, 7, 10)
    assert ingest_dir.query(
        "SELECT file_path, rows_read, messages_new, duplicates, rejected FROM source_files ORDER BY downloaded_at"
    ) == [
        ("b/20260110_20260214_山田花子.csv", 5, 5, 0, 0),
        ("a/20260214_20260331_山田花子.csv", 5, 2, 3, 0),
        ("c/20260110_20260331_山田花子 (2).csv", 7, 0, 7, 0),
    ]
    stored = ingest_dir.query("SELECT sent_at, content, source_file FROM messages ORDER BY sent_at, export_seq")
    assert [(s, c) for s, c, _ in stored] == [(m.sent_at.replace(tzinfo=JST), m.content) for m in CHAT]
    assert Counter(f for _, _, f in stored) == {
        "b/20260110_20260214_山田花子.csv": 5,
        "a/20260214_20260331_山田花子.csv": 2,
    }
    assert ingest_dir.query("SELECT DISTINCT chat_name FROM messages") == [("山田花子",)]
    # A later run with one more overlapping export adds only what is new.
    later = [*CHAT, msg("User", "山田 花子", "2026-04-02 08:00:00", "今日行きます")]
    ingest_dir.drop("d/20260110_20260402_山田花子.csv", export(later, downloaded_at=datetime(2026, 4, 2, 9, 0)))
    report = ingest_dir.ingest()
    assert (report.messages_new, report.duplicates) == (1, 7)
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(8,)]
    assert reconciled(ingest_dir) == []


def test_two_identical_photos_in_one_second_are_two_messages(ingest_dir: IngestDir) -> None:
    photo = "写真を送信しました。"
    rows = [
        msg("User", "山田", "2026-03-04 10:00:00", photo),
        msg("User", "山田", "2026-03-04 10:00:00", photo),
        msg("User", "鈴木", "2026-03-04 10:00:00", photo),  # the sender's name is not part of the identity
        msg("Account", "受付", "2026-03-04 10:00:00", photo),  # the sender type is
    ]
    ingest_dir.drop("20260304_20260304_group.csv", export(rows))
    ingest_dir.ingest()
    assert ingest_dir.query("SELECT count(*), count(DISTINCT message_id) FROM messages") == [(4, 4)]
    # The same four rows in a later export are the same four messages.
    ingest_dir.drop("20260301_20260305_group.csv", export(rows, downloaded_at=datetime(2026, 4, 3, 9, 0)))
    report = ingest_dir.ingest()
    assert (report.messages_new, report.duplicates) == (0, 4)
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(4,)]


def test_a_month_ends_at_local_midnight_in_each_accounts_zone(ingest_dir: IngestDir) -> None:
    rows = [
        msg("User", "A", "2026-03-31 23:59:58", "last of March"),
        msg("User", "A", "2026-03-31 23:59:59", "very last of March"),
        msg("User", "A", "2026-04-01 00:00:00", "first of April"),
        msg("User", "A", "2024-02-29 23:59:58", "leap day"),
        msg("User", "A", "2025-12-31 23:59:59", "new year's eve"),
    ]
    ingest_dir.drop("tokyo/A.csv", export(rows, account="Tokyo", tz_offset="+09:00"))
    ingest_dir.drop("bangkok/A.csv", export(rows, account="Bangkok", lang="th", tz_offset="+07:00"))
    ingest_dir.ingest()
    months = {(a, c): m for a, c, m in ingest_dir.query("SELECT account_name, content, month FROM messages")}
    for account in ("Tokyo", "Bangkok"):
        assert months[account, "last of March"] == months[account, "very last of March"] == date(2026, 3, 1)
        assert months[account, "first of April"] == date(2026, 4, 1)
        assert months[account, "leap day"] == date(2024, 2, 1)
        assert months[account, "new year's eve"] == date(2025, 12, 1)
    # 23:59:58 on 31 March in Bangkok is already April in Tokyo: still March for the Bangkok account.
    (instant,) = ingest_dir.query(
        "SELECT sent_at FROM messages WHERE account_name = 'Bangkok' AND content = ?", ["last of March"]
    )[0]
    assert instant.astimezone(JST) == datetime(2026, 4, 1, 1, 59, 58, tzinfo=JST)


def test_a_header_only_export_is_a_chat_with_no_messages(ingest_dir: IngestDir) -> None:
    ingest_dir.drop("友だち.csv", export([]))
    write_bulk_zip(
        ingest_dir.data_dir.inbox / "bulk.zip",
        "さくら整体院",
        {"山田": CHAT[:2], "無言の友だち": []},
        downloaded_at=DOWNLOADED + timedelta(days=1),
    )
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined, report.rejected) == (3, 0, 0)
    assert ingest_dir.query("SELECT file_path, is_bulk, rows_read, messages_new FROM source_files ORDER BY 1") == [
        ("bulk.zip!00001_20260110_20260110_山田.csv", True, 2, 2),
        ("bulk.zip!00002_無言の友だち.csv", True, 0, 0),
        ("友だち.csv", False, 0, 0),
    ]
    assert ingest_dir.query("SELECT count(*) FROM quarantined_files UNION ALL SELECT count(*) FROM rejected_rows") == [
        (0,),
        (0,),
    ]


def test_the_same_bytes_under_another_name_change_no_row(ingest_dir: IngestDir) -> None:
    data = export(CHAT)
    ingest_dir.drop("downloads/20260110_20260331_山田花子.csv", data)
    ingest_dir.ingest()
    before = (
        ingest_dir.query("SELECT * FROM messages ORDER BY ALL"),
        ingest_dir.query("SELECT * FROM source_files ORDER BY ALL"),
    )
    ingest_dir.drop("copy/山田花子.csv", data)
    ingest_dir.drop("20260110_20260331_山田花子 (1).csv", data)
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.messages_new, report.duplicates) == (0, 0, 0)
    after = (
        ingest_dir.query("SELECT * FROM messages ORDER BY ALL"),
        ingest_dir.query("SELECT * FROM source_files ORDER BY ALL"),
    )
    assert after == before
    # Both names are kept beside the archived bytes, the first one first.
    (sha,) = ingest_dir.query("SELECT sha256 FROM source_files")[0]
    assert Archive(ingest_dir.data_dir.archive).paths(sha) == [
        "downloads/20260110_20260331_山田花子.csv",
        "20260110_20260331_山田花子 (1).csv",
        "copy/山田花子.csv",
    ]


def test_a_run_counts_the_same_bytes_dropped_again_as_already_seen(pipeline_dir: DataDir) -> None:
    data = export(CHAT)
    (pipeline_dir.inbox / "山田花子.csv").write_bytes(data)
    (pipeline_dir.inbox / "山田花子 (1).csv").write_bytes(data)
    first = run_pipeline(pipeline_dir)
    assert (first.files_loaded, first.files_seen, first.messages_new) == (1, 1, len(CHAT))
    (pipeline_dir.inbox / "later").mkdir()
    (pipeline_dir.inbox / "later" / "山田花子 (2).csv").write_bytes(data)
    again = run_pipeline(pipeline_dir)
    assert (again.files_loaded, again.files_seen, again.messages_new, again.duplicates) == (0, 1, 0, 0)
    assert "files loaded 0, already seen 1, quarantined 0" in str(again)


def test_messages_outside_the_partitions_are_stored_classified_and_reported(pipeline_dir: DataDir) -> None:
    rows = [
        msg("User", "客", "2018-12-10 10:00:00", "old"),
        msg("Account", "応答メッセージ", "2018-12-10 10:00:00", "自動"),
        msg("User", "客", "2019-01-10 10:00:00", "new"),
    ]
    (pipeline_dir.inbox / "客.csv").write_bytes(export(rows, downloaded_at=datetime(2019, 1, 11)))
    write_settings(pipeline_dir, 'first_month = "2019-01"\n')  # set: "auto" would start the months at the first
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.months_written == ["2019-01"] and summary.months_outside == ["2018-12-01"]
    assert summary.advice(ENGLISH) == (
        "1 month with messages lies outside the monthly partitions (from 2018-12): "
        "set first_month in lineoa.toml to include it"
    )
    stored = {(r[9], r[4], r[7]) for r in snapshot_tables(pipeline_dir)["messages"]}
    assert stored == {
        ("old", "user", date(2018, 12, 1)),
        ("自動", "auto_reply", date(2018, 12, 1)),
        ("new", "user", date(2019, 1, 1)),
    }


def test_chat_names_come_from_file_names(ingest_dir: IngestDir) -> None:
    rows = [msg("User", "客", "2026-03-01 10:00:00", "hi")]
    names = {
        "00001_20250425_20260110_山田花子.csv": "山田花子",
        "20250425_20260110_名前.csv": "名前",
        "inbox/deeper/名前 (2).csv": "名前",
        "🌸さくら🌸ネイル.csv": "🌸さくら🌸ネイル",
        "山田　花子（紹介）.csv": "山田　花子（紹介）",
        "00007_2024_夏.csv": "2024_夏",
    }
    for i, path in enumerate(names):
        ingest_dir.drop(path, export(rows, account=f"Shop {i}"))
    ingest_dir.ingest()
    got = dict(ingest_dir.query("SELECT source_file, chat_name FROM messages"))
    assert got == names


# Chat names with every kind of punctuation, some only punctuation: `!` is also what joins a zip and its member.
PUNCTUATED = ["Hi!Yuki", "Bye!Yuki", "#1?", "100%", "Yuki！", "!", "!!", "?#%", "！", "a!b!c", "#"]


def test_a_chat_name_is_never_cut_loose_or_inside_a_zip(ingest_dir: IngestDir) -> None:
    # every chat holds the same message, and one of its own: each keeps both, under its whole name
    shared = msg("User", "客", "2026-03-01 10:00:00", "hi")
    chats = {name: [shared, msg("User", "客", "2026-03-01 10:01:00", f"I am {name}")] for name in PUNCTUATED}
    for name, rows in chats.items():
        ingest_dir.drop(f"loose/20260301_20260301_{name}.csv", export(rows, downloaded_at=datetime(2026, 3, 2)))
    write_bulk_zip(ingest_dir.data_dir.inbox / "bulk.zip", "さくら整体院", chats, downloaded_at=DOWNLOADED)
    report = ingest_dir.ingest()
    assert report.files_loaded == 2 * len(PUNCTUATED)
    # a loose file and a later zip member of one chat are one chat: its two messages once
    got = ingest_dir.query("SELECT chat_name, count(*) FROM messages GROUP BY ALL ORDER BY ALL")
    assert got == sorted((name, 2) for name in PUNCTUATED)


def test_chats_with_identical_bytes_stay_separate_chats(pipeline_dir: DataDir) -> None:
    # Friends who only received the same broadcast, at the same second: byte-identical exports, the chat's
    # name only in the file's name. Two loose files and two members of one zip.
    data = export([msg("Account", "Unknown", "2026-03-01 10:00:00", "春のセール開始")])
    for name in ("佐藤", "鈴木"):
        (pipeline_dir.inbox / f"20260301_20260301_{name}.csv").write_bytes(data)
    with zipfile.ZipFile(pipeline_dir.inbox / "backup.zip", "w") as backup:
        for i, name in enumerate(("田中", "高橋"), 1):
            backup.writestr(f"{i:05d}_20260301_20260301_{name}.csv", data)
    first = run_pipeline(pipeline_dir)
    assert (first.files_loaded, first.files_seen, first.messages_new) == (4, 0, 4)
    chats = ["佐藤", "田中", "鈴木", "高橋"]
    tables = snapshot_tables(pipeline_dir)
    assert sorted(m[2] for m in tables["messages"]) == sorted(chats)
    assert sorted(f[4] for f in tables["source_files"]) == sorted(chats)

    # The same zip dropped twice, and a copy of a loose file under its own chat's name: already seen.
    shutil.copy(pipeline_dir.inbox / "backup.zip", pipeline_dir.inbox / "backup (1).zip")
    (pipeline_dir.inbox / "later").mkdir()
    shutil.copy(pipeline_dir.inbox / "20260301_20260301_佐藤.csv", pipeline_dir.inbox / "later" / "佐藤 (1).csv")
    again = run_pipeline(pipeline_dir)
    assert (again.files_loaded, again.files_seen, again.messages_new) == (0, 2, 0)
    assert snapshot_tables(pipeline_dir) == tables
    # ... but a copy under another chat's name is that chat.
    (pipeline_dir.inbox / "later" / "20260301_20260301_伊藤.csv").write_bytes(data)
    third = run_pipeline(pipeline_dir)
    assert (third.files_loaded, third.files_seen, third.messages_new) == (1, 0, 1)
    archive = Archive(pipeline_dir.archive)
    assert archive.paths(hashlib.sha256(data).hexdigest()) == [
        "20260301_20260301_佐藤.csv",
        "20260301_20260301_鈴木.csv",
        "later/佐藤 (1).csv",
        "later/20260301_20260301_伊藤.csv",
    ]
    tables = snapshot_tables(pipeline_dir)
    assert len(tables["messages"]) == 5

    # A rebuild from the archive alone gives every chat again, and counts the copies as already seen.
    rebuilt = rebuild_warehouse(pipeline_dir)
    assert (rebuilt.files_loaded, rebuilt.files_seen, rebuilt.messages_new) == (5, 2, 5)
    assert snapshot_tables(pipeline_dir) == tables
