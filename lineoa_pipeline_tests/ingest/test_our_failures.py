"""A failure of ours (a disk full, a file too large) fails the run with its reason and leaves the input to
stage at the next run: only a fault in the input quarantines it."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from lineoa_pipeline_tests.helpers import IngestDir
from lineoa_pipeline_tests.ingest.chats import export, msg

# Stages the data directory with files limited to 3 MB (RLIMIT_FSIZE: a write past it fails with EFBIG, as on
# a full disk), and prints what failed.
STAGE_LIMITED = """
import resource, signal, sys
from pathlib import Path
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.ingest.staging import scratch_folders, stage_pending
from lineoa_pipeline.warehouse.connection import write_connection
data_dir = DataDir(Path(sys.argv[1]))
with write_connection(data_dir) as conn:
    archive_inbox(conn, data_dir, log=lambda _: None)
    conn.execute("CHECKPOINT")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))
    try:
        stage_pending(conn, data_dir, log=lambda _: None)
    except Exception as exc:
        print(type(exc).__name__, exc)
"""


def test_a_full_disk_while_extracting_fails_the_run_and_the_zip_stays_pending(ingest_dir: IngestDir) -> None:
    # a member of about 5 MB that deflates well: its spool outgrows the limit, the zip does not
    rows = [
        msg("User", "山田", f"2026-03-01 10:{i // 60 % 60:02d}:{i % 60:02d}", f"message {i}") for i in range(80_000)
    ]
    backup = ingest_dir.data_dir.inbox / "backup.zip"
    with zipfile.ZipFile(backup, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("00001_20260301_20260301_山田.csv", export(rows))
    assert backup.stat().st_size < 2 << 20
    result = subprocess.run(
        [sys.executable, "-c", STAGE_LIMITED, str(ingest_dir.data_dir.root)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert result.stdout.startswith("SpoolFailed could not write extracted zip members"), result.stdout
    assert "File too large" in result.stdout
    assert ingest_dir.query("SELECT count(*) FROM quarantined_files") == [(0,)]
    assert ingest_dir.query("SELECT count(*) FROM _inputs WHERE staged_at IS NULL") == [(1,)]
    # with room again, the next run stages it
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined, report.messages_new) == (1, 0, len(rows))
