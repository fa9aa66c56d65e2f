"""Retention rules on real warehouses, with boundaries worked out by hand.

Defaults: one_to_one text 365 days (warn 30); group photo/video/voice 14 (warn 3), file 7 (warn 2).
March 2025 in +09:00 starts 2025-03-01T00:00+09:00 and ends 2025-04-01T00:00+09:00, so (365 days later,
2026 not a leap year) its cutoff is 2026-03-01T00:00+09:00, warning from 2026-01-30T00:00+09:00, and its
final is 2026-04-01T00:00+09:00.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lineoa_pipeline.commands.status import render_table, run_status
from lineoa_pipeline.line_export.render import ChatMessage, render_export, write_bulk_zip
from lineoa_pipeline.retention.alerts import alert_key, raise_new, read_records
from lineoa_pipeline.retention.status import (
    SOONEST_AT_RISK,
    MonthStatus,
    compute_status,
    latest_ingest,
    status_json,
    write_new_alerts,
)
from lineoa_pipeline.settings.config import Settings, parse_settings
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect, publish_snapshot, write_connection
from lineoa_pipeline.warehouse.sqlfiles import sql_literal
from lineoa_pipeline_tests.helpers import ROOT, BuildWarehouse, msg

Publish = Callable[..., duckdb.DuckDBPyConnection]
ZipBytes = Callable[..., bytes]

CLINIC = "さくら整体院"
PHOTO, FILE, VIDEO = "写真を送信しました。", "ファイルを送信しました。", "動画を送信しました。"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def customer(when: str, content: str = "予約したいです", sender: str = "山田 花子") -> ChatMessage:
    """A customer's message at local time `when` (naive, in the export's zone)."""
    return msg("User", sender, when, content)


@pytest.fixture
def zip_bytes(tmp_path: Path) -> ZipBytes:
    """`zip_bytes(downloaded_at, chats, tz_offset=, account=)`: a bulk backup's bytes."""
    numbers = itertools.count()

    def make(
        downloaded_at: str,
        chats: Mapping[str, Sequence[ChatMessage]],
        tz_offset: str = "+09:00",
        account: str = CLINIC,
    ) -> bytes:
        path = tmp_path / "zips" / f"{next(numbers)}.zip"
        write_bulk_zip(path, account, chats, tz_offset=tz_offset, downloaded_at=datetime.fromisoformat(downloaded_at))
        return path.read_bytes()

    return make


def single(
    downloaded_at: str, messages: Sequence[ChatMessage], tz_offset: str = "+09:00", account: str = CLINIC
) -> bytes:
    return render_export(account, messages, tz_offset=tz_offset, downloaded_at=datetime.fromisoformat(downloaded_at))


