"""Chat tags and media manifests into a real warehouse: name resolution, verification, pairing, rejects."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lineoa_pipeline.ingest.tags_media import load_chat_tags, load_media_files
from lineoa_pipeline.line_export.render import ChatMessage, export_file_name, render_export
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import BuildWarehouse

CLINIC = "さくら整体院"
DISPLAY_NAME = "山田　花子（紹介）"  # as the chat list shows it: full-width space and brackets
CHAT = "山田花子紹介"  # as the export's file name carries it
STAFF = "受付 佐々木"


def _at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-03-04 {clock}")


MESSAGES = [
    ChatMessage("User", "山田 花子", _at("10:00:00"), "写真を送信しました。"),
    ChatMessage("Account", STAFF, _at("10:00:00"), "写真を送信しました。"),  # two photos in one second
    ChatMessage("User", "山田 花子", _at("10:05:00"), "動画を送信しました。"),
    ChatMessage("User", "山田 花子", _at("10:06:00"), "ファイルを送信しました。"),
    ChatMessage("User", "山田 花子", _at("10:07:00"), "写真を送信しました。"),
]


@pytest.fixture
def data_dir(build_warehouse: BuildWarehouse) -> DataDir:
    export = render_export(CLINIC, MESSAGES, downloaded_at=datetime(2026, 3, 5, 9, 0))
    bad_row = "User,山田 花子,2026/03/04,25:00:00,時刻が壊れています\r\n".encode()
    return build_warehouse(
        {
            export_file_name("山田 花子(紹介)", None, None): export,
            "佐藤.csv": render_export(CLINIC, [], downloaded_at=datetime(2026, 3, 5, 9, 0)) + bad_row,
        }
    )


def _write(path: Path, text: str, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode() + text.replace("\n", "\r\n").encode())


def _rejects(data_dir: DataDir) -> list[tuple]:
    with write_connection(data_dir) as conn:
        return conn.execute("SELECT * FROM rejected_rows ORDER BY source_file, line").fetchall()


EXPORT_REJECT = (
    "佐藤.csv",
    5,
    "User,山田 花子,2026/03/04,25:00:00,時刻が壊れています",
    'bad or empty date/time "2026/03/04 25:00:00"',
)


def test_tags_name_chats_by_display_name(data_dir: DataDir) -> None:
    # 佐藤's export holds no message, so no chat of the warehouse matches it: it is kept as written.
    _write(
        data_dir.tags / "vip.csv",
        f"account_name,chat_name,tag\n{CLINIC},{DISPLAY_NAME},vip\n{CLINIC},{CHAT},vip\n{CLINIC},佐藤,vip\n",
        bom=True,
    )
    # No BOM, columns in another order, values padded, a chat the warehouse does not know.
    _write(data_dir.tags / "new.csv", f"tag,account_name,chat_name\nnew, {CLINIC} ,{DISPLAY_NAME}\nnew,{CLINIC},誰か\n")
    with write_connection(data_dir) as conn:
        counts = load_chat_tags(conn, data_dir)
        tags = conn.execute("SELECT * FROM chat_tags ORDER BY tag, chat_name").fetchall()
    assert tags == [(CLINIC, CHAT, "new"), (CLINIC, "誰か", "new"), (CLINIC, "佐藤", "vip"), (CLINIC, CHAT, "vip")]
    assert counts == {"files": 2, "rows": 5, "tags": 4, "unmatched": 2, "rejected": 0}


def test_tag_rows_that_cannot_be_read_are_rejected(data_dir: DataDir) -> None:
    _write(
        data_dir.tags / "vip.csv",
        f'account_name,chat_name,tag\n{CLINIC},{CHAT}\n{CLINIC},{CHAT},\n"{CLINIC},"{CHAT}",vip\n{CLINIC},{CHAT},vip\n',
    )
    _write(data_dir.tags / "wrong.csv", f"account,chat,tag\n{CLINIC},{CHAT},x\n")
    (data_dir.tags / "sjis.csv").write_bytes(f"account_name,chat_name,tag\r\n{CLINIC},{CHAT},常連\r\n".encode("cp932"))
    with write_connection(data_dir) as conn:
        counts = load_chat_tags(conn, data_dir)
        assert conn.execute("SELECT * FROM chat_tags").fetchall() == [(CLINIC, CHAT, "vip")]
    assert counts["rejected"] == 7
    header = "the header must name account_name,chat_name,tag: no account_name, chat_name"
    rejects = [r for r in _rejects(data_dir) if r[0].startswith("tags/")]
    assert [(f, line, reason) for f, line, _, reason in rejects] == [
        ("tags/sjis.csv", 1, "not UTF-8 (bad byte at offset 28): save the file as CSV UTF-8"),
        ("tags/sjis.csv", 2, "not UTF-8 (bad byte at offset 28): save the file as CSV UTF-8"),
        ("tags/vip.csv", 2, "wrong column count: expected 3, found 2"),
        ("tags/vip.csv", 3, "empty tag"),
        ("tags/vip.csv", 4, "unreadable CSV: ',' expected after '\"'"),
        ("tags/wrong.csv", 1, header),
        ("tags/wrong.csv", 2, header),
    ]
    assert rejects[2][2] == f"{CLINIC},{CHAT}"

    # Fixed files replace the old rejects; the export's reject stays.
    for name in ("vip.csv", "wrong.csv", "sjis.csv"):
        (data_dir.tags / name).unlink()
    with write_connection(data_dir) as conn:
        assert load_chat_tags(conn, data_dir)["rejected"] == 0
        assert conn.execute("SELECT count(*) FROM chat_tags").fetchone() == (0,)
    assert _rejects(data_dir) == [EXPORT_REJECT]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_media_files_verified_and_paired(data_dir: DataDir, tmp_path: Path) -> None:
    folder = data_dir.media / "2026-03"
    files = {name: f"bytes of {name}".encode() for name in ("a.jpg", "b.jpg", "c.jpg", "v.mp4", "doc.pdf")}
    for name, data in files.items():
        (folder / "m").mkdir(parents=True, exist_ok=True)
        (folder / "m" / name).write_bytes(data)
    (tmp_path / "outside.jpg").write_bytes(files["a.jpg"])
    (folder / "m" / "link.jpg").symlink_to(tmp_path / "outside.jpg")

    def row(chat: str, sent_at: str, kind: str, file: str, sha: str, size: int) -> str:
        return f"{CLINIC},{chat},{sent_at},{kind},{file},{sha},{size}"

    def ok(chat: str, sent_at: str, kind: str, name: str) -> str:
        return row(chat, sent_at, kind, f"m/{name}", _sha(files[name]), len(files[name]))

    a, c = files["a.jpg"], files["c.jpg"]
    lines = [
        ",".join(("account_name", "chat_name", "sent_at", "kind", "file", "sha256", "bytes")),
        ok(DISPLAY_NAME, "2026-03-04T10:00:00+09:00", "photo", "a.jpg"),  # 2: the user's photo
        ok(CHAT, "2026-03-04T01:00:00Z", "photo", "b.jpg"),  # 3: the same second: the staff's photo
        row(CHAT, "2026-03-04T10:05:00+09:00", "video", "m/v.mp4", _sha(a), len(files["v.mp4"])),  # corrupt
        row(CHAT, "2026-03-04T10:06:00+09:00", "file", "m/doc.pdf", _sha(files["doc.pdf"]), 1),  # bytes differ
        row(CHAT, "2026-03-04T10:07:00+09:00", "photo", "m/gone.jpg", _sha(c), len(c)),  # 6: missing
        ok(CHAT, "2026-03-04T10:07:00+09:00", "photo", "c.jpg"),  # 7: ok, so it gets the one placeholder
        row(CHAT, "2026-03-04T10:07:00+09:00", "photo", "../../outside.jpg", _sha(a), len(a)),
        row(CHAT, "2026-03-04T10:07:00+09:00", "photo", str(tmp_path / "outside.jpg"), _sha(a), len(a)),
        row(CHAT, "2026-03-04T10:07:00+09:00", "photo", "m/link.jpg", _sha(a), len(a)),
        row(CHAT, "2026-03-04 10:07:00", "photo", "m/c.jpg", _sha(c), len(c)),
        row(CHAT, "2026-03-04T10:07:00+09:00", "sticker", "m/c.jpg", _sha(c), len(c)),
        f"{CLINIC},{CHAT},2026-03-04T10:07:00+09:00,photo,m/c.jpg",
    ]
    _write(folder / "manifest.csv", "\n".join(lines) + "\n", bom=True)
    # A second manifest lists a.jpg again (the same file for the same second).
    again = row(CHAT, "2026-03-04T10:00:00+09:00", "photo", "2026-03/m/a.jpg", _sha(a), len(a))
    _write(data_dir.media / "phone_Manifest.csv", lines[0] + "\n" + again + "\n")
    (data_dir.media / "notes.csv").write_text("not a manifest")

    with write_connection(data_dir) as conn:
        counts = load_media_files(conn, data_dir)
        stored = conn.execute(
            """SELECT f.chat_name, f.sent_at, f.kind, f.file, f.verification, m.sender_name, m.sent_at
               FROM media_files f LEFT JOIN messages m USING (message_id) ORDER BY f.kind, f.file"""
        ).fetchall()
    at = {clock: _at(clock) for clock in ("10:00:00", "10:05:00", "10:06:00", "10:07:00")}

    got = [
        (chat, _jst(sent), kind, file, verification, sender, _jst(message_at))
        for chat, sent, kind, file, verification, sender, message_at in stored
    ]
    assert got == [
        (CHAT, at["10:06:00"], "file", "2026-03/m/doc.pdf", "checksum_mismatch", "山田 花子", at["10:06:00"]),
        (CHAT, at["10:00:00"], "photo", "2026-03/m/a.jpg", "ok", "山田 花子", at["10:00:00"]),
        (CHAT, at["10:00:00"], "photo", "2026-03/m/b.jpg", "ok", STAFF, at["10:00:00"]),
        (CHAT, at["10:07:00"], "photo", "2026-03/m/c.jpg", "ok", "山田 花子", at["10:07:00"]),
        (CHAT, at["10:07:00"], "photo", "2026-03/m/gone.jpg", "missing_file", None, None),
        (CHAT, at["10:05:00"], "video", "2026-03/m/v.mp4", "checksum_mismatch", "山田 花子", at["10:05:00"]),
    ]
    assert counts == {
        "manifests": 2,
        "rows": 13,
        "ok": 3,
        "missing_file": 1,
        "checksum_mismatch": 2,
        "duplicates": 1,
        "linked": 5,
        "rejected": 6,
    }
    source = "media/2026-03/manifest.csv"
    rejects = [(f, line, reason) for f, line, _, reason in _rejects(data_dir) if f.startswith("media/")]
    assert rejects == [
        (source, 8, "file points outside media/: '../../outside.jpg'"),
        (source, 9, f"file is an absolute path, not one relative to the manifest: '{tmp_path / 'outside.jpg'}'"),
        (source, 10, "file points outside media/: 'm/link.jpg'"),
        (source, 11, "sent_at has no UTC offset: '2026-03-04 10:07:00'"),
        (source, 12, "unknown kind 'sticker' (expected one of photo, video, voice, file)"),
        (source, 13, "wrong column count: expected 7, found 5"),
    ]

    # Loading again replaces the rows and the manifests' rejects, and leaves the export's reject.
    with write_connection(data_dir) as conn:
        assert load_media_files(conn, data_dir) == counts
        assert conn.execute("SELECT count(*) FROM media_files").fetchone() == (6,)
    assert len(_rejects(data_dir)) == 7
    assert EXPORT_REJECT in _rejects(data_dir)


def _jst(value: datetime | None) -> datetime | None:
    """An instant as naive local time at +09:00."""
    return value and (value.astimezone(UTC) + timedelta(hours=9)).replace(tzinfo=None)


def test_no_tags_or_media_folders(data_dir: DataDir) -> None:
    data_dir.tags.rmdir()
    data_dir.media.rmdir()
    with write_connection(data_dir) as conn:
        assert load_chat_tags(conn, data_dir)["files"] == 0
        assert load_media_files(conn, data_dir)["manifests"] == 0


def test_a_file_listed_again_before_another_does_not_unpair_it(data_dir: DataDir) -> None:
    # Two photos in one second. a/ lists x.jpg; b/ lists it again (../a/x.jpg), then y.jpg: the repeat sits
    # between the two files in manifest order, so it must not take a place in the pairing.
    x, y = b"bytes of x", b"bytes of y"
    for name, data in (("a/x.jpg", x), ("b/y.jpg", y)):
        (data_dir.media / name).parent.mkdir(parents=True, exist_ok=True)
        (data_dir.media / name).write_bytes(data)
    header = ",".join(("account_name", "chat_name", "sent_at", "kind", "file", "sha256", "bytes"))

    def row(file: str, data: bytes) -> str:
        return f"{CLINIC},{CHAT},2026-03-04T10:00:00+09:00,photo,{file},{_sha(data)},{len(data)}"

    _write(data_dir.media / "a" / "manifest.csv", f"{header}\n{row('x.jpg', x)}\n")
    _write(data_dir.media / "b" / "manifest.csv", f"{header}\n{row('../a/x.jpg', x)}\n{row('y.jpg', y)}\n")
    with write_connection(data_dir) as conn:
        counts = load_media_files(conn, data_dir)
        stored = conn.execute(
            """SELECT f.file, m.sender_name FROM media_files f LEFT JOIN messages m USING (message_id)
               ORDER BY f.file"""
        ).fetchall()
    assert stored == [("a/x.jpg", "山田 花子"), ("b/y.jpg", STAFF)]  # both photos saved, in message order
    assert (counts["rows"], counts["ok"], counts["duplicates"], counts["linked"]) == (3, 2, 1, 2)


def test_a_manifest_row_out_of_range_is_rejected_and_the_rest_loads(data_dir: DataDir) -> None:
    photo = data_dir.media / "photo.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"jpeg")
    good = f"{CLINIC},{CHAT},2026-03-04T10:07:00+09:00,photo,photo.jpg,{_sha(b'jpeg')},4"
    rows = [
        good,
        f"{CLINIC},{CHAT},2026-03-04T10:00:00+09:00,photo,a\x00b.jpg,{_sha(b'x')},1",  # a NUL in `file`
        f"{CLINIC},{CHAT},2026-03-04T10:00:00+09:00,photo,photo.jpg,{_sha(b'jpeg')},²",  # a digit, not 0-9
        f"{CLINIC},{CHAT},2026-03-04T10:00:00+09:00,photo,photo.jpg,{_sha(b'jpeg')},{'9' * 23}",  # past BIGINT
    ]
    _write(data_dir.media / "manifest.csv", "account_name,chat_name,sent_at,kind,file,sha256,bytes\n" + "\n".join(rows))
    with write_connection(data_dir) as conn:
        counts = load_media_files(conn, data_dir)
        assert conn.execute("SELECT file, verification FROM media_files").fetchall() == [("photo.jpg", "ok")]
    assert (counts["ok"], counts["rejected"]) == (1, 3)
    rejects = [(line, reason) for f, line, _, reason in _rejects(data_dir) if f.startswith("media/")]
    assert rejects == [
        (3, "file holds a control character: 'a\\x00b.jpg'"),
        (4, "bytes is not a whole number: '²'"),
        (5, f"bytes is too large: '{'9' * 23}'"),
    ]


@pytest.mark.parametrize("folder", ["tags", "media"])
def test_a_tag_file_or_manifest_linked_to_outside_the_data_directory_is_not_read(
    data_dir: DataDir, tmp_path: Path, folder: str
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("account_name,chat_name,tag,sent_at,kind,file,sha256,bytes\nroot:x:0:0,secret,,,,,,\n")
    (data_dir.root / folder).mkdir(exist_ok=True)
    (data_dir.root / folder / "manifest.csv").symlink_to(secret)
    os.mkfifo(data_dir.root / folder / "pipe_manifest.csv")  # never opened: it would block
    with write_connection(data_dir) as conn:
        counts = load_chat_tags(conn, data_dir) if folder == "tags" else load_media_files(conn, data_dir)
    assert counts["rejected"] == 2
    rejects = [r for r in _rejects(data_dir) if r[0].startswith(folder)]
    assert rejects == [
        (f"{folder}/manifest.csv", None, None, "a link to a file outside the data directory: not read"),
        (f"{folder}/pipe_manifest.csv", None, None, "not a regular file (a pipe or a device): not read"),
    ]
    assert "root:x" not in str(_rejects(data_dir))
