"""Hostile inputs end as loaded data or as a quarantine entry with a readable reason: never a crash,
a hang, a half-loaded file or a file written outside the data directory. Every input is generated here."""

from __future__ import annotations

import io
import os
import re
import signal
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import pytest

from lineoa_pipeline.ingest import discover
from lineoa_pipeline.ingest.discover import MAX_MEMBER_BYTES
from lineoa_pipeline.line_export.render import ChatMessage, render_export, write_bulk_zip
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import IngestDir, lineoa_command, lineoa_env

pytestmark = pytest.mark.embedded_only  # the lake stages what this reads: ingest/test_identity and others
DOWNLOADED = datetime(2026, 3, 2, 18, 5)
WHEN = datetime(2026, 3, 1, 10, 0)
BOMB_BYTES = 264 * (8 << 20)  # 2.2 GB of zeros
PEAK_RSS_LIMIT = 1 << 30  # the whole `lineoa run`, Dagster and DuckDB included


def export(content: str = "hi", account: str = "さくら整体院", sender: str = "山田") -> bytes:
    return render_export(account, [ChatMessage("User", sender, WHEN, content)], downloaded_at=DOWNLOADED)


def zip_of(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def write_zip_bomb(path: Path, size: int = BOMB_BYTES, name: str = "00001_bomb.csv") -> None:
    """A ZIP64 file of about 2 MB whose one member inflates to `size` zero bytes. Written directly: one deflate
    block of 8 MiB of zeros, fully flushed so that it can be repeated, stands for each 8 MiB."""
    chunk = 8 << 20
    assert size % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    crc = 0
    zeros = bytes(chunk)
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    packed_size = len(block) * (size // chunk) + len(tail)
    raw_name = name.encode()
    zip64 = struct.pack("<HHQQ", 0x0001, 16, size, packed_size)  # the real sizes, in the ZIP64 extra field
    deflated, dos_time, dos_date, unknown = zipfile.ZIP_DEFLATED, 0, 0x5C21, 0xFFFFFFFF  # sizes: "see ZIP64"
    # fmt: off
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, deflated, dos_time, dos_date, crc, unknown, unknown,
                        len(raw_name), len(zip64))
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, deflated, dos_time, dos_date, crc, unknown,
                          unknown, len(raw_name), len(zip64), 0, 0, 0, 0, 0)
    # fmt: on
    with open(path, "wb") as out:
        out.write(local + raw_name + zip64)
        for _ in range(size // chunk):
            out.write(block)
        out.write(tail)
        directory_at = out.tell()
        out.write(central + raw_name + zip64)
        directory_size = out.tell() - directory_at
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, directory_size, directory_at, 0))


def test_the_zip_bomb_is_what_it_claims(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    write_zip_bomb(path)
    assert path.stat().st_size < 3 << 20
    with zipfile.ZipFile(path) as archive:
        (info,) = archive.infolist()
        assert info.file_size == BOMB_BYTES > MAX_MEMBER_BYTES
        with archive.open(info) as member:
            assert member.read(1 << 20) == bytes(1 << 20)


# --- zips ---------------------------------------------------------------------------------------------------


def test_zip_members_named_outside_the_data_directory_load_and_write_nothing_there(
    ingest_dir: IngestDir, tmp_path: Path
) -> None:
    names = ["../x.csv", "../../../../../../tmp/escaped.csv", "/abs/y.csv", "C:\\Windows\\z.csv", "a/../../w.csv"]
    ingest_dir.drop("bulk.zip", zip_of([(name, export(f"from {name}")) for name in names]))
    before = files_under(tmp_path)
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (5, 0)
    assert dict(ingest_dir.query("SELECT source_file, content FROM messages")) == {
        f"bulk.zip!{name}": f"from {name}" for name in names
    }
    assert dict(ingest_dir.query("SELECT source_file, chat_name FROM messages")) == {
        "bulk.zip!../x.csv": "x",
        "bulk.zip!../../../../../../tmp/escaped.csv": "escaped",
        "bulk.zip!/abs/y.csv": "y",
        "bulk.zip!C:\\Windows\\z.csv": "z",
        "bulk.zip!a/../../w.csv": "w",
    }
    new = files_under(tmp_path) - before
    assert all(ingest_dir.data_dir.root in p.parents for p in new)
    assert not any(p.name.endswith(("x.csv", "y.csv", "z.csv", "w.csv", "escaped.csv")) for p in new)
    outside_paths = (tmp_path / "x.csv", tmp_path.parent / "x.csv", Path.cwd().parent / "x.csv", Path("/abs/y.csv"))
    for outside in (*outside_paths, Path("/tmp/escaped.csv"), Path.cwd() / "w.csv"):
        assert not outside.exists()


def test_a_zip_bomb_is_quarantined_without_inflating_it(ingest_dir: IngestDir) -> None:
    write_zip_bomb(ingest_dir.data_dir.inbox / "bulk_backup.zip")
    write_bulk_zip(
        ingest_dir.data_dir.inbox / "good.zip",
        "A",
        {"山田": [ChatMessage("User", "山田", WHEN, "ok")]},
        downloaded_at=DOWNLOADED,
    )
    tracemalloc.start()
    try:
        report = ingest_dir.ingest()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.files_loaded, report.files_quarantined, report.messages_new) == (1, 1, 1)
    ((path, reason),) = ingest_dir.query("SELECT file_path, reason FROM quarantined_files")
    assert path == "bulk_backup.zip!00001_bomb.csv"
    assert re.search(r"zip bomb|size limit", reason)
    assert peak < 64 << 20  # Python's own allocations while the bomb was opened and given up
    on_disk = sum(p.stat().st_size for p in files_under(ingest_dir.data_dir.root))
    assert on_disk < 64 << 20  # the archived zip, the warehouse: never the inflated member
    assert not ingest_dir.data_dir.work.exists()


