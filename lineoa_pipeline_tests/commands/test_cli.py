"""`lineoa status` from the command line: what a user types, what a user reads."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection
from lineoa_pipeline_tests.helpers import BuildWarehouse
from lineoa_pipeline_tests.processes import stop_group


def test_status_before_any_run_says_what_to_do(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = DataDir(tmp_path / "empty")
    data_dir.root.mkdir()
    for extra in ([], ["--json"]):
        assert cli.main(["status", "--data-dir", str(data_dir.root), *extra]) == 1
        out, err = capsys.readouterr()
        expected = f"lineoa: no warehouse in {data_dir.root} yet: run `lineoa run` first"
        assert out == "" and err.strip().splitlines() == [expected]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2025-08-28T07:00:00+07:00", "2025-08-28T07:00:00+07:00"),
        ("2025-08-28T07:00", "2025-08-28T07:00:00+09:00"),  # no offset: the settings' time zone
        ("2025-08-28", "2025-08-28T00:00:00+09:00"),
    ],
)
def test_status_as_of_takes_any_iso_8601_time(
    build_warehouse: BuildWarehouse, capsys: pytest.CaptureFixture[str], as_of: str, expected: str
) -> None:
    row = ChatMessage("User", "山田 花子", datetime(2025, 3, 10, 12, 0), "予約したいです")
    export = render_export("さくら整体院", [row], downloaded_at=datetime(2025, 4, 2))
    data_dir = build_warehouse({"山田花子.csv": export})
    publish_snapshot(data_dir)
    assert cli.main(["status", "--data-dir", str(data_dir.root), "--json", "--as-of", as_of]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == expected


def test_status_refuses_a_time_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["status", "--as-of", "next tuesday"])
    assert "not an ISO-8601 time: 'next tuesday'" in capsys.readouterr().err


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31T23:59:59", "1999-12-31T23:59:59+09:00"])
def test_status_refuses_a_time_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["status", "--data-dir", str(tmp_path), "--as-of", as_of])
    assert stopped.value.code == 2
    assert f"argument --as-of: {as_of!r} is out of range" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "rebuild", "status"])
def test_a_data_dir_that_does_not_exist_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    missing = tmp_path / "typo"
    assert cli.main([command, "--data-dir", str(missing)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"lineoa: --data-dir {missing}: no such folder")
    monkeypatch.setenv("LINEOA_DATA_DIR", str(missing))
    assert cli.main([command]) == 2
    assert f"LINEOA_DATA_DIR {missing}: no such folder" in capsys.readouterr().err
    assert not missing.exists()  # a run used to make it and report "files loaded 0"


@pytest.mark.parametrize("command", ["run", "rebuild", "status", "demo"])
def test_a_data_dir_that_is_a_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (tmp_path / "notes.txt").write_text("x")
    assert cli.main([command, "--data-dir", str(tmp_path / "notes.txt")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"lineoa: --data-dir {tmp_path / 'notes.txt'} is a file, not a folder"


def test_a_warehouse_held_by_another_program_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    with write_connection(data_dir):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; held = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(120)",
            str(data_dir.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "open"
        assert cli.main(["run", "--data-dir", str(data_dir.root)]) == 1
    finally:
        stop_group(holder, grace=2)
    (line,) = capsys.readouterr().err.strip().splitlines()  # used to be ~90 lines of traceback
    assert line.startswith("lineoa: another program (") and f"process {holder.pid})" in line
    assert f"has {data_dir.warehouse} open" in line
