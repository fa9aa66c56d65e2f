"""The shared samples (when present) and look-alikes load with the counts an independent reader gives.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

import csv
import io
import zipfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lineoa_pipeline.ingest.discover import member_name
from lineoa_pipeline.line_export.formats import LANGUAGES
from lineoa_pipeline.line_export.names import chat_name_from_path
from lineoa_pipeline.line_export.render import write_bulk_zip
from lineoa_pipeline.synthetic.conversations import PHRASES
from lineoa_pipeline_tests.helpers import SAMPLES, IngestDir
from lineoa_pipeline_tests.ingest.chats import export, msg, reconciled

# --- the shared samples, when present ---------------------------------------------------------------------


def _read_export(data: bytes) -> tuple[str, int, list[list[str]]]:
    """(account, UTC offset in minutes, data records) of a valid export, read with Python's csv module."""
    for encoding in ("utf-8-sig", "cp932", "cp950", "cp874"):
        try:
            records = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
        except UnicodeDecodeError:
            continue
        if any(lang.metadata_labels[0] == records[0][0] for lang in LANGUAGES.values()):
            zone = records[1][1].lstrip("'")
            minutes = (int(zone[1:3]) * 60 + int(zone[4:6])) * (-1 if zone[0] == "-" else 1)
            return records[0][1], minutes, records[4:]
    raise AssertionError("not an export")


def _clean(value: str) -> str:
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r", "\n"):
        value = value[1:]
    return value.replace("_x000D_", "").replace("\r\n", "\n").replace("\r", "\n")


def expected_counts(inbox: Path) -> tuple[int, dict[str, int], int]:
    """An independent reading of an inbox of valid exports: (distinct messages, rows per file, group chats)."""
    identities: set[tuple[Any, ...]] = set()
    rows_per_file: dict[str, int] = {}
    users: dict[tuple[str, str], set[str]] = {}
    files: list[tuple[str, bytes]] = []
    for path in sorted(inbox.rglob("*")):
        relative = path.relative_to(inbox).as_posix()
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                # Member names as the product reads them (cp932 without the UTF-8 flag: tested on their own).
                files += [(f"{relative}!{member_name(info)}", archive.read(info)) for info in archive.infolist()]
        elif path.suffix.lower() == ".csv":
            files.append((relative, path.read_bytes()))
    for name, data in files:
        account, minutes, records = _read_export(data)
        chat = chat_name_from_path(name.rsplit("!", 1)[-1])
        rows_per_file[name] = len(records)
        seen: Counter[tuple[Any, ...]] = Counter()
        for sender_type, sender_name, day, clock, content in records:
            local = datetime.strptime(f"{day} {clock}", "%Y/%m/%d %H:%M:%S")
            key = (account, chat, sender_type, local - timedelta(minutes=minutes), _clean(content))
            seen[key] += 1
            identities.add((*key, seen[key]))
            if sender_type == "User":
                users.setdefault((account, chat), set()).add(_clean(sender_name))
    return len(identities), rows_per_file, sum(len(names) >= 2 for names in users.values())