def test_the_size_limits_stop_members_that_do_not_compress_much(
    ingest_dir: IngestDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real limits are gigabytes; lowered here so that the same code paths run on a few megabytes.
    monkeypatch.setattr(discover, "MAX_MEMBER_BYTES", 2 << 20)
    monkeypatch.setattr(discover, "MAX_ZIP_BYTES", 5 << 20)
    noise = export(os.urandom(3 << 20).hex()[: 3 << 20])  # about 3 MB that deflate cannot shrink much
    ingest_dir.drop("one_too_big.zip", zip_of([("00001_big.csv", noise), ("00002_ok.csv", export("ok"))]))
    ingest_dir.drop(
        "all_too_big.zip", zip_of([(f"{i:05d}_part.csv", export(os.urandom(3 << 18).hex())) for i in (1, 2, 3, 4)])
    )
    report = ingest_dir.ingest()
    reasons = dict(ingest_dir.query("SELECT file_path, reason FROM quarantined_files"))
    assert "size limit" in reasons.pop("one_too_big.zip!00001_big.csv")
    assert "past 5,242,880 bytes in total" in reasons.pop("all_too_big.zip")  # the whole zip, never half of it
    assert all(path.startswith("all_too_big.zip!") and "size limit" in why for path, why in reasons.items())
    assert ingest_dir.query("SELECT DISTINCT source_file FROM messages") == [("one_too_big.zip!00002_ok.csv",)]
    assert report.files_loaded == 1


# Runs a command and prints its exit code and peak RSS (kB). A small process of its own starts it: a child
# forked straight from this test process (hundreds of MB after other tests) would count those pages too.
MEASURE = """
import os, subprocess, sys

with open(sys.argv[1], "wb") as log:
    proc = subprocess.Popen(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def _run_measured(args: list[str], log: Path, timeout: float = 600) -> tuple[int, int]:
    """Run `args` to its end: (exit code, peak resident memory in bytes of that process)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", MEASURE, str(log), *args],
        stdout=subprocess.PIPE,
        text=True,
        env=lineoa_env(),
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this test started
            proc.wait()
    code, kilobytes = map(int, out.split())
    return code, kilobytes * 1024


@pytest.mark.slow
def test_lineoa_run_on_a_zip_bomb_stays_within_bounded_memory(tmp_path: Path) -> None:
    peaks = {}
    for case in ("without", "with"):  # the same run without the bomb is the yardstick
        data_dir = DataDir(tmp_path / case)
        data_dir.create()
        (data_dir.inbox / "good.csv").write_bytes(export())
        if case == "with":
            write_zip_bomb(data_dir.inbox / "bulk_backup.zip")
        log = tmp_path / f"{case}.log"
        code, peaks[case] = _run_measured(lineoa_command("run", "--data-dir", str(data_dir.root)), log)
        output = log.read_text(encoding="utf-8", errors="replace")
        assert code == 0 and "files loaded 1" in output, output
    print(
        f"lineoa run on a {BOMB_BYTES:,}-byte zip bomb: peak RSS {peaks['with'] / 2**20:,.0f} MiB "
        f"({peaks['without'] / 2**20:,.0f} MiB without it)"
    )
    assert re.search(r"quarantined bulk_backup.zip!00001_bomb.csv: .*(zip bomb|size limit)", output)
    assert peaks["with"] < min(PEAK_RSS_LIMIT, peaks["without"] + (128 << 20))
    assert sum(p.stat().st_size for p in files_under(data_dir.root)) < 64 << 20


def _truncated_zip() -> bytes:
    data = zip_of([(f"{i:05d}_chat{i}.csv", export(f"message {i}" * 50)) for i in range(1, 6)])
    return data[: len(data) * 2 // 3]


def _corrupt_member() -> bytes:
    data = bytearray(zip_of([("00001_a.csv", export("first " * 2000)), ("00002_b.csv", export("second"))]))
    start = data.index(b"00001_a.csv") + len("00001_a.csv") + 40
    data[start : start + 30] = b"\xff" * 30  # inside the first member's deflate stream
    return bytes(data)


def _encrypted_member() -> bytes:
    data = bytearray(zip_of([("00001_a.csv", export("secret")), ("00002_b.csv", export("second"))]))
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = data.index(signature)
        data[at + flag_at] |= 0x01  # "encrypted": zipfile wants a password
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "quarantined", "loaded"),
    [
        (_truncated_zip(), {"bulk.zip": "corrupt zip"}, 0),
        (_corrupt_member(), {"bulk.zip!00001_a.csv": "corrupt zip member"}, 1),
        (_encrypted_member(), {"bulk.zip!00001_a.csv": "encrypted"}, 1),
        (
            zip_of([("00001_a.csv", export("a")), ("inner.zip", zip_of([("00001_b.csv", export("b"))]))]),
            {"bulk.zip!inner.zip": "a zip inside a zip"},
            1,
        ),
        (zip_of([("00001_a.csv", export("a")), ("00002_empty.csv", b"")]), {"bulk.zip!00002_empty.csv": "empty"}, 1),
    ],
    ids=["truncated", "corrupt-member", "encrypted-member", "zip-in-zip", "empty-member"],
)
def test_a_broken_zip_or_member_is_quarantined_and_the_rest_loads(
    ingest_dir: IngestDir, data: bytes, quarantined: dict[str, str], loaded: int
) -> None:
    ingest_dir.drop("bulk.zip", data)
    ingest_dir.drop("other.csv", export("from another file", account="Other"))
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (1 + loaded, len(quarantined))
    reasons = dict(ingest_dir.query("SELECT file_path, reason FROM quarantined_files"))
    assert reasons.keys() == quarantined.keys()
    for path, words in quarantined.items():
        assert words in reasons[path]
    assert ingest_dir.query(
        "SELECT count(*) FROM messages WHERE source_file IN (SELECT file_path FROM quarantined_files)"
    ) == [(0,)]
    assert ingest_dir.query("SELECT count(*) FROM messages") == [(1 + loaded,)]
    assert (
        ingest_dir.data_dir.archive / ingest_dir.query("SELECT sha256 FROM _inputs WHERE file_path = 'bulk.zip'")[0][0]
    ).read_bytes() == data


