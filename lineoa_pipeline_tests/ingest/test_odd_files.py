"""One odd file never stops ingestion: old-Mac line ends (CR alone) read as the export they are, any error
while reading one input quarantines that input (never the run, nor every later run), a control character
in a name (a NUL included) is kept, never fatal, and a file name that is not UTF-8 is read, never fatal."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import IngestDir, open_warehouse
from lineoa_pipeline_tests.ingest.chats import CHAT, GOOD, export, msg

MESSAGES = "SELECT sender_type, sender_name, sent_at, content FROM messages ORDER BY sent_at, export_seq"


@pytest.mark.parametrize("excel", [False, True], ids=["utf8", "cp932"])
def test_an_export_saved_with_cr_alone_loads_as_the_crlf_one(
    new_data_dir: Callable[[str], DataDir], excel: bool
) -> None:
    chat = [*CHAT, msg("User", "山田 花子", "2026-03-31 23:59:59", "一行目\n二行目")]
    crlf = export(chat, excel=excel)
    as_written, mac = IngestDir(new_data_dir("crlf")), IngestDir(new_data_dir("mac"))
    as_written.drop("山田花子.csv", crlf)
    mac.drop("山田花子.csv", crlf.replace(b"\r\n", b"\r"))  # "CSV (Macintosh)": every line break a CR
    assert as_written.ingest().files_loaded == 1
    report = mac.ingest()
    assert (report.files_loaded, report.files_quarantined, report.rejected) == (1, 0, 0)
    assert mac.query(MESSAGES) == as_written.query(MESSAGES)
    assert mac.query("SELECT count(*) FROM messages WHERE content = '一行目' || chr(10) || '二行目'") == [(1,)]


def test_an_error_reading_one_input_quarantines_it_and_every_later_run_goes_on(ingest_dir: IngestDir) -> None:
    # a CR alone inside the time-zone row of an LF file: Python's csv reader raised on it, failing the run
    odd = export(GOOD).replace(b"\r\n", b"\n").replace(b"'+09:00", b"'+09\r:00")
    for i in range(3):
        ingest_dir.drop(f"good{i}.csv", export(GOOD, account=f"Shop {i}"))
    ingest_dir.drop("odd.csv", odd)
    report = ingest_dir.ingest()
    assert (report.files_loaded, report.files_quarantined) == (3, 1)
    ((path, why),) = ingest_dir.query("SELECT file_path, reason FROM quarantined_files")
    assert path == "odd.csv" and why
    ingest_dir.drop("good3.csv", export(GOOD, account="Shop 3"))
    assert ingest_dir.ingest().files_loaded == 1  # the archived odd file never stops a later run
    assert ingest_dir.query("SELECT count(*) FROM quarantined_files") == [(1,)]


def test_a_nul_in_an_account_name_is_kept_and_never_fatal(
    pipeline_dir: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = "さくら\x00整体院"
    pipeline_dir.inbox.mkdir(parents=True, exist_ok=True)
    (pipeline_dir.inbox / "山田花子.csv").write_bytes(export(CHAT, account=account))
    root = str(pipeline_dir.root)
    assert cli.main(["run", "--data-dir", root]) == 0
    conn = open_warehouse(pipeline_dir)
    try:
        assert conn.execute("SELECT DISTINCT account_name FROM messages").fetchall() == [(account,)]
    finally:
        conn.close()
    capsys.readouterr()
    assert cli.main(["status", "--data-dir", root, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {a["account_name"] for a in report["accounts"]} == {account}
    assert cli.main(["status", "--data-dir", root]) == 0
    out = tmp_path / "out"
    assert cli.main(["export", "--data-dir", root, "--out", str(out), "--format", "csv"]) == 0
    assert "予約したいです" in next(out.glob("*.csv")).read_text(encoding="utf-8")
    capsys.readouterr()
    # a lake pushes an account filter down to its catalog, which a NUL would cut short (or match nothing)
    assert cli.main(["show", "--data-dir", root, "--account", account, "--chat", "山田花子"]) == 0
    assert "ありがとう" in capsys.readouterr().out
    assert cli.main(["search", "--data-dir", root, "--account", account, "予約", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert cli.main(["media", "pending", "--data-dir", root, "--account", account, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_a_file_name_that_is_not_utf8_is_read_as_cp932_and_never_stops_a_run(pipeline_dir: DataDir) -> None:
    """A zip unpacked by a tool that writes its Japanese names in cp932 leaves file names that are not UTF-8
    (in the inbox, tags/ or media/): such a name is read as cp932, and one that is not that either keeps its
    bad bytes as %NN."""
    for folder in (pipeline_dir.inbox, pipeline_dir.tags):
        folder.mkdir(parents=True, exist_ok=True)
    for name, account in (("山田花子.csv".encode("cp932"), "Shop A"), (b"\x81 x.csv", "Shop B")):
        with open(os.path.join(os.fsencode(pipeline_dir.inbox), name), "wb") as out:
            out.write(export(CHAT, account=account))
    with open(os.path.join(os.fsencode(pipeline_dir.tags), "タグ.csv".encode("cp932")), "wb") as out:
        out.write("account_name,chat_name,tag\nShop A,山田花子,vip\nShop A\n".encode())
    root = str(pipeline_dir.root)
    assert cli.main(["run", "--data-dir", root]) == 0
    conn = open_warehouse(pipeline_dir)
    try:
        names = "SELECT DISTINCT account_name, chat_name, source_file FROM messages ORDER BY ALL"
        assert conn.execute(names).fetchall() == [
            ("Shop A", "山田花子", "山田花子.csv"),
            ("Shop B", "%81 x", "%81 x.csv"),
        ]
        assert conn.execute("SELECT account_name, chat_name, tag FROM chat_tags").fetchall() == [
            ("Shop A", "山田花子", "vip")
        ]
        assert conn.execute("SELECT source_file, line FROM rejected_rows").fetchall() == [("tags/タグ.csv", 3)]
    finally:
        conn.close()
    assert cli.main(["run", "--data-dir", root]) == 0  # the same files again: nothing new, no failure
