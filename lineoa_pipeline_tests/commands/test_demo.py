"""`lineoa demo` writes into its own folder, never into a data directory that holds real exports."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.commands.demo import CAFE_TH, CAFE_TW, DENTAL, MARK, YOGA, DemoRefused, write_demo_data
from lineoa_pipeline.history.html import file_stem
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import IngestDir
from lineoa_pipeline_tests.history.sample import KANA

# What a transcript page says in its own words: the header's line, date lines, media cards and notes.
PAGE_LABELS = re.compile(
    r'<p>([^<]*)</p>|<div class="date"><span>([^<]*)<|class="what">([^<]*)<|class="bubble note">([^<]*)<'
)


def real_data_dir(root: Path, holds: str) -> DataDir:
    """A data directory a user's runs made: an archived export, or a warehouse."""
    data_dir = DataDir(root)
    data_dir.create()
    if holds == "archive":
        (data_dir.archive / ("a" * 64)).write_bytes(b"a real export")
    else:
        data_dir.warehouse.write_bytes(b"a real warehouse")
    return data_dir


def tree(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("holds", ["archive", "warehouse"])
def test_demo_refuses_a_data_directory_with_real_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, holds: str
) -> None:
    data_dir = real_data_dir(tmp_path / "data", holds)
    before = tree(data_dir.root)
    assert cli.main(["demo", "--data-dir", str(data_dir.root)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"lineoa: {data_dir.root} already holds") and line.endswith("or add --force.")
    assert tree(data_dir.root) == before  # used to replace lineoa.toml, tags and the manifest, and archive the demo

    if holds == "warehouse":  # not a database: the demo's run would fail on it, so only the writing
        write_demo_data(data_dir.root, force=True)
        assert data_dir.settings_file.exists() and any(data_dir.inbox.rglob("*.zip"))
        return
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert cli.main(["demo", "--data-dir", str(data_dir.root), "--force"]) == 0  # told to: written, then run
    assert f"demo data written to {data_dir.root}" in capsys.readouterr().out
    assert data_dir.settings_file.exists() and data_dir.snapshot.exists()
    assert (data_dir.archive / ("a" * 64)).read_bytes() == b"a real export"  # the user's archive stays


def test_demo_may_write_again_into_a_folder_it_made(tmp_path: Path) -> None:
    root = tmp_path / "demo-data"
    write_demo_data(root)
    (root / "archive").mkdir()
    (root / "archive" / ("a" * 64)).write_bytes(b"the demo's own archive")
    write_demo_data(root)  # a second `lineoa demo` is not refused: it recreates its folder whole
    assert (root / MARK).exists() and not (root / "archive").exists()
    (root / "archive").mkdir()
    (root / "archive" / ("a" * 64)).write_bytes(b"an archive the demo did not make")
    (root / MARK).unlink()
    with pytest.raises(DemoRefused):
        write_demo_data(root)


def test_demo_defaults_to_its_own_folder_not_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = real_data_dir(tmp_path / "data", "archive")
    before = tree(real.root)
    monkeypatch.setenv("LINEOA_DATA_DIR", str(real.root))  # where the user's exports go
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(cli, "DEMO_DIR", tmp_path / "demo-data")
    assert cli.main(["demo"]) == 0
    assert f"demo data written to {tmp_path / 'demo-data'}" in capsys.readouterr().out
    assert DataDir(tmp_path / "demo-data").snapshot.exists()
    assert tree(real.root) == before

    transcripts = tmp_path / "demo-data" / "transcripts"
    for account, lang in ((DENTAL, "ja"), (YOGA, "en"), (CAFE_TW, "zh-TW"), (CAFE_TH, "th")):
        pages = [p.read_text(encoding="utf-8") for p in (transcripts / file_stem(account, account)).glob("*.html")]
        assert len(pages) >= 2 and all(f'<html lang="{lang}">' in page for page in pages), account
        labels = [text for page in pages for match in PAGE_LABELS.findall(page) for text in match if text]
        assert len(labels) >= 5
        if lang != "ja":  # the demo's Thai and Taiwanese transcripts carry their own labels
            assert not [text for text in labels if KANA.search(text)], account


def test_demo_run_again_on_its_folder_recreates_it_whole(tmp_path: Path) -> None:
    # the README's first command, run again later: its exports are dated from a new now
    first, later = datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 23, tzinfo=UTC)
    again = IngestDir(DataDir(tmp_path / "demo-data"))
    write_demo_data(again.data_dir.root, now=first)
    again.ingest()
    write_demo_data(again.data_dir.root, now=later)
    again.ingest()
    once = IngestDir(DataDir(tmp_path / "once"))
    write_demo_data(once.data_dir.root, now=later)
    once.ingest()
    count = "SELECT count(*), count(DISTINCT message_id) FROM messages"
    assert again.query(count) == once.query(count)
    assert again.query("SELECT count(*) FROM source_files") == once.query("SELECT count(*) FROM source_files")