@pytest.mark.parametrize("name", ["empty.csv", "empty.zip", "folder/00001_20260101_20260131_名前.csv"])
def test_a_zero_byte_file_is_quarantined_as_empty(ingest_dir: IngestDir, name: str) -> None:
    ingest_dir.drop(name, b"")
    ingest_dir.drop("other.csv", export())
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (1, 1)
    assert ingest_dir.query("SELECT file_path, reason FROM quarantined_files") == [(name, "empty file")]


def test_an_empty_but_valid_zip_is_quarantined_with_a_reason_and_breaks_nothing(ingest_dir: IngestDir) -> None:
    ingest_dir.drop("nothing.zip", zip_of([]))
    ingest_dir.drop("other.csv", export())
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined, report.messages_new) == (1, 1, 1)
    assert ingest_dir.query("SELECT file_path, reason FROM quarantined_files") == [
        ("nothing.zip", "a zip with no CSV inside: download the backup again (a backup holds one CSV per chat)")
    ]


# --- hostile contents ---------------------------------------------------------------------------------------

EXACT = [
    "'; DROP TABLE messages; --",
    "Robert'); DROP TABLE source_files;--",
    '"; DELETE FROM messages WHERE "1"="1',
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.com/?q="&A1,"click")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(1+1)",
    "\t=tabbed",
    "\r\n=after a line break",
    "a\x00b",
    "\x00",
    "ends with NUL\x00",
    "$(rm -rf /); `reboot`",
    "../../etc/passwd",
    "NULL",
    "",
    "\\N",
    "🧨💥 emoji 👨‍👩‍👧 ZWJ",
]