def _lookalike_samples(root: Path) -> Path:
    """The samples' layout, written by the generator: a bulk zip with a group and a silent friend, Excel
    re-saves of chats that also come in UTF-8, and single chats in en, zh-TW and th."""
    jst = [
        msg("User", "山田 花子", "2026-02-27 23:59:58", "予約したいです"),
        msg("Account", "応答メッセージ", "2026-02-27 23:59:58", "メッセージありがとうございます。"),
        msg("Account", "受付 佐々木", "2026-02-28 00:10:03", "はい、可能です。\n明日10時はいかがでしょうか。"),
    ]
    group = [
        msg("User", "田中", "2026-02-01 10:00:00", "参加します"),
        msg("User", "伊藤", "2026-02-01 10:00:05", "私も"),
    ]
    write_bulk_zip(
        root / "bulk_backup_ja.zip",
        "さくら整体院",
        {"山田 花子": jst, "ヨガ教室": group, "佐藤": []},
        downloaded_at=datetime(2026, 3, 2, 18, 5),
    )
    (root / "excel_resaved_cp932" / "20260227_20260228_山田花子.csv").parent.mkdir(parents=True)
    (root / "excel_resaved_cp932" / "20260227_20260228_山田花子.csv").write_bytes(
        export(jst, downloaded_at=datetime(2026, 3, 3, 9, 0), excel=True)
    )
    for lang, zone, folder in (("en", "+09:00", "en"), ("zh-TW", "+08:00", "zh"), ("th", "+07:00", "th")):
        book = PHRASES[lang]
        rows = [
            msg("User", "Ann", "2026-02-27 23:59:58", book.questions[0]),
            msg("Account", book.staff[0], "2026-02-28 09:00:00", book.answers[0]),
        ]
        (root / folder).mkdir()
        (root / folder / "Ann.csv").write_bytes(export(rows, account=f"Shop {lang}", lang=lang, tz_offset=zone))
    return root


# The shared samples' chats: an Excel re-save adds nothing to the chat it repeats (青木美穂 49 of the zip's 53).
SHARED_SAMPLE_CHATS = [
    ("Bayside Yoga", "EmmaBrown", "one_to_one", 32),
    ("ร้านกาแฟริมน้ำ", "นภาสุขใจ", "one_to_one", 31),
    ("みどり歯科クリニック", "★前田彩", "one_to_one", 75),
    ("みどり歯科クリニック", "歯みがき教室保護者", "group", 10),
    ("みどり歯科クリニック", "藤田剛紹介", "one_to_one", 46),
    ("みどり歯科クリニック", "青木美穂", "one_to_one", 53),
    ("晴天咖啡 台中", "林小華", "one_to_one", 31),
]


@pytest.mark.parametrize("source", ["shared", "lookalike"])
def test_sample_exports_load_with_the_counts_an_independent_reader_gives(
    ingest_dir: IngestDir, tmp_path: Path, source: str
) -> None:
    if source == "shared" and not SAMPLES.is_dir():
        pytest.skip(f"no shared samples at {SAMPLES}")
    samples = SAMPLES if source == "shared" else _lookalike_samples(tmp_path / "samples")
    inputs = [p for p in sorted(samples.rglob("*")) if p.suffix.lower() in (".csv", ".zip")]
    if not inputs:
        pytest.skip(f"no sample exports in {samples}")
    for path in inputs:
        ingest_dir.drop(path.relative_to(samples).as_posix(), path.read_bytes())
    distinct, rows_per_file, groups = expected_counts(samples)
    report = ingest_dir.ingest()
    assert (report.files_quarantined, report.rejected) == (0, 0)
    assert report.messages_new == distinct
    assert report.rows_read == sum(rows_per_file.values())
    assert dict(ingest_dir.query("SELECT file_path, rows_read FROM source_files")) == rows_per_file
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(distinct,)]
    assert ingest_dir.query(
        "SELECT count(DISTINCT (account_name, chat_name)) FROM messages WHERE chat_type = 'group'"
    ) == [(groups,)]
    assert ingest_dir.query("SELECT count(*) FROM source_files WHERE rows_read = 0") != [(0,)]  # a silent friend
    assert reconciled(ingest_dir) == []
    if source == "shared":  # counted by hand from the files (rows per file with a CSV reader)
        assert (report.files_loaded, report.rows_read, report.messages_new, report.duplicates) == (11, 389, 278, 111)
        chats = ingest_dir.query("SELECT account_name, chat_name, chat_type, count(*) FROM messages GROUP BY ALL")
        assert sorted(chats) == SHARED_SAMPLE_CHATS
    if source == "lookalike":  # the Excel re-save repeats the bulk zip's chat: nothing new from it
        assert ingest_dir.query(
            "SELECT messages_new, duplicates FROM source_files WHERE file_path LIKE 'excel_resaved%'"
        ) == [(0, 3)]