@pytest.fixture
def publish(build_warehouse: BuildWarehouse) -> Iterator[Publish]:
    """`publish(inbox, settings=None, then=None)`: build the warehouse, run `then(writer)` on it, publish
    it, and return a reader on the snapshot."""
    readers: list[duckdb.DuckDBPyConnection] = []

    def build(
        inbox: Mapping[str, bytes],
        settings: Mapping[str, Any] | None = None,
        then: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> duckdb.DuckDBPyConnection:
        data_dir = build_warehouse(inbox, settings)
        if then:
            with write_connection(data_dir) as conn:
                then(conn)
        publish_snapshot(data_dir)
        readers.append(connect(data_dir.root))
        return readers[-1]

    yield build
    for reader in readers:
        reader.close()


def month(conn: duckdb.DuckDBPyConnection, as_of: str, key: str, settings: Settings | None = None) -> MonthStatus:
    report = compute_status(conn, settings or Settings(), at(as_of))
    (found,) = [m for m in report.months if f"{m.month:%Y-%m}" == key]
    return found


def status_doc(conn: duckdb.DuckDBPyConnection, as_of: str) -> dict[str, Any]:
    """What `lineoa status --json` prints, parsed."""
    out = io.BytesIO()
    status_json(conn, Settings(), at(as_of), out)
    return json.loads(out.getvalue().decode("utf-8"))


def media(conn: duckdb.DuckDBPyConnection, as_of: str) -> list[dict[str, Any]]:
    return status_doc(conn, as_of)["media"]


# --- months ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "alert"),
    [
        ("2026-01-29T23:59:59+09:00", "ok"),  # cutoff - warn - 1 s
        ("2026-01-30T00:00:00+09:00", "at_risk"),  # cutoff - warn
        ("2026-02-28T23:59:59+09:00", "at_risk"),  # cutoff - 1 s
        ("2026-03-01T00:00:00+09:00", "at_risk"),  # cutoff: the first day starts vanishing
        ("2026-03-31T23:59:59+09:00", "at_risk"),  # final - 1 s
        ("2026-04-01T00:00:00+09:00", "lost"),  # final
    ],
)
def test_alert_of_a_month_no_backup_holds(publish: Publish, as_of: str, alert: str) -> None:
    # A single-chat CSV holds March: it never counts towards coverage.
    conn = publish({"山田花子.csv": single("2025-04-02 09:00", [customer("2025-03-10 12:00:00")])})
    march = month(conn, as_of, "2025-03")
    assert (march.coverage, march.alert) == ("missing", alert)
    assert march.cutoff_at == at("2026-03-01T00:00:00+09:00")
    assert march.final_at == at("2026-04-01T00:00:00+09:00")


@pytest.mark.parametrize(
    ("downloaded_at", "coverage"),
    [
        ("2025-03-31 23:59", "partial"),  # D < end of March
        ("2025-04-01 00:00", "complete"),  # D = end of March
        ("2026-03-01 00:00", "complete"),  # D - 365 days = start of March
        ("2026-03-01 00:01", "partial"),  # D - 365 days is a minute into March
        ("2026-04-01 00:00", "missing"),  # D - 365 days = end of March: nothing of March left
        ("2025-03-01 00:00", "partial"),  # D = start of March: its first instant
        ("2025-02-28 23:59", "missing"),
    ],
)
def test_one_backup_covers_a_month_when_its_range_holds_it_all(
    publish: Publish, zip_bytes: ZipBytes, downloaded_at: str, coverage: str
) -> None:
    conn = publish(
        {
            "backup.zip": zip_bytes(downloaded_at, {"佐藤": [customer(downloaded_at + ":00", sender="佐藤")]}),
            "山田花子.csv": single("2025-03-20 09:00", [customer("2025-03-10 12:00:00")]),
        }
    )
    march = month(conn, "2026-04-02T00:00:00+09:00", "2025-03")
    assert march.coverage == coverage
    assert march.alert == ("ok" if coverage == "complete" else "lost")


def test_two_partial_backups_do_not_make_a_complete_month(publish: Publish, zip_bytes: ZipBytes) -> None:
    # Together they hold all of March (to the 20th; from the 10th on), but neither holds all of it.
    conn = publish(
        {
            "early.zip": zip_bytes("2025-03-20 00:00", {"山田花子": [customer("2025-03-10 12:00:00")]}),
            "late.zip": zip_bytes("2026-03-10 00:00", {"山田花子": [customer("2026-03-01 12:00:00")]}),
        }
    )
    march = month(conn, "2026-03-25T00:00:00+09:00", "2025-03")
    assert (march.coverage, march.alert) == ("partial", "at_risk")


