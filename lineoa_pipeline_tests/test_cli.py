"""`lineoa status` from the command line: what a user types, what a user reads."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from lineoa_pipeline import cli
from lineoa_pipeline.datadir import DataDir
from lineoa_pipeline.exports.render import ChatMessage, render_export
from lineoa_pipeline.warehouse import publish_snapshot
from lineoa_pipeline_tests.conftest import BuildWarehouse


def test_status_before_any_run_says_what_to_do(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = DataDir(tmp_path / "empty")
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
