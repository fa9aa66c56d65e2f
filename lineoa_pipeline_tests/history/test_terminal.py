"""The terminal shows text, never controls: `lineoa search`, `show` and `status` print what an export holds
with every control character escaped, and a long hit is printed without the costly highlighting."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.history.html import file_stem
from lineoa_pipeline.history.search import HIGHLIGHT_MAX_CHARS, Hit, hits_text
from lineoa_pipeline.history.terminal import printable
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.warehouse.connection import publish_snapshot
from lineoa_pipeline_tests.helpers import BuildWarehouse

TITLE = "\x1b]0;pwned\x07"  # retitles the terminal
CLEAR = "\x1b[2J"
LINK = "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\"  # an OSC 8 hyperlink
ACCOUNT = "さくら整体院\x1b[31m"
SENDER = "山田\u202e花子"
CONTROLS = ("\x1b", "\x07", "\u202e", "\x9b")


def test_printable_escapes_every_control() -> None:
    assert printable("a\x1b[2Jb\x07c\u202ed\x9be\x00\tf\n") == "a\\x1b[2Jb\\x07c\\u202ed\\x9be\\x00\\x09f\\x0a"
    assert printable("予約 ☕ ok") == "予約 ☕ ok"


def test_search_show_and_status_print_no_control(
    build_warehouse: BuildWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ChatMessage("User", SENDER, datetime(2026, 3, 1, 10, 0), f"予約{TITLE}です{CLEAR}"),
        ChatMessage("Account", "受付\x1b[8m", datetime(2026, 3, 1, 10, 5), f"予約 ok {LINK}"),
    ]
    data_dir = build_warehouse({"山田花子.csv": render_export(ACCOUNT, rows, downloaded_at=datetime(2026, 3, 2))})
    publish_snapshot(data_dir)
    root = ["--data-dir", str(data_dir.root)]
    printed = []
    for argv in (
        ["search", "予約", *root],
        ["show", "--account", ACCOUNT, "--chat", "山田花子", *root],
        ["status", "--as-of", "2026-03-05T00:00:00+09:00", *root],
    ):
        assert cli.main(argv) == 0, argv
        out = capsys.readouterr().out
        assert out and not any(c in out for c in CONTROLS), (argv, out)
        printed.append(out)
    search, show, status = printed
    assert "予約\\x1b]0;pwned\\x07です\\x1b[2J" in search and "山田\\u202e花子" in search
    assert "\\x1b]8;;http://evil.example" in show and "受付\\x1b[8m" in show
    assert "さくら整体院\\x1b[31m" in status
    # JSON is for programs: it keeps the data exact (escaped by JSON itself)
    assert cli.main(["search", "予約", "--json", *root]) == 0
    assert {hit["sender_name"] for hit in json.loads(capsys.readouterr().out)} == {SENDER, "受付\x1b[8m"}


def test_a_huge_hit_is_printed_without_marking_it() -> None:
    content = "予約" + "あ" * 5_000_000
    hit = Hit("m", "A", "C", "user", "S", "2026-03-01T10:00:00+09:00", content)
    started = time.process_time()
    line = hits_text([hit], "予約", highlight=True)
    took = time.process_time() - started
    print(f"5 MB hit printed in {took:.2f} s of CPU")
    assert len(content) > HIGHLIGHT_MAX_CHARS and "\x1b[7m" not in line and line.endswith(content)
    short = hits_text([Hit("m", "A", "C", "user", "S", "2026-03-01T10:00:00+09:00", "予約です")], "予約", True)
    assert "\x1b[7m予約\x1b[27m" in short


def test_no_bidirectional_override_in_a_file_name() -> None:
    stem = file_stem("invoice\u202egpj.exe\u2066x\u200f", "salt")
    assert not any(c in stem for c in "\u202e\u2066\u200f") and stem.startswith("invoice_gpj_exe_x-")
