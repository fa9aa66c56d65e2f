"""`lineoa search`, `show`, `export`, `migrate` and `demo` through the command line: every option and
every exit, on the demo's data."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import connect

HIT_KEYS = ("message_id", "account_name", "chat_name", "sender_type", "sender_name", "sent_at", "content")


def _customers(data_dir: DataDir) -> set[str]:
    """The demo's customers (one-to-one chats and the users who write in them), as an export must hide them."""
    conn = connect(data_dir.root)
    try:
        rows = conn.execute(
            """SELECT chat_name FROM messages WHERE chat_type = 'one_to_one'
               UNION SELECT sender_name FROM messages WHERE chat_type = 'one_to_one' AND sender_type = 'user'"""
        ).fetchall()
    finally:
        conn.close()
    return {name for (name,) in rows if len(name) >= 4}  # a name long enough never to occur by chance


def _texts(out: Path) -> str:
    """Every text an export wrote: file names, pages, CSV files and every cell of every workbook."""
    texts = [str(p.relative_to(out)) for p in out.rglob("*")]
    for path in (p for p in out.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            texts += [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c]
            book.close()
        elif path.suffix in (".html", ".csv"):
            texts.append(path.read_text(encoding="utf-8-sig"))
    return "\n".join(texts)


@pytest.mark.parametrize("fmt", ["html", "xlsx", "csv"])
def test_export_in_every_format_with_and_without_mask(
    demo_warehouse: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    customers = _customers(demo_warehouse)
    assert len(customers) >= 5
    written = {}
    for mask in (False, True):
        out = tmp_path / f"{fmt}-{mask}"
        args = ["export", "--data-dir", str(demo_warehouse.root), "--out", str(out), "--format", fmt]
        assert cli.main([*args, *(["--mask"] if mask else [])]) == 0
        assert capsys.readouterr().out.strip()
        suffixes = {p.suffix for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
        assert f".{fmt}" in suffixes
        written[mask] = _texts(out)
    assert any(name in written[False] for name in customers)  # the names are there to hide ...
    assert [name for name in customers if name in written[True]] == []  # ... and --mask hides every one
    assert "顧客0001" in written[True] and "顧客0001" not in written[False]


def test_search_json_and_limit(demo_warehouse: DataDir, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", "--data-dir", str(demo_warehouse.root), "予約"]
    assert cli.main([*args, "--json"]) == 0
    every = json.loads(capsys.readouterr().out)
    assert len(every) > 3 and all("予約" in hit["content"] for hit in every)
    assert set(every[0]) == {
        "message_id",
        "account_name",
        "chat_name",
        "sender_type",
        "sender_name",
        "sent_at",
        "content",
    }
    assert cli.main([*args, "--json", "--limit", "3"]) == 0
    assert json.loads(capsys.readouterr().out) == every[:3]  # the newest three
    assert cli.main([*args, "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    # a line break shows as ⏎ between spaces (the demo is written from the clock: a hit may hold one or not)
    shown = [hit["content"].replace("\n", " ⏎ ") for hit in every[:3]]
    assert all(text in line for text, line in zip(shown, lines, strict=True))
    with pytest.raises(SystemExit) as refused:
        cli.main([*args, "--limit", "0"])
    assert refused.value.code == 2 and "not a whole number from 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [["search", "予約"], ["show", "--account", "a", "--chat", "c"], ["export", "--out", "OUT"]],
    ids=["search", "show", "export"],
)
def test_before_the_first_run_reading_exits_1_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    out = tmp_path / "out"
    argv = [str(out) if arg == "OUT" else arg for arg in command]
    assert cli.main([*argv, "--data-dir", str(data_dir.root)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("lineoa: ") and "no warehouse" in line.lower()
    assert not out.exists()


def test_migrate_refuses_without_a_lake_or_a_warehouse_to_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    migrate = ["migrate", "--to-lake", "--data-dir", str(data_dir.root)]
    assert cli.main(migrate) == 1  # no [warehouse] to migrate to
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"lineoa: no [warehouse] in {data_dir.settings_file}: set the lake to migrate to first"

    data_dir.settings_file.write_text(
        '[warehouse]\ncatalog = "postgres:dbname=lineoa host=127.0.0.1 user=lineoa"\ndata_path = "lake"\n',
        encoding="utf-8",
    )
    assert cli.main(migrate) == 1  # a lake, but no embedded warehouse to copy into it
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"lineoa: no embedded warehouse in {data_dir.root} to migrate"

    data_dir.settings_file.write_text(
        '[warehouse]\ncatalog = "postgres:dbname=lineoa password=hunter2"\ndata_path = "lake"\n', encoding="utf-8"
    )
    assert cli.main(migrate) == 2  # a password in lineoa.toml: refused before anything, never repeated
    err = capsys.readouterr().err
    assert "password" in err and "hunter2" not in err and len(err.strip().splitlines()) == 1

    with pytest.raises(SystemExit) as refused:
        cli.main(["migrate", "--data-dir", str(data_dir.root)])  # --to-lake is required
    assert refused.value.code == 2 and "--to-lake" in capsys.readouterr().err
