"""A chat downloaded again under the same file name is still one chat: every reader lists each message once,
at the local time of the file that first stored it (a file is its bytes and chat name, never its path)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import open_warehouse

CLINIC = "さくら整体院"
CHAT = [
    ChatMessage("User", "山田", datetime(2026, 3, 2, 23, 30), "予約したいです"),
    ChatMessage("Account", "受付", datetime(2026, 3, 2, 23, 40), "はい、予約できます"),
    ChatMessage("User", "山田", datetime(2026, 3, 3, 9, 0), "予約を変更したいです"),
    ChatMessage("Account", "受付", datetime(2026, 3, 3, 9, 5), "予約を承りました"),
]


def _lineoa(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    status = cli.main(list(args))
    return status, capsys.readouterr().out


def test_a_chat_downloaded_again_under_its_name_is_listed_once(
    pipeline_dir: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(pipeline_dir.root)
    path = pipeline_dir.inbox / "山田.csv"
    pipeline_dir.inbox.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_export(CLINIC, CHAT[:2], downloaded_at=datetime(2026, 3, 3, 0, 0)))
    assert cli.main(["run", "--data-dir", root]) == 0
    # the later download, from a PC set to +08:00: the same instants, an hour earlier on its clock
    later = [replace(m, sent_at=m.sent_at - timedelta(hours=1)) for m in CHAT[:2]] + CHAT[2:]
    path.write_bytes(render_export(CLINIC, later, tz_offset="+08:00", downloaded_at=datetime(2026, 3, 4, 0, 0)))
    assert cli.main(["run", "--data-dir", root]) == 0

    conn = open_warehouse(pipeline_dir)
    try:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (4,)
        assert conn.execute("SELECT count(*) FROM source_files WHERE file_path = '山田.csv'").fetchone() == (2,)
        # hours of the file that first stored each message: 23 (+09:00) for the first two, 9 (+08:00) after
        hours = conn.execute("SELECT hour, user_messages FROM hourly_volume ORDER BY hour").fetchall()
    finally:
        conn.close()
    assert hours == [(9, 1), (23, 1)]

    status, shown = _lineoa(capsys, "show", "--data-dir", root, "--account", CLINIC, "--chat", "山田")
    assert status == 0
    times = [line.split()[0] for line in shown.splitlines()[1:] if not line.startswith("―")]
    assert times == ["23:30:00", "23:40:00", "09:00:00", "09:05:00"]

    status, found = _lineoa(capsys, "search", "--data-dir", root, "--json", "予約")
    assert status == 0
    assert [hit["sent_at"] for hit in json.loads(found)] == [
        "2026-03-03T09:05:00+08:00",
        "2026-03-03T09:00:00+08:00",
        "2026-03-02T23:40:00+09:00",
        "2026-03-02T23:30:00+09:00",
    ]

    out = tmp_path / "out"
    assert cli.main(["export", "--data-dir", root, "--out", str(out), "--format", "csv", "--lang", "en"]) == 0
    (written,) = out.rglob("*.csv")
    rows = list(csv.DictReader(io.StringIO(written.read_text(encoding="utf-8-sig"))))
    assert [r["sent_at"] for r in rows] == [
        "2026-03-02T23:30:00+09:00",
        "2026-03-02T23:40:00+09:00",
        "2026-03-03T09:00:00+08:00",
        "2026-03-03T09:05:00+08:00",
    ]

    (page,) = [p for p in (pipeline_dir.root / "transcripts").rglob("*.html") if p.name != "index.html"]
    assert page.read_text(encoding="utf-8").count('class="bubble"') == 4
