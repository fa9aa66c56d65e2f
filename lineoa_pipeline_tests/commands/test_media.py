"""`lineoa media pending | save` on a real warehouse: listing what LINE will delete, saving one file, and the
next load of the manifests marking its placeholder saved."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.history.export import refresh_transcripts, transcripts_folder
from lineoa_pipeline.ingest.tags_media import load_media_files
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.retention.media import MANIFEST_NAME
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection
from lineoa_pipeline_tests.helpers import IngestDir

JST = timezone(timedelta(hours=9))
PHOTO = "写真を送信しました。"


@pytest.fixture
def shop(ingest_dir: IngestDir) -> tuple[DataDir, datetime]:
    """A group chat of the real clock: a photo 10 days ago, two photos in one second an hour later, a file."""
    base = (datetime.now(JST) - timedelta(days=10)).replace(tzinfo=None, minute=0, second=5, microsecond=0)
    twin = base + timedelta(hours=1, seconds=-5)
    messages = [
        ChatMessage("User", "佐藤", base, PHOTO),
        ChatMessage("User", "鈴木", twin, PHOTO),
        ChatMessage("User", "鈴木", twin, PHOTO),
        ChatMessage("User", "佐藤", twin + timedelta(minutes=5), "ファイルを送信しました。"),
    ]
    ingest_dir.drop("ヨガ教室.csv", render_export("さくら整体院", messages, downloaded_at=base + timedelta(days=1)))
    ingest_dir.ingest()
    load_media(ingest_dir.data_dir)
    return ingest_dir.data_dir, base


def load_media(data_dir: DataDir) -> dict[str, int]:
    """What the next run's media step does: the manifests loaded, then published to the readers."""
    with write_connection(data_dir) as conn:
        counts = load_media_files(conn, data_dir)
    if lake.configured(data_dir) is None:
        publish_snapshot(data_dir)
    return counts


def media(data_dir: DataDir, *args: str) -> int:
    return cli.main(["media", *args, "--data-dir", str(data_dir.root)])


def test_pending_lists_every_unsaved_placeholder_soonest_first(
    shop: tuple[DataDir, datetime], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, base = shop
    assert media(data_dir, "pending", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["chat_name"]) for r in rows] == [("file", "ヨガ教室"), *[("photo", "ヨガ教室")] * 3]
    assert rows[1]["sent_at"] == base.replace(tzinfo=JST).isoformat()
    assert [r["expires_at"] for r in rows] == sorted(r["expires_at"] for r in rows)  # group: a file goes in 7 days
    assert media(data_dir, "pending", "--within", "1", "--json") == 0  # the photos go in 4 days
    assert [r["kind"] for r in json.loads(capsys.readouterr().out)] == ["file"]
    assert media(data_dir, "pending", "--account", "みどり歯科") == 0
    assert capsys.readouterr().out.startswith("nothing to save")
    assert media(data_dir, "pending", "--csv", "--account", "さくら整体院") == 0
    table = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(table) == 4 and table[0]["status"] == "lost"
    assert media(data_dir, "pending") == 0
    assert "ヨガ教室" in capsys.readouterr().out