def test_sql_formula_and_nul_text_is_stored_exactly(ingest_dir: IngestDir) -> None:
    rows = [ChatMessage("User", f"u{i}", WHEN.replace(second=i), text) for i, text in enumerate(EXACT)]
    rows.append(ChatMessage("Account", "'; DROP TABLE messages; --\x00", WHEN, "sender name"))
    account = "x'); DROP TABLE source_files; -- ☕"
    ingest_dir.drop("robert'); DROP TABLE chats;--.csv", render_export(account, rows, downloaded_at=DOWNLOADED))
    report = ingest_dir.ingest()
    assert (report.files_quarantined, report.rejected, report.messages_new) == (0, 0, len(rows))
    stored = dict(ingest_dir.query("SELECT sender_name, content FROM messages"))
    expected = {f"u{i}": text.replace("\r\n", "\n") for i, text in enumerate(EXACT)}
    assert stored == expected | {"'; DROP TABLE messages; --\x00": "sender name"}
    assert ingest_dir.query("SELECT DISTINCT account_name, chat_name FROM messages") == [
        (account, "robert'); DROP TABLE chats;--")
    ]
    assert ingest_dir.query("SELECT count(*) FROM source_files") == [(1,)]


def test_a_field_of_several_megabytes_loads_exactly(ingest_dir: IngestDir) -> None:
    big = ('長い文章、"引用"\n' * 400_000)[:3_000_000]  # about 9 MB of UTF-8 with quotes and line breaks
    rows = [
        ChatMessage("User", "山田", WHEN, "before"),
        ChatMessage("User", "山田", WHEN.replace(minute=1), big),
        ChatMessage("User", "山田", WHEN.replace(minute=2), "after"),
    ]
    ingest_dir.drop("big.csv", render_export("A", rows, downloaded_at=DOWNLOADED))
    ingest_dir.drop("other.csv", export())
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (2, 0)
    loaded = ingest_dir.query("SELECT content FROM messages WHERE source_file = 'big.csv' ORDER BY sent_at")
    assert loaded == [("before",), (big,), ("after",)]
    assert ingest_dir.query("SELECT count(*) FROM messages WHERE source_file = 'other.csv'") == [(1,)]


UNKNOWN_FORMATS = {
    "korean.csv": "\ufeff계정 이름,가게\r\n시간대,'+09:00\r\n다운로드 시간,2026/03/02 18:05\r\n"
    "발신자 유형,발신자 이름,날짜,시간,메시지\r\nUser,김,2026/03/01,10:00:00,안녕\r\n",
    "french_header.csv": "\ufeffAccount name,Shop\r\nTime zone,'+09:00\r\nDownloaded on,2026/03/02 18:05\r\n"
    "Type,Nom,Date,Heure,Message\r\nUser,Anne,2026/03/01,10:00:00,Bonjour\r\n",
    "plain_table.csv": "date,time,sender,message\r\n2026/03/01,10:00:00,Ann,hi\r\n",
    "line_personal_chat.csv": "[LINE] Chat history with Ann\r\nSaved on: 2026/03/02 18:05\r\n\r\n"
    "2026/03/01(Sun)\r\n10:00\tAnn\thi\r\n",
    "semicolons.csv": "\ufeffAccount name;Shop\r\nTime zone;'+09:00\r\nDownloaded on;2026/03/02 18:05\r\n"
    "Sender type;Sender name;Date;Time;Message\r\nUser;Ann;2026/03/01;10:00:00;hi\r\n",
}


