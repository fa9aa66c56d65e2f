"""Small truths of the reading commands: a search with no hit and an empty export say so (exit status 1,
nothing written), a huge --limit is an argument error, and transcripts of an account gone are removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.history.export import refresh_transcripts, transcripts_folder
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection
from lineoa_pipeline_tests.history.sample import BANGKOK, CLINIC, build_history


@pytest.fixture
def root(tmp_path: Path) -> str:
    return str(build_history(tmp_path).data_dir.root)


def test_search_with_no_hit_says_so_in_one_line(root: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["search", "--data-dir", root, "no such words"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.strip().splitlines() == ["lineoa: search: no message contains 'no such words'"]
    assert cli.main(["search", "--data-dir", root, "--json", "no such words"]) == 1
    assert capsys.readouterr().out.strip() == "[]"


@pytest.mark.parametrize("fmt", ["html", "xlsx", "csv"])
def test_an_empty_export_exits_1_and_writes_nothing(
    root: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    out = tmp_path / "out"
    assert cli.main(["export", "--data-dir", root, "--out", str(out), "--format", fmt, "--account", "nobody"]) == 1
    assert not out.exists()
    assert "no messages match" in capsys.readouterr().err


@pytest.mark.parametrize("limit", ["99999999999999999999999", "0", "-1"])
def test_a_limit_out_of_range_is_an_argument_error(root: str, capsys: pytest.CaptureFixture[str], limit: str) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["search", "--data-dir", root, "--limit", limit, "abc"])
    assert exited.value.code == 2
    assert "--limit" in capsys.readouterr().err


def test_transcripts_of_an_account_gone_are_removed(root: str) -> None:
    data_dir = DataDir(Path(root))
    refresh_transcripts(data_dir, Settings())
    folder = transcripts_folder(data_dir)
    before = {p.relative_to(folder) for p in folder.rglob("*.html")}
    assert any(BANGKOK in str(p) or "Bangkok" in str(p) for p in before)
    with write_connection(data_dir) as conn:  # as a rebuild without that account's exports leaves it
        conn.execute("DELETE FROM messages WHERE account_name = ?", [BANGKOK])
    publish_snapshot(data_dir)
    refresh_transcripts(data_dir, Settings())
    after = {p.relative_to(folder) for p in folder.rglob("*.html")}
    assert after and not any("Bangkok" in str(p) for p in after)
    assert all(CLINIC not in str(p) or p in before for p in after)
    assert not [d for d in folder.iterdir() if d.is_dir() and not any(d.iterdir())]
