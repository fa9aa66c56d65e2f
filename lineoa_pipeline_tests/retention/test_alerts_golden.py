"""Raising alerts writes the same bytes and prints the same digest as it always has: over the demo's warehouse
and an account whose names need escaping in JSON, a series of checks (a command-line run's, with no cursor,
and a sensor's) must leave alerts.jsonl, the outboxes, the terminal lines and every channel's message exactly
as the golden file recorded them (made with the per-alert Python path this replaced). The SQL macros that
write JSON strings and ISO times are held to json.dumps and datetime.isoformat over generated values."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.defs.retention import sensors
from lineoa_pipeline.line_export.render import ChatMessage, write_bulk_zip
from lineoa_pipeline.retention.alerts import slack_payload
from lineoa_pipeline.retention.digest import AccountDigest, plain_text
from lineoa_pipeline.retention.status import offset_text
from lineoa_pipeline.settings.config import load_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import ENGLISH, language
from lineoa_pipeline.warehouse.connection import publish_snapshot
from lineoa_pipeline.warehouse.sqlfiles import statements
from lineoa_pipeline_tests.helpers import IngestDir

GOLDEN = Path(__file__).parent / "alerts_golden.json"
DEMO_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PHOTO = "写真を送信しました。"
VIDEO = "動画を送信しました。"
FILE = "ファイルを送信しました。"
# Names JSON must escape (or must not): quotes, a backslash, control characters, U+2028, DEL, an emoji.
ODD_ACCOUNT = 'Café "Ω" \\ 店\x01'
ODD_CHATS = ['O\'Brien "quoted"', "tab\tand\x01ctl\x1f", "line\u2028sep 😀", "lt<x>&amp;\x7f", "普通"]
# (now, whether the check has the previous check's cursor, whether the refusing channel refuses)
CHECKS = [
    (DEMO_AT + timedelta(days=1), False, True),
    (DEMO_AT + timedelta(days=1, minutes=5), False, False),
    (DEMO_AT + timedelta(days=40), True, True),
    (DEMO_AT + timedelta(days=200, seconds=7), False, True),
    (DEMO_AT + timedelta(days=400, microseconds=120_500), True, False),
]


@dataclass
class Recorder:
    """A push channel that keeps what it was sent, refusing while `refuse` is set."""

    key: str
    label: str
    refuse: bool = False
    got: list[dict[str, Any]] = field(default_factory=list)

    def send(self, digests: list[AccountDigest]) -> str | None:
        self.got.append(
            {
                "text": plain_text(digests, ENGLISH, masked=False),
                "masked_ja": plain_text(digests, language("ja"), masked=True),
                "slack": slack_payload(digests, ENGLISH),
            }
        )
        return "HTTP 503" if self.refuse else None


def _odd_inbox(data_dir: DataDir) -> None:
    """A bulk backup of an account at +05:30 with oddly named chats, media from long ago to yesterday."""
    start = datetime(2025, 1, 9, 13, 32)
    chats = {
        name: [
            ChatMessage("User", "佐藤", start + timedelta(days=37 * n + 3 * index, seconds=n), kind)
            for n in range(12)
            for kind in (PHOTO, VIDEO if n % 3 else FILE)
        ]
        for index, name in enumerate(ODD_CHATS)
    }
    write_bulk_zip(
        data_dir.inbox / "odd" / "backup.zip",
        ODD_ACCOUNT,
        chats,
        tz_offset="+05:30",
        downloaded_at=datetime(2026, 3, 1, 12, 0),
    )


def _checks(data_dir: DataDir, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    ok, refusing = Recorder("ok", "ok channel"), Recorder("refusing", "refusing channel")
    monkeypatch.setattr(sensors, "push_channels", lambda settings, environ: [ok, refusing])
    settings = load_settings(data_dir.settings_file)
    outcomes: list[dict[str, Any]] = []
    cursor = None
    for number, (now, with_cursor, refuse) in enumerate(CHECKS):
        if number == 3:  # a damaged line in the middle, and a half-written last one
            with open(data_dir.alerts, "ab") as out:
                out.write(b'{"at": "2026-01-01", "account_na\n\n{"half": ')
        refusing.refuse = refuse
        ok.got.clear()
        refusing.got.clear()
        logged: list[str] = []
        check = sensors.raise_retention_alerts(data_dir, settings, now, cursor if with_cursor else None, logged.append)
        assert check is not None
        cursor = check.cursor
        outcomes.append(
            {
                "now": now.isoformat(),
                "new": check.new,
                "lines": check.lines(),
                "lines_ja": sensors.terminal_lines(check.digest, language("ja")),
                "problems": check.problems(),
                "deliveries": [[d.label, d.delivered, d.problem] for d in check.deliveries],
                "logged": logged,
                "sent": {"ok": ok.got[:], "refusing": refusing.got[:]},
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in _files(data_dir).items()},
            }
        )
    outcomes.append({"files": {name: data.decode() for name, data in _files(data_dir).items()}})
    return outcomes


def _files(data_dir: DataDir) -> dict[str, bytes]:
    paths = (data_dir.alerts, data_dir.outbox("ok"), data_dir.outbox("refusing"))
    return {path.name: path.read_bytes() for path in paths if path.exists()}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data_dir = DataDir(tmp_path_factory.mktemp("golden") / "data")
    write_demo_data(data_dir.root, now=DEMO_AT)
    _odd_inbox(data_dir)
    IngestDir(data_dir).ingest(tomllib.loads(data_dir.settings_file.read_text(encoding="utf-8")))
    publish_snapshot(data_dir)
    return data_dir


def test_alerts_and_digests_are_byte_identical_to_the_golden(
    warehouse: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = _checks(warehouse, monkeypatch)
    if os.environ.get("LINEOA_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(outcomes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(outcomes) == len(golden)
    assert outcomes[-1] == golden[-1]  # every byte of alerts.jsonl and the outboxes, after the last check
    for got, expected in zip(outcomes, golden, strict=True):  # and after each check (their hashes)
        assert got == expected
    assert sum(o.get("new", 0) for o in golden) > 200 and any(o.get("new") == 0 for o in golden)


@pytest.fixture(scope="module")
def macros() -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect()
    for statement in [*statements("history_macros"), *statements("retention_alert_macros")]:
        conn.execute(statement)
    yield conn
    conn.close()


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_json_text_writes_strings_as_json_dumps_does(macros: duckdb.DuckDBPyConnection, texts: list[str]) -> None:
    texts = [t for t in texts if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]  # DuckDB holds UTF-8 only
    texts += ['a"b\\c\x00d\x0b\x1f\x7f\u2028😀', "", "plain"]
    rows = macros.execute("SELECT json_text(s) FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(s, n) ORDER BY n", [texts])
    assert [r[0] for r in rows.fetchall()] == [json.dumps(t, ensure_ascii=False) for t in texts]


@given(
    st.lists(
        st.tuples(
            st.datetimes(datetime(1971, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
            st.integers(-16 * 60, 16 * 60),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_times_are_written_as_isoformat_does(
    macros: duckdb.DuckDBPyConnection, moments: list[tuple[datetime, int]]
) -> None:
    zones = [timezone(timedelta(minutes=minutes)) for _, minutes in moments]
    minutes = [m for _, m in moments]
    rows = macros.execute(
        "SELECT iso_time(local_ts(t, m), o), short_time(local_ts(t, m), o) FROM ("
        "SELECT unnest(?::TIMESTAMPTZ[]) AS t, unnest(?::INTEGER[]) AS m, unnest(?::VARCHAR[]) AS o, "
        "generate_subscripts(?::INTEGER[], 1) AS n) ORDER BY n",
        [[t for t, _ in moments], minutes, [offset_text(z) for z in zones], minutes],
    ).fetchall()
    local = [t.astimezone(zone) for (t, _), zone in zip(moments, zones, strict=True)]
    assert rows == [(when.isoformat(), f"{when:%Y-%m-%d %H:%M} {offset_text(when.tzinfo)}") for when in local]