def test_a_valid_csv_in_an_unknown_language_or_format_is_quarantined_with_a_reason(ingest_dir: IngestDir) -> None:
    for name, text in UNKNOWN_FORMATS.items():
        ingest_dir.drop(name, text.encode())
    ingest_dir.drop("binary.csv", bytes(range(256)) * 64)
    ingest_dir.drop("good.csv", export())
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (1, len(UNKNOWN_FORMATS) + 1)
    reasons = dict(ingest_dir.query("SELECT file_path, reason FROM quarantined_files"))
    assert reasons.keys() == {*UNKNOWN_FORMATS, "binary.csv"}
    for reason in reasons.values():
        assert re.search(
            r"unknown (metadata labels|header)|fewer than three metadata rows|not a LINE chat export", reason
        ), reason
    assert "unknown header" in reasons["french_header.csv"]
    assert ingest_dir.query("SELECT DISTINCT source_file FROM messages") == [("good.csv",)]


def test_file_account_and_chat_names_with_quotes_emoji_and_separators(ingest_dir: IngestDir) -> None:
    files = {
        '山田 "花子" 🌸.csv': '山田 "花子" 🌸',
        "it's a 'chat'.csv": "it's a 'chat'",
        "a,b;c|d.csv": "a,b;c|d",
        "back\\slash\\名前.csv": "名前",  # a backslash separates folders in a name written on Windows
    }
    for i, name in enumerate(files):
        ingest_dir.drop(name, export(f"message {i}", account=f'Shop "{i}" / ☕ \\ {i}'))
    members = {
        'backup\\00001_20260101_20260131_"引用"🐱.csv': '"引用"🐱',
        "backup/00002_20260101_20260131_a'b.csv": "a'b",
    }
    ingest_dir.drop("bulk 'x' \"y\" 🎁.zip", zip_of([(name, export(name, account="Z")) for name in members]))
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (len(files) + len(members), 0)
    got = dict(ingest_dir.query("SELECT source_file, chat_name FROM messages"))
    assert got == files | {f"bulk 'x' \"y\" 🎁.zip!{name}": chat for name, chat in members.items()}
    assert ingest_dir.query("SELECT account_name FROM source_files WHERE file_path = ?", ['山田 "花子" 🌸.csv']) == [
        ('Shop "0" / ☕ \\ 0',)
    ]


def zip_with_repeated_entries(member: bytes, copies: int) -> bytes:
    """A zip whose central directory lists its one member `copies` times: every entry points at the same
    compressed bytes, so each inflates the whole member again (a zip LINE never writes)."""
    one = zip_of([("00001_山田.csv", member)])
    end = one.rindex(b"PK\x05\x06")
    size, offset = struct.unpack("<II", one[end + 12 : end + 20])
    directory = one[offset : offset + size] * copies
    tail = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, copies, copies, len(directory), offset, 0)
    return one[:offset] + directory + tail


def test_a_zip_whose_entries_share_one_members_bytes_is_quarantined_unread(
    ingest_dir: IngestDir, tmp_path: Path
) -> None:
    member = export("\n".join(f"line {i}" for i in range(2_000)))
    data = zip_with_repeated_entries(member, 2_000)
    with zipfile.ZipFile(io.BytesIO(data)) as repeated:
        assert len(repeated.infolist()) == 2_000 and repeated.read(repeated.infolist()[-1]) == member
    ingest_dir.drop("backup.zip", data)
    ingest_dir.drop("other.csv", export())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(discover.CorruptZip):
        list(discover.extract_members(ingest_dir.data_dir.inbox / "backup.zip", scratch))
    assert sum(p.stat().st_size for p in files_under(scratch)) == 0  # nothing inflated
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (1, 1)
    assert ingest_dir.query("SELECT file_path, reason FROM quarantined_files") == [
        ("backup.zip", "entries of its directory share one member's bytes: not a zip LINE writes (a zip bomb?)")
    ]


def test_the_whole_zip_inflates_at_most_a_bounded_multiple_of_its_size(
    ingest_dir: IngestDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small members may have any ratio on their own; together they are bounded by the zip's own size.
    monkeypatch.setattr(discover, "RATIO_FLOOR", 256 << 10)
    padding = bytes(250 << 10)  # zeros: each member deflates hundreds of times, under the floor on its own
    members = [(f"{i:05d}_chat{i}.csv", export(f"chat {i}") + padding) for i in range(1, 151)]
    ingest_dir.drop("backup.zip", zip_of(members))
    report = ingest_dir.ingest()
    assert report.files_loaded == 0
    reasons = dict(ingest_dir.query("SELECT file_path, reason FROM quarantined_files"))
    assert "inflates more than 200x its size in all" in reasons.pop("backup.zip")
