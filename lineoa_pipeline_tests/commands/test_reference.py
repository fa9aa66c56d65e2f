"""The user's reference (docs/reference.md): generated from the code, complete, and committed as generated."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from lineoa_pipeline.commands.cli import EXIT_CODES, build_parser
from lineoa_pipeline.commands.reference import SETTINGS, _commands, public_tables, render
from lineoa_pipeline.settings.config import _TOP_KEYS
from lineoa_pipeline.warehouse.sqlfiles import run_script
from lineoa_pipeline_tests.helpers import ROOT

REFERENCE = ROOT / "docs" / "reference.md"


def test_the_committed_reference_is_the_generated_one() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "lineoa_pipeline.commands.reference"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert generated == render()
    assert REFERENCE.read_text(encoding="utf-8") == generated, (
        "docs/reference.md is stale: python -m lineoa_pipeline.commands.reference > docs/reference.md"
    )


def test_every_public_table_and_column_is_described() -> None:
    with duckdb.connect() as conn:
        run_script(conn, "schema")
        public = {
            name
            for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            if not name.startswith("_")
        }
    tables = public_tables()
    assert {t.name for t in tables} == public
    for table in tables:
        assert table.description, f"{table.name} has no description in schema.sql"
        for column, (_, meaning) in table.columns.items():
            assert meaning, f"{table.name}.{column} has no description in schema.sql"


def test_every_setting_and_command_is_in_the_reference() -> None:
    assert set(SETTINGS) == _TOP_KEYS
    commands = _commands(build_parser())
    assert set(commands) == set(EXIT_CODES)
    text = REFERENCE.read_text(encoding="utf-8")
    for name in commands:
        assert f"### `lineoa {name}`" in text
    assert "[docs/reference.md](docs/reference.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