def test_a_backup_counts_from_its_download_time_on(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish({"backup.zip": zip_bytes("2025-04-01 00:05", {"山田花子": [customer("2025-03-10 12:00:00")]})})
    assert month(conn, "2025-04-01T00:04:59+09:00", "2025-03").coverage == "missing"
    assert month(conn, "2025-04-01T00:05:00+09:00", "2025-03").coverage == "complete"
    report = compute_status(conn, Settings(), at("2025-04-01T00:04:59+09:00"))
    assert report.accounts[0].last_bulk_backup_at is None


def test_single_chat_csvs_never_count(publish: Publish) -> None:
    # Downloaded when a bulk backup would hold all of March (see the test above): still nothing.
    conn = publish({"山田花子.csv": single("2025-04-01 00:05", [customer("2025-03-10 12:00:00")])})
    report = compute_status(conn, Settings(), at("2025-04-02T00:00:00+09:00"))
    assert [(m.coverage, m.alert) for m in report.months] == [("missing", "ok"), ("missing", "ok")]
    assert report.accounts[0].last_bulk_backup_at is None


def test_months_run_from_the_first_message_through_the_as_of_month(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish({"backup.zip": zip_bytes("2025-04-01 00:05", {"山田花子": [customer("2025-03-10 12:00:00")]})})
    report = compute_status(conn, Settings(), at("2025-06-15T00:00:00+09:00"))
    assert [(f"{m.month:%Y-%m}", m.coverage) for m in report.months] == [
        ("2025-03", "complete"),
        ("2025-04", "partial"),  # the backup holds its first five minutes
        ("2025-05", "missing"),
        ("2025-06", "missing"),
    ]


def test_next_backup_is_due_by_the_earliest_cutoff_not_yet_lost(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish({"backup.zip": zip_bytes("2025-04-01 00:05", {"山田花子": [customer("2025-03-10 12:00:00")]})})

    def due(as_of: str) -> datetime | None:
        return compute_status(conn, Settings(), at(as_of)).accounts[0].next_backup_due_by

    assert due("2025-06-15T00:00:00+09:00") == at("2026-04-01T00:00:00+09:00")  # April's cutoff
    # April is lost at its final, 2026-05-01: May's cutoff, the same instant, is next (and already here).
    assert due("2026-04-30T23:59:59+09:00") == at("2026-04-01T00:00:00+09:00")
    assert due("2026-05-01T00:00:00+09:00") == at("2026-05-01T00:00:00+09:00")


def test_an_account_without_messages_has_no_months_and_nothing_due(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish({"backup.zip": zip_bytes("2025-04-01 00:05", {"友だち": []})})
    report = compute_status(conn, Settings(), at("2025-06-01T00:00:00+09:00"))
    assert report.months == []
    assert report.accounts[0].last_bulk_backup_at == at("2025-04-01T00:05:00+09:00")
    assert report.accounts[0].next_backup_due_by is None


def test_months_are_the_accounts_own_local_months(publish: Publish, zip_bytes: ZipBytes) -> None:
    # 2025-04-01 06:30+07:00 is 2025-03-31T23:30Z: April in Bangkok, March in UTC. The backup at
    # 2025-05-01 00:00+07:00 (2025-04-30T17:00Z) holds all of April in +07:00, not in UTC.
    conn = publish(
        {
            "backup.zip": zip_bytes(
                "2025-05-01 00:00", {"Somchai": [customer("2025-04-01 06:30:00")]}, tz_offset="+07:00"
            )
        }
    )
    report = compute_status(conn, Settings(), at("2025-05-02T00:00:00+07:00"))
    assert [(f"{m.month:%Y-%m}", m.coverage) for m in report.months] == [
        ("2025-04", "complete"),
        ("2025-05", "partial"),  # the backup holds its first instant
    ]
    assert report.months[0].cutoff_at.isoformat() == "2026-04-01T00:00:00+07:00"
    assert report.months[0].final_at.isoformat() == "2026-05-01T00:00:00+07:00"
    last = report.accounts[0].last_bulk_backup_at
    assert last is not None and last.isoformat() == "2025-05-01T00:00:00+07:00"


@pytest.mark.parametrize(
    ("first_message", "first_month"),
    [("2025-03-31 23:59:59", "2025-03"), ("2025-04-01 00:00:00", "2025-04")],  # local, +07:00
)
def test_the_first_month_is_that_of_the_first_message_in_local_time(
    publish: Publish, first_message: str, first_month: str
) -> None:
    conn = publish({"Somchai.csv": single("2025-04-02 09:00", [customer(first_message)], tz_offset="+07:00")})
    report = compute_status(conn, Settings(), at("2025-04-02T00:00:00+07:00"))
    assert f"{report.months[0].month:%Y-%m}" == first_month


def test_an_accounts_own_text_retention_sets_its_cutoffs(publish: Publish) -> None:
    settings = {"accounts": {CLINIC: {"retention": {"one_to_one": {"text": 180, "warn": {"text": 7}}}}}}
    conn = publish({"山田花子.csv": single("2025-04-02 09:00", [customer("2025-03-10 12:00:00")])})
    # 2025-03-01 + 180 days = 2025-08-28; warning from 2025-08-21
    parsed = parse_settings(settings)
    assert month(conn, "2025-08-20T23:59:59+09:00", "2025-03", parsed).alert == "ok"
    march = month(conn, "2025-08-21T00:00:00+09:00", "2025-03", parsed)
    assert (march.alert, march.cutoff_at) == ("at_risk", at("2025-08-28T00:00:00+09:00"))


# --- media ----------------------------------------------------------------------------------------------

GROUP_CHAT = [
    customer("2026-03-01 10:00:00", PHOTO, "山田 花子"),
    customer("2026-03-01 10:00:00", FILE, "佐藤 一郎"),  # a second user: a group
]


@pytest.mark.parametrize(
    ("as_of", "photo", "file"),
    [
        ("2026-03-06T09:59:59+09:00", "pending", "pending"),
        ("2026-03-06T10:00:00+09:00", "pending", "at_risk"),  # file: 7 - 2 days
        ("2026-03-08T09:59:59+09:00", "pending", "at_risk"),
        ("2026-03-08T10:00:00+09:00", "pending", "lost"),  # file: 7 days
        ("2026-03-12T09:59:59+09:00", "pending", "lost"),
        ("2026-03-12T10:00:00+09:00", "at_risk", "lost"),  # photo: 14 - 3 days
        ("2026-03-15T09:59:59+09:00", "at_risk", "lost"),
        ("2026-03-15T10:00:00+09:00", "lost", "lost"),  # photo: 14 days
    ],
)
def test_group_media_keep_two_weeks_and_files_one(
    publish: Publish, zip_bytes: ZipBytes, as_of: str, photo: str, file: str
) -> None:
    conn = publish({"backup.zip": zip_bytes("2026-03-02 09:00", {"ヨガ教室火曜クラス": GROUP_CHAT})})
    assert [(m["kind"], m["status"], m["expires_at"]) for m in media(conn, as_of)] == [
        ("photo", photo, "2026-03-15T10:00:00+09:00"),
        ("file", file, "2026-03-08T10:00:00+09:00"),
    ]


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("2027-01-29T09:59:59+09:00", "pending"),
        ("2027-01-29T10:00:00+09:00", "at_risk"),  # 365 - 30 days
        ("2027-02-28T09:59:59+09:00", "at_risk"),
        ("2027-02-28T10:00:00+09:00", "lost"),  # 365 days
    ],
)
def test_one_to_one_media_keep_a_year(publish: Publish, zip_bytes: ZipBytes, as_of: str, status: str) -> None:
    chat = [customer("2026-02-28 10:00:00", VIDEO)]
    conn = publish({"backup.zip": zip_bytes("2026-03-02 09:00", {"山田花子": chat})})
    assert [(m["kind"], m["status"], m["expires_at"]) for m in media(conn, as_of)] == [
        ("video", status, "2027-02-28T10:00:00+09:00")
    ]


def test_a_saved_photo_beside_an_unsaved_one_in_the_same_second(publish: Publish, zip_bytes: ZipBytes) -> None:
    def manifest(conn: duckdb.DuckDBPyConnection) -> None:
        # The first photo's file is verified; the second's does not match its checksum.
        conn.execute(
            """INSERT INTO media_files
               SELECT account_name, chat_name, sent_at, kind, 'photos/' || export_seq || '.jpg', NULL, NULL,
                      CASE WHEN export_seq = min(export_seq) OVER () THEN 'ok' ELSE 'checksum_mismatch' END,
                      message_id
               FROM messages"""
        )

    chat = [customer("2026-03-01 10:00:00", PHOTO), customer("2026-03-01 10:00:00", PHOTO)]
    conn = publish({"backup.zip": zip_bytes("2026-03-02 09:00", {"山田花子": chat})}, then=manifest)
    assert [m["status"] for m in media(conn, "2026-03-02T00:00:00+09:00")] == ["saved", "pending"]
    assert [m["status"] for m in media(conn, "2027-03-02T00:00:00+09:00")] == ["saved", "lost"]
    report = compute_status(conn, Settings(), at("2027-02-01T00:00:00+09:00"))
    assert report.media_counts[CLINIC] == {"saved": 1, "at_risk": 1}
    assert [(m.chat_name, m.sent_at, m.expires_at) for m in report.media_at_risk] == [
        ("山田花子", at("2026-03-01T10:00:00+09:00"), at("2027-03-01T10:00:00+09:00"))
    ]


def test_media_sent_after_the_as_of_time_are_not_listed(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish(
        {"backup.zip": zip_bytes("2026-03-02 09:00", {"山田花子": [customer("2026-03-01 10:00:00", PHOTO)]})}
    )
    assert media(conn, "2026-03-01T09:59:59+09:00") == []
    assert len(media(conn, "2026-03-01T10:00:00+09:00")) == 1


# --- output ---------------------------------------------------------------------------------------------

OBRIEN = "O'Brien's Yoga"  # a quote in a name goes into SQL as a literal


def test_status_json_has_the_documented_shape(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish(
        {
            "backup.zip": zip_bytes("2026-03-02 09:00", {"ヨガ教室火曜クラス": GROUP_CHAT}),
            "en/Mia.csv": single(
                "2026-03-02 09:00", [customer("2026-02-27 23:59:58", "You sent a photo.")], "+07:00", OBRIEN
            ),
        }
    )
    doc = status_doc(conn, "2026-03-10T12:00:00+09:00")
    assert list(doc) == ["as_of", "accounts", "months", "media"]
    assert doc["as_of"] == "2026-03-10T12:00:00+09:00"
    assert doc["accounts"] == [
        {
            "account_name": OBRIEN,
            "last_bulk_backup_at": None,
            "next_backup_due_by": "2027-02-01T00:00:00+07:00",
        },
        {
            "account_name": CLINIC,
            "last_bulk_backup_at": "2026-03-02T09:00:00+09:00",
            "next_backup_due_by": "2027-03-01T00:00:00+09:00",
        },
    ]
    assert doc["months"][:2] == [
        {
            "account_name": OBRIEN,
            "month": "2026-02",
            "coverage": "missing",
            "alert": "ok",
            "cutoff_at": "2027-02-01T00:00:00+07:00",
            "final_at": "2027-03-01T00:00:00+07:00",
        },
        {
            "account_name": OBRIEN,
            "month": "2026-03",
            "coverage": "missing",
            "alert": "ok",
            "cutoff_at": "2027-03-01T00:00:00+07:00",
            "final_at": "2027-04-01T00:00:00+07:00",
        },
    ]
    assert [m["coverage"] for m in doc["months"][2:]] == ["partial"]  # the clinic's March
    assert doc["media"] == [
        {
            "account_name": OBRIEN,
            "chat_name": "Mia",
            "sent_at": "2026-02-27T23:59:58+07:00",
            "kind": "photo",
            "status": "pending",
            "expires_at": "2027-02-27T23:59:58+07:00",
        },
        {
            "account_name": CLINIC,
            "chat_name": "ヨガ教室火曜クラス",
            "sent_at": "2026-03-01T10:00:00+09:00",
            "kind": "photo",
            "status": "pending",
            "expires_at": "2026-03-15T10:00:00+09:00",
        },
        {
            "account_name": CLINIC,
            "chat_name": "ヨガ教室火曜クラス",
            "sent_at": "2026-03-01T10:00:00+09:00",
            "kind": "file",
            "status": "lost",
            "expires_at": "2026-03-08T10:00:00+09:00",
        },
    ]


def test_status_json_writes_any_name(publish: Publish) -> None:
    """Each placeholder is written as a line of JSON built by SQL: names with quotes, a backslash, commas and
    a tab come back as they are (no placeholders at all: test_an_empty_warehouse_reports_nothing)."""
    account, chat = 'Yoga \\ "Studio", Bangkok', 'Mia "M", the\tfirst'
    photo = [customer("2026-02-27 23:59:58", "You sent a photo.")]
    conn = publish({f"en/{chat}.csv": single("2026-03-02 09:00", photo, "+07:00", account)})
    assert conn.execute("SELECT DISTINCT account_name, chat_name FROM messages").fetchall() == [(account, chat)]
    assert [(m["account_name"], m["chat_name"], m["kind"]) for m in media(conn, "2026-03-10T12:00:00+09:00")] == [
        (account, chat, "photo")
    ]


def test_an_empty_warehouse_reports_nothing(publish: Publish) -> None:
    conn = publish({})
    assert status_doc(conn, "2026-03-10T12:00:00+09:00") == {
        "as_of": "2026-03-10T12:00:00+09:00",
        "accounts": [],
        "months": [],
        "media": [],
    }
    assert "No exports yet" in render_table(compute_status(conn, Settings(), at("2026-03-10T12:00:00+09:00")))


def new_alerts(
    conn: duckdb.DuckDBPyConnection,
    as_of: datetime,
    lost_since: datetime | None = None,
    ingested_after: datetime | None = None,
) -> list[dict[str, Any]]:
    """The records `write_new_alerts` writes for `as_of`, none raised before."""
    with tempfile.TemporaryDirectory() as scratch:
        out, raised = Path(scratch) / "new.jsonl", Path(scratch) / "alerts.jsonl"
        raised.touch()
        assert write_new_alerts(conn, Settings(), as_of, out, raised, lost_since, ingested_after) >= 0
        return read_records(out)


def test_alerts_name_their_subject_once_and_lost_ones_only_since(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish({"backup.zip": zip_bytes("2026-03-02 09:00", {"ヨガ教室火曜クラス": GROUP_CHAT})})
    alerts = new_alerts(conn, at("2026-03-12T10:00:00+09:00"))
    assert [(a["subject"], a["level"], a["chat_name"], a["cutoff_at"]) for a in alerts] == [
        ("media", "lost", "ヨガ教室火曜クラス", "2026-03-08T10:00:00+09:00"),
        ("media", "at_risk", "ヨガ教室火曜クラス", "2026-03-15T10:00:00+09:00"),
    ]
    assert len({alert_key(a) for a in alerts}) == 2
    assert alerts[1] == {
        "at": "2026-03-12T10:00:00+09:00",
        "account_name": CLINIC,
        "subject": "media",
        "chat_name": "ヨガ教室火曜クラス",
        "sent_at": "2026-03-01T10:00:00+09:00",
        "message_id": alerts[1]["message_id"],
        "kind": "photo",  # the digest counts media by kind
        "level": "at_risk",
        "cutoff_at": "2026-03-15T10:00:00+09:00",
        "final_at": "2026-03-15T10:00:00+09:00",
        "message": "さくら整体院: the photo sent in ヨガ教室火曜クラス at 2026-03-01 10:00 +09:00 is not saved; "
        "LINE deletes it at 2026-03-15 10:00 +09:00. Save it now.",
    }
    assert alerts[0]["message"] == (
        "さくら整体院: the file sent in ヨガ教室火曜クラス at 2026-03-01 10:00 +09:00 was never saved, and LINE "
        "deleted it at 2026-03-08 10:00 +09:00."
    )
    # Since the previous check: the file (lost 03-08) is listed again only if its export came in after it.
    ingested = latest_ingest(conn)
    assert ingested is not None

    def since(ingested_after: datetime) -> list[str]:
        as_of, lost_since = at("2026-03-12T10:00:00+09:00"), at("2026-03-09T00:00:00+09:00")
        return [a["level"] for a in new_alerts(conn, as_of, lost_since, ingested_after)]

    assert since(ingested) == ["at_risk"]
    assert since(ingested - timedelta(microseconds=1)) == ["lost", "at_risk"]


def test_month_alerts_carry_month_cutoff_and_final(publish: Publish) -> None:
    conn = publish({"山田花子.csv": single("2025-04-02 09:00", [customer("2025-03-10 12:00:00")])})
    alerts = new_alerts(conn, at("2026-02-01T00:00:00+09:00"))
    assert [(a["subject"], a["month"], a["level"]) for a in alerts] == [("month", "2025-03", "at_risk")]
    assert (alerts[0]["cutoff_at"], alerts[0]["final_at"]) == ("2026-03-01T00:00:00+09:00", "2026-04-01T00:00:00+09:00")
    assert "Download a bulk backup now" in alerts[0]["message"]
    # A month lost before the previous check is listed still: the sensor raises it once by its key, even
    # when its export comes in long after it was lost.
    later = new_alerts(conn, at("2026-04-15T00:00:00+09:00"), lost_since=at("2026-04-10T00:00:00+09:00"))
    assert [a["month"] for a in later if a["level"] == "lost"] == ["2025-03"]


def test_an_alert_is_raised_again_when_its_level_rises(publish: Publish, tmp_path: Path) -> None:
    conn = publish({"山田花子.csv": single("2025-04-02 09:00", [customer("2025-03-10 12:00:00")])})
    path = tmp_path / "alerts.jsonl"

    def check(when: str) -> int:
        return raise_new(conn, Settings(), at(when), path, tmp_path / "new.jsonl")

    assert check("2026-02-01T00:00:00+09:00") == 1  # 2025-03 at risk
    assert check("2026-02-02T00:00:00+09:00") == 0
    assert check("2026-04-15T00:00:00+09:00") >= 1  # 2025-03 lost: raised again, at its new level
    assert check("2026-04-16T00:00:00+09:00") == 0
    assert [r["level"] for r in read_records(path) if r["month"] == "2025-03"] == ["at_risk", "lost"]


def test_a_name_with_a_line_separator_is_raised_once(publish: Publish, tmp_path: Path) -> None:
    # U+2028 and U+0085 end a line for str.splitlines, never for JSON lines: the record must read back whole.
    account = "整体院\u2028本店\x85"
    conn = publish({"山田花子.csv": single("2025-04-02 09:00", [customer("2025-03-10 12:00:00")], account=account)})
    path, logged = tmp_path / "alerts.jsonl", []
    for _ in range(2):
        raise_new(conn, Settings(), at("2026-02-01T00:00:00+09:00"), path, tmp_path / "new.jsonl", log=logged.append)
    assert [r["account_name"] for r in read_records(path)] == [account] and logged == []


def test_the_table_puts_the_worst_account_first(publish: Publish, zip_bytes: ZipBytes) -> None:
    conn = publish(
        {
            "backup.zip": zip_bytes("2026-03-02 09:00", {"山田花子": [customer("2026-03-01 10:00:00")]}),
            "en/Mia.csv": single("2025-04-02 09:00", [customer("2025-03-10 12:00:00")], "+07:00", OBRIEN),
        }
    )
    text = render_table(compute_status(conn, Settings(), at("2026-03-10T12:00:00+09:00")))
    assert text.index(OBRIEN) < text.index(CLINIC)
    assert "  Last bulk backup:        never" in text
    assert "2025-03  missing   at_risk  2026-03-01 00:00" in text
    assert "overdue by 9 days: back up now" in text
    assert "  Last bulk backup:        2026-03-02 09:00, 8 days ago" in text


def test_the_status_reads_only_the_soonest_placeholders_at_risk_it_shows(publish: Publish, zip_bytes: ZipBytes) -> None:
    """A real account has tens of thousands of placeholders at risk: `lineoa status` and the asset show the
    soonest, and count the rest (from the counts), rather than read every one into Python."""
    photos = [customer(f"2026-03-01 10:{minute:02d}:00", PHOTO) for minute in range(SOONEST_AT_RISK + 5)]
    conn = publish({"backup.zip": zip_bytes("2026-03-02 09:00", {"山田花子": photos})})
    report = compute_status(conn, Settings(), at("2027-02-01T00:00:00+09:00"))
    assert report.media_counts[CLINIC]["at_risk"] == SOONEST_AT_RISK + 5
    assert [m.sent_at for m in report.media_at_risk] == [
        at(f"2026-03-01T10:{minute:02d}:00+09:00") for minute in range(SOONEST_AT_RISK)
    ]
    text = render_table(report)
    assert "10:09  山田花子" in text and "10:10  山田花子" not in text  # the first ten shown
    assert f"… and {SOONEST_AT_RISK + 5 - 10} more at risk" in text


def test_run_status_reads_the_published_warehouse_with_the_data_dirs_settings(
    build_warehouse: BuildWarehouse,
) -> None:
    data_dir = build_warehouse({"山田花子.csv": single("2025-04-02 09:00", [customer("2025-03-10 12:00:00")])})
    if lake.configured(data_dir) is not None:
        pytest.skip("a lake is never unpublished: its readers see each commit")
    with pytest.raises(NoWarehouseYet):
        run_status(data_dir, None, True, io.BytesIO())
    publish_snapshot(data_dir)
    data_dir.settings_file.write_text('timezone = "Asia/Bangkok"\n[retention.one_to_one]\ntext = 180\n')
    # a naive as-of is in the settings' zone: 2025-08-28 07:00+07:00 is the cutoff, 2025-08-28T00:00Z
    out = io.BytesIO()
    run_status(data_dir, datetime(2025, 8, 28, 7, 0), True, out)
    doc = json.loads(out.getvalue())
    assert doc["as_of"] == "2025-08-28T07:00:00+07:00"
    assert doc["months"][0]["cutoff_at"] == "2025-08-28T00:00:00+09:00"
    assert doc["months"][0]["alert"] == "at_risk"
    out = io.BytesIO()
    run_status(data_dir, None, False, out)
    assert out.getvalue().decode("utf-8").startswith("Retention status as of ")


def test_the_documented_presets_are_valid_settings() -> None:
    doc = (ROOT / "docs" / "retention.md").read_text(encoding="utf-8")
    presets = [parse_settings(tomllib.loads(block)) for block in re.findall(r"```toml\n(.*?)```", doc, re.S)]
    assert presets[0] == Settings()
    assert [p.defaults.retention["one_to_one"].text for p in presets] == [365, 180, 1825]


def test_two_photos_in_one_second_are_two_alerts(publish: Publish, zip_bytes: ZipBytes) -> None:
    chat = [customer("2026-03-01 10:00:00", PHOTO), customer("2026-03-01 10:00:00", PHOTO)]
    conn = publish({"backup.zip": zip_bytes("2026-03-02 09:00", {"山田花子": chat})})
    alerts = [a for a in new_alerts(conn, at("2027-02-01T00:00:00+09:00")) if a["subject"] == "media"]
    assert [a["level"] for a in alerts] == ["at_risk", "at_risk"]
    assert len({alert_key(a) for a in alerts}) == 2


@pytest.mark.parametrize(
    "value", ["O'Brien's", "a\\b", "$as_of", "行1\n行2", "'; DROP TABLE messages; --", "", "a\x00b'\x00", "\x00"]
)
def test_values_go_into_sql_verbatim(value: str) -> None:
    # Python values reach DuckDB as literals (binding them would import pandas): each must read back as is.
    assert duckdb.connect().execute(f"SELECT {sql_literal([value])}").fetchone() == ([value],)
