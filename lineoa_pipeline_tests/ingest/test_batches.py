"""Batches: the files of a batch read together store exactly what they store read one by one.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

from pathlib import Path
from typing import Any

import duckdb
import pytest

from lineoa_pipeline.ingest.batches import duckdb_reason
from lineoa_pipeline.line_export.render import write_bulk_zip
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import IngestDir, read_tables
from lineoa_pipeline_tests.ingest.chats import CHAT, DOWNLOADED, export, reconciled

# --- reading a batch's files together, or one by one ---------------------------------------------------------

BEFORE = "User,x,2026/03/02,08:00:00,before\r\n"
AFTER = "User,x,2026/03/02,09:00:00,after\r\n"
# Files that a batch reads together as they read alone: line endings, blank lines, no last line break, no rows,
# rows a typed check rejects, a row dressed as the marker that separates files when they are read together.
CLEAN_BODIES = {
    "crlf": BEFORE + 'User,x,2026/03/02,08:30:00,"two\r\nlines, ""quoted"""\r\n' + AFTER,
    "lf": (BEFORE + 'User,x,2026/03/02,08:30:00,"two\nlines"\n' + AFTER).replace("\r\n", "\n"),
    "blank lines": "\r\n" + BEFORE + "\r\n\r\n" + AFTER + "\r\n",
    "no last line break": BEFORE + AFTER.rstrip(),
    "no rows": "",
    "typed rejects": BEFORE + "User,x,2026/13/45,08:00:00,bad date\r\nBot,x,2026/03/02,08:00:00,who\r\n" + AFTER,
    "marker-like row": BEFORE + "\x1e0123456789abcdef,0,,,\r\n\x1e,end,,,\r\n" + AFTER,
    "quote in an unquoted field": BEFORE + 'User,x,2026/03/02,08:10:00,say "hi" now\r\n' + AFTER,
}
# Files whose rows DuckDB rejects or cannot read: the batch is read again in halves, down to the bad file alone.
BAD_BODIES = {
    "too many columns": BEFORE + "User,x,2026/03/02,08:10:00,hi,extra\r\n" + AFTER,
    "too few columns": BEFORE + "User,x,2026/03/02\r\n" + AFTER,
    "quote open across rows": BEFORE + 'User,x,2026/03/02,08:10:00,x"\r\nUser,x,2026/03/02,08:11:00,"y\r\n' + AFTER,
}


def _drop_bodies(ingest_dir: IngestDir, bodies: dict[str, str], extra: dict[str, bytes] | None = None) -> None:
    for index, (name, body) in enumerate(bodies.items()):
        head = export([])
        if name == "lf":
            head = head.replace(b"\r\n", b"\n")
        if name == "no rows":
            head = head.rstrip(b"\r\n")
        ingest_dir.drop(f"{index:02d}_{name}.csv", head + body.encode())
    for name, data in (extra or {}).items():
        ingest_dir.drop(name, data)


def _stored(ingest_dir: IngestDir) -> dict[str, list[tuple[Any, ...]]]:
    with write_connection(ingest_dir.data_dir) as conn:
        return read_tables(conn)


def test_a_batch_read_together_stores_what_its_files_read_one_by_one_store(tmp_path: Path) -> None:
    together, alone = (IngestDir(DataDir(tmp_path / name)) for name in ("together", "alone"))
    for ingest_dir in (together, alone):
        ingest_dir.data_dir.create()
        _drop_bodies(ingest_dir, CLEAN_BODIES)
    for ingest_dir in (together, alone):
        write_bulk_zip(
            ingest_dir.data_dir.inbox / "bulk.zip",
            "さくら整体院",
            {"山田 花子": CHAT, "無言": []},
            downloaded_at=DOWNLOADED,
        )
    files = len(CLEAN_BODIES) + 2
    report = together.ingest()
    assert (report.files_read_together, report.files_read_alone, report.files_loaded) == (files, 0, files)
    report = alone.ingest(together=False)
    assert (report.files_read_together, report.files_read_alone) == (0, files)
    assert _stored(together) == _stored(alone)
    assert together.query("SELECT count(*) FROM rejected_rows") == [(4,)]  # two typed rejects, two marker-like
    assert together.query("SELECT count(*) FROM messages WHERE chat_name = 'marker-like row'") == [(2,)]


@pytest.mark.parametrize("bad", sorted(BAD_BODIES))
def test_a_batch_that_does_not_read_cleanly_together_is_read_file_by_file(tmp_path: Path, bad: str) -> None:
    together, alone = (IngestDir(DataDir(tmp_path / name)) for name in ("together", "alone"))
    bodies = {**CLEAN_BODIES, bad: BAD_BODIES[bad]}
    for ingest_dir in (together, alone):
        ingest_dir.data_dir.create()
        _drop_bodies(ingest_dir, bodies)
    report = together.ingest()
    assert (report.files_read_together, report.files_read_alone) == (len(bodies) - 1, 1)
    alone.ingest(together=False)
    assert _stored(together) == _stored(alone)
    assert reconciled(together) == []


def test_a_read_error_gives_duckdbs_reason_without_the_row_it_quotes(tmp_path: Path) -> None:
    # DuckDB quotes the offending row ("Original Line: ..."): a customer's message must not reach the log or
    # quarantined_files through it.
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4,private message\n", encoding="utf-8")
    with pytest.raises(duckdb.Error) as caught:
        duckdb.sql(
            f"SELECT * FROM read_csv('{path}', auto_detect = false, header = true, delim = ',', quote = '\"',"
            " strict_mode = true, columns = {'a': 'VARCHAR', 'b': 'VARCHAR'})"
        ).fetchall()
    assert "private message" in str(caught.value)
    reason = duckdb_reason(caught.value)
    assert "private message" not in reason and "CSV Error on Line: 3" in reason and "Found: 3" in reason