def test_media_speaks_the_command_lines_language(
    shop: tuple[DataDir, datetime], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, base = shop
    monkeypatch.setenv("LC_ALL", "ja_JP.UTF-8")
    assert media(data_dir, "pending", "--account", "みどり歯科") == 0
    assert capsys.readouterr().out.startswith("保存が必要なものはありません")
    assert media(data_dir, "pending") == 0
    assert capsys.readouterr().out.split()[:6] == ["期限", "状態", "種類", "送信日時", "チャット", "アカウント"]
    where = ("--account", "さくら整体院", "--chat", "ヨガ教室", "--sent", f"{base:%Y-%m-%d %H:%M}")
    assert media(data_dir, "save", str(tmp_path / "missing.jpg"), *where) == 2
    assert capsys.readouterr().err == f"lineoa: {tmp_path / 'missing.jpg'}: ファイルがありません\n"


def test_save_copies_records_and_the_next_load_marks_it_saved(
    shop: tuple[DataDir, datetime], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, base = shop
    download = tmp_path / "IMG_0001.jpg"
    download.write_bytes(b"\xff\xd8 a photo")
    sent = f"{base:%Y-%m-%d %H:%M}"  # to the minute, as the chat screen shows it
    where = ("--account", "さくら整体院", "--chat", "ヨガ 教室")  # the chat as a person types it
    assert media(data_dir, "save", str(download), *where, "--sent", sent) == 0
    assert "photo sent in ヨガ教室" in capsys.readouterr().out
    copy = data_dir.media / "さくら整体院" / "ヨガ教室" / "IMG_0001.jpg"
    assert copy.read_bytes() == download.read_bytes()
    rows = list(csv.DictReader((data_dir.media / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()))
    assert rows == [
        {
            "account_name": "さくら整体院",
            "chat_name": "ヨガ教室",
            "sent_at": base.replace(tzinfo=JST).isoformat(),
            "kind": "photo",
            "file": "さくら整体院/ヨガ教室/IMG_0001.jpg",
            "sha256": hashlib.sha256(download.read_bytes()).hexdigest(),
            "bytes": str(len(download.read_bytes())),
        }
    ]

    assert load_media(data_dir)["linked"] == 1
    assert media(data_dir, "pending", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_save_refuses_a_time_of_no_placeholder_and_asks_which_of_several(
    shop: tuple[DataDir, datetime], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, base = shop
    download = tmp_path / "photo.jpg"
    download.write_bytes(b"photo")
    where = ("--account", "さくら整体院", "--chat", "ヨガ教室")
    assert media(data_dir, "save", str(download), *where, "--sent", f"{base - timedelta(days=1):%Y-%m-%d %H:%M}") == 1
    assert "was sent at" in capsys.readouterr().err
    twin = f"{base + timedelta(hours=1, seconds=-5):%Y-%m-%d %H:%M:%S}"
    assert media(data_dir, "save", str(download), *where, "--sent", twin) == 1
    assert "give --index N (1 to 2" in capsys.readouterr().err
    assert media(data_dir, "save", str(download), *where, "--sent", twin, "--index", "2") == 1
    assert "save --index 1" in capsys.readouterr().err  # the files of one second pair in order
    assert not (data_dir.media / MANIFEST_NAME).exists()
    assert media(data_dir, "save", str(download), *where, "--sent", twin, "--index", "1") == 0
    second = tmp_path / "photo2.jpg"
    second.write_bytes(b"another photo")
    load_media(data_dir)
    assert media(data_dir, "save", str(second), *where, "--sent", twin, "--index", "2") == 0
    manifest = (data_dir.media / MANIFEST_NAME).read_text(encoding="utf-8")
    assert manifest.count("\n") == 3  # the header and two files


def test_the_transcript_of_an_unsaved_photo_shows_its_deadline_and_the_command(
    shop: tuple[DataDir, datetime], tmp_path: Path
) -> None:
    data_dir, base = shop
    refresh_transcripts(data_dir, Settings())
    (page,) = [p for p in transcripts_folder(data_dir).rglob("*.html") if p.name != "index.html"]
    text = html.unescape(page.read_text(encoding="utf-8"))
    deletes = base + timedelta(days=14)  # a group's photo
    assert f"LINE での削除: {deletes:%Y-%m-%d %H:%M}" in text
    command = f"lineoa media save FILE --account 'さくら整体院' --chat 'ヨガ教室' --sent \"{base:%Y-%m-%d %H:%M:%S}\""
    assert command in text

    download = tmp_path / "photo.jpg"
    download.write_bytes(b"photo")
    assert media(data_dir, "save", str(download), *shlex.split(command.split("FILE ")[1])) == 0
    load_media(data_dir)
    refresh_transcripts(data_dir, Settings())
    text = html.unescape(page.read_text(encoding="utf-8"))
    assert command not in text and "さくら整体院/ヨガ教室/photo.jpg" in text
