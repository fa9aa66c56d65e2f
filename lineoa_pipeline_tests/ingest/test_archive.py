"""The archive step: every readable inbox file copied in, byte for byte, under its SHA-256; what cannot be read
now (a dangling link, a file still being written) is reported and tried again at the next run; nothing is
read through a link out of the data directory, nor from a pipe or a device."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.ingest.archive import Archive, archive_inbox
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import IngestDir
from lineoa_pipeline_tests.ingest.chats import GOOD, export


def archive(ingest_dir: IngestDir) -> tuple[list[str], list[tuple[str, str]]]:
    """Run the archive step: what it said, and the inputs it recorded (path, SHA-256)."""
    said: list[str] = []
    with write_connection(ingest_dir.data_dir) as conn:
        archive_inbox(conn, ingest_dir.data_dir, log=said.append)
        inputs = conn.execute("SELECT file_path, sha256 FROM _inputs ORDER BY 1").fetchall()
    return said, inputs


def test_an_unreadable_inbox_entry_is_reported_skipped_and_taken_once_readable(ingest_dir: IngestDir) -> None:
    inbox = ingest_dir.data_dir.inbox
    ingest_dir.drop("good.csv", export(GOOD))
    later = ingest_dir.data_dir.root / "downloads" / "20260301_20260301_山田.csv"
    (inbox / "20260301_20260301_山田.csv").symlink_to(later)  # dangling until the download lands
    (inbox / "loop.csv").symlink_to(inbox / "loop.csv")
    said, inputs = archive(ingest_dir)
    assert [path for path, _ in inputs] == ["good.csv"]
    skipped = [line for line in said if line.startswith("skipped")]
    assert len(skipped) == 2 and all("tried again at the next run" in line for line in skipped)
    assert any("inbox/20260301_20260301_山田.csv: could not be read: No such file" in line for line in skipped)

    later.parent.mkdir()
    later.write_bytes(export(GOOD, account="Other"))
    report = ingest_dir.ingest()  # good.csv (archived before) and the link, now readable
    assert (report.files_loaded, report.files_quarantined) == (2, 0)
    assert ingest_dir.query("SELECT DISTINCT account_name FROM messages ORDER BY 1") == [("Other",), ("さくら整体院",)]


def test_a_link_out_of_the_data_directory_or_a_pipe_is_never_read(ingest_dir: IngestDir, tmp_path: Path) -> None:
    outside = tmp_path / "passwd.csv"
    outside.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    (ingest_dir.data_dir.inbox / "secret.csv").symlink_to(outside)
    os.mkfifo(ingest_dir.data_dir.inbox / "pipe.csv")  # opening it would wait for a writer for ever
    ingest_dir.drop("good.csv", export(GOOD))
    said, inputs = archive(ingest_dir)
    assert [path for path, _ in inputs] == ["good.csv"]
    assert "skipped inbox/secret.csv: a link to a file outside the data directory: not read" in " ".join(said)
    assert "skipped inbox/pipe.csv: not a regular file (a pipe or a device): not read" in " ".join(said)
    assert ingest_dir.ingest().files_loaded == 1  # good.csv alone
    assert not any(b"root:x" in p.read_bytes() for p in ingest_dir.data_dir.archive.iterdir())


def test_a_file_still_being_written_is_left_for_the_next_run(ingest_dir: IngestDir) -> None:
    # Many files before it, so that it grows between the inbox's listing and its copy.
    for i in range(300):
        ingest_dir.drop(f"a/{i:03d}.csv", export([], account=f"Shop {i}"))
    growing = ingest_dir.drop("z/20260301_20260301_山田.csv", export(GOOD))
    done = threading.Event()

    def write() -> None:
        with open(growing, "ab") as out:
            while not done.is_set():
                out.write(b"User,x,2026/03/01,10:00:00,more\r\n")
                out.flush()
                time.sleep(0.0005)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        said, inputs = archive(ingest_dir)
    finally:
        done.set()
        writer.join()
    assert len(inputs) == 300 and all(path.startswith("a/") for path, _ in inputs)
    assert any("skipped inbox/z/20260301_20260301_山田.csv: still being written" in line for line in said)
    said, inputs = archive(ingest_dir)
    assert "z/20260301_20260301_山田.csv" in [path for path, _ in inputs]


def test_an_archived_copy_is_trusted_only_when_its_hash_matches(ingest_dir: IngestDir) -> None:
    data = export(GOOD)
    ingest_dir.drop("20260301_20260301_山田.csv", data)
    archive(ingest_dir)
    copy = Archive(ingest_dir.data_dir.archive).path_of(hashlib.sha256(data).hexdigest())
    copy.write_bytes(data.replace(b"ok", b"KO"))  # altered in place, the same size
    ingest_dir.drop("again/20260301_20260301_山田.csv", data)
    archive(ingest_dir)
    assert copy.read_bytes() == data


def test_a_run_reports_an_unreadable_entry_and_goes_on(pipeline_dir: DataDir) -> None:
    (pipeline_dir.inbox / "gone.csv").symlink_to(pipeline_dir.root / "nowhere.csv")
    (pipeline_dir.inbox / "good.csv").write_bytes(export(GOOD))
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.files_loaded == 1
