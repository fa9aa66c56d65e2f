"""The user's reference (docs/reference.md): generated from the code, complete, and committed as generated."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from lineoa_pipeline.commands.cli import EXIT_CODES, build_parser
from lineoa_pipeline.commands.reference import SETTINGS, _commands, render
from lineoa_pipeline.settings.config import _TOP_KEYS
from lineoa_pipeline.warehouse.tables import TABLE_SPECS, create_schema
from lineoa_pipeline.warehouse.views import VIEW_SPECS, create_views
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


def test_every_public_table_and_view_column_is_described_in_its_front_matter() -> None:
    with duckdb.connect() as conn:  # the warehouse as it is made, views and all
        create_schema(conn)
        create_views(conn)
        columns = conn.execute(
            """SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns
               WHERE table_name NOT LIKE '\\_%' ESCAPE '\\' GROUP BY table_name"""
        ).fetchall()
    described = {relation.name: relation for relation in (*TABLE_SPECS, *VIEW_SPECS)}
    assert {name for name, _ in columns} == described.keys()
    for name, names in columns:
        relation = described[name]
        assert relation.description, f"{relation.path.name} has no description"
        assert list(relation.columns) == names, f"{relation.path.name}: its front matter lists other columns"
        assert all(relation.columns.values()), f"{relation.path.name}: a column has no description"
    text = REFERENCE.read_text(encoding="utf-8")
    for relation in described.values():
        for column, meaning in relation.columns.items():
            assert f"| `{column}` |" in text and meaning in text, f"{relation.name}.{column} not in the reference"


def test_every_setting_and_command_is_in_the_reference() -> None:
    assert set(SETTINGS) == _TOP_KEYS
    commands = _commands(build_parser())
    assert set(commands) == set(EXIT_CODES)
    text = REFERENCE.read_text(encoding="utf-8")
    for name in commands:
        assert f"### `lineoa {name}`" in text
    assert "[docs/reference.md](docs/reference.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
