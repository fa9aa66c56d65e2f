"""`lineoa.toml`: the spec's defaults, a bad setting named in the message, and the settings the warehouse uses
(auto-reply and API sender names, placeholder texts, chat-type overrides) applied without re-reading a file."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.defs.resources import WarehouseResource
from lineoa_pipeline.defs.warehouse.assets import warehouse_snapshot
from lineoa_pipeline.ingest.side_inputs import published_side_inputs, side_inputs_hash
from lineoa_pipeline.line_export.formats import PLACEHOLDERS
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.config import (
    DEFAULT_AUTO_REPLY_NAMES,
    DEFAULT_RETENTION,
    Retention,
    Settings,
    SettingsError,
    load_settings,
    parse_settings,
)
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import IngestDir, snapshot_tables

# The spec's example, verbatim (its one long line is split below to keep this file within 120 columns).
SPEC_EXAMPLE = """
timezone = "Asia/Tokyo"        # partitions and schedules; the easternmost of the accounts is safest
first_month = "2019-01"        # the first monthly partition
sla_minutes = 60
auto_reply_names = ["応答メッセージ", "AI応答メッセージ", "Auto-response", "自動回應訊息", "AI 聊天機器人",
                    "ข้อความตอบกลับอัตโนมัติ"]
api_sender_names = ["Unknown"]
api_answers = false            # true: `api` messages (not broadcasts) answer inquiries, as staff
menu_texts = []                # example: ["予約する", "メニューを見る"]: texts a rich-menu tap sends
broadcast_min_chats = 20       # an `api` message sent to this many chats (an integer >= 2) ...
broadcast_window_minutes = 10  # ... within this many minutes (a positive integer) is a broadcast
[placeholders]                 # example: text -> kind, added to the built-in list
"ボイスメッセージを送信しました" = "voice"
[retention.one_to_one]         # days kept, and days of warning before each cutoff
text = 365
media = 365                    # photo, video, voice
file = 365
warn = { text = 30, media = 30, file = 30 }
[retention.group]
text = 365
media = 14
file = 7
warn = { text = 30, media = 3, file = 2 }
[business_hours]               # example; with no table every hour counts. Half-open ranges, local time;
mon = ["09:00-12:00", "13:00-18:00"]   # a weekday not listed is closed
tue = ["09:00-18:00"]
holidays = ["2026-01-01"]
[accounts."さくら整体院 渋谷店"]  # example: per-account overrides of any key above
sla_minutes = 30
chat_types = { "ヨガ教室火曜クラス" = "group" }
"""


def test_no_file_means_the_spec_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "lineoa.toml")
    assert settings == Settings()
    assert (settings.timezone, settings.first_month) == ("Asia/Tokyo", None)  # first_month "auto"
    assert parse_settings({"first_month": "auto"}).first_month is None
    assert parse_settings({"first_month": "2019-01"}).first_month == date(2019, 1, 1)
    defaults = settings.for_account("anyone")
    assert defaults.sla_minutes == 60
    assert defaults.auto_reply_names == (
        "応答メッセージ",
        "AI応答メッセージ",
        "Auto-response",
        "自動回應訊息",
        "AI 聊天機器人",
        "ข้อความตอบกลับอัตโนมัติ",
    )
    assert defaults.api_sender_names == ("Unknown",)
    assert defaults.placeholders == PLACEHOLDERS
    assert defaults.retention == {
        "one_to_one": Retention(365, 365, 365, 30, 30, 30),
        "group": Retention(365, 14, 7, 30, 3, 2),
    }
    assert defaults.business_hours is None and defaults.chat_types == {}
    assert (defaults.api_answers, defaults.menu_texts) == (False, ())
    assert (defaults.broadcast_min_chats, defaults.broadcast_window_minutes) == (20, 10)


def test_the_spec_example_parses_with_per_account_overrides(tmp_path: Path) -> None:
    (tmp_path / "lineoa.toml").write_text(SPEC_EXAMPLE, encoding="utf-8")
    settings = load_settings(tmp_path / "lineoa.toml")
    top, shibuya = settings.for_account("other"), settings.for_account("さくら整体院 渋谷店")
    assert top.placeholders["ボイスメッセージを送信しました"] == "voice"
    assert top.placeholders.items() >= PLACEHOLDERS.items()  # added to the built-in list
    assert top.retention == DEFAULT_RETENTION
    assert top.business_hours == {0: [(9 * 3600, 12 * 3600), (13 * 3600, 18 * 3600)], 1: [(9 * 3600, 18 * 3600)]}
    assert top.holidays == (date(2026, 1, 1),)
    assert (top.sla_minutes, top.chat_types) == (60, {})
    # An account table overrides what it names and inherits the rest from the top level.
    assert (shibuya.sla_minutes, shibuya.chat_types) == (30, {"ヨガ教室火曜クラス": "group"})
    assert shibuya.business_hours == top.business_hours and shibuya.placeholders == top.placeholders


def test_the_analytics_settings_apply_globally_and_per_account() -> None:
    settings = parse_settings(
        {
            "menu_texts": ["予約する"],
            "broadcast_window_minutes": 5,
            "accounts": {"A": {"api_answers": True, "menu_texts": ["Book", "Menu"], "broadcast_min_chats": 2}},
        }
    )
    top, a = settings.for_account("B"), settings.for_account("A")
    assert (top.api_answers, top.menu_texts, top.broadcast_min_chats, top.broadcast_window_minutes) == (
        False,
        ("予約する",),
        20,
        5,
    )
    # a list or a single value replaces the global one; what the account does not set stays global
    assert (a.api_answers, a.menu_texts, a.broadcast_min_chats, a.broadcast_window_minutes) == (
        True,
        ("Book", "Menu"),
        2,
        5,
    )


def test_an_account_table_merges_key_by_key_with_the_global_one() -> None:
    hour = 3600
    settings = parse_settings(
        {
            "business_hours": {"mon": ["09:00-18:00"], "tue": ["09:00-18:00"], "holidays": ["2026-01-01"]},
            "chat_types": {"ヨガ": "group", "受付": "group"},
            "placeholders": {"ボイス": "voice"},
            "retention": {"group": {"media": 10, "warn": {"media": 2}}},
            "accounts": {
                "A": {
                    "business_hours": {"sat": ["10:00-14:00"], "tue": []},
                    "chat_types": {"受付": "one_to_one"},
                    "placeholders": {"画像": "photo"},
                    "retention": {"group": {"file": 3}},
                },
                "B": {"business_hours": {"holidays": ["2026-05-05"]}},
            },
        }
    )
    top, a, b = settings.for_account("other"), settings.for_account("A"), settings.for_account("B")
    # a key the account sets replaces the global one (an empty day is a closed day); the others stay global
    assert a.business_hours == {0: [(9 * hour, 18 * hour)], 5: [(10 * hour, 14 * hour)]}
    assert a.holidays == top.holidays == (date(2026, 1, 1),)
    assert b.business_hours == top.business_hours and b.holidays == (date(2026, 5, 5),)
    assert a.chat_types == {"ヨガ": "group", "受付": "one_to_one"}
    assert a.placeholders == {**top.placeholders, "画像": "photo"} and a.placeholders["ボイス"] == "voice"
    assert a.retention["group"] == replace(top.retention["group"], file=3)
    assert (top.retention["group"].media, top.retention["group"].warn_media) == (10, 2)
    assert a.retention["one_to_one"] == top.retention["one_to_one"] == DEFAULT_RETENTION["one_to_one"]


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("slaminutes = 5", "slaminutes"),
        ("sla_minutes = -1", "sla_minutes"),
        ("sla_minutes = 1.5", "sla_minutes"),
        ('sla_minutes = "60"', "sla_minutes"),
        ("sla_minutes = true", "sla_minutes"),
        ('timezone = "Mars/Olympus"', "timezone"),
        ('first_month = "2019-13"', "first_month"),
        ('first_month = "2019"', "first_month"),
        ('auto_reply_names = "応答メッセージ"', "auto_reply_names"),
        ("api_sender_names = [1]", "api_sender_names"),
        ('[placeholders]\n"写真" = "picture"', "placeholders.写真"),
        ("[retention.one_to_one]\ntext = -365", "retention.one_to_one.text"),
        ("[retention.one_to_one]\nwarn = { text = -1 }", "retention.one_to_one.warn.text"),
        ("[retention.one_to_one]\nphotos = 14", "retention.one_to_one.photos"),
        ("[retention.groups]\ntext = 14", "retention.groups"),
        ('[business_hours]\nmon = ["9-18"]', "business_hours.mon"),
        ('[business_hours]\nmon = ["18:00-09:00"]', "business_hours.mon"),
        ('[business_hours]\nmon = ["09:00-25:00"]', "business_hours.mon"),
        ('[business_hours]\nmon = ["09:00-12:00", "11:00-13:00"]', "business_hours.mon"),
        ('[business_hours]\nmonday = ["09:00-18:00"]', "business_hours.monday"),
        ('[business_hours]\nholidays = ["2026-02-30"]', "business_hours.holidays"),
        ('[accounts."A"]\nchat_types = { "x" = "broadcast" }', "accounts.A.chat_types.x"),
        ('[accounts."A"]\ntimezone = "Asia/Tokyo"', "accounts.A.timezone"),
        ('[accounts."A"]\nsla_minutes = -5', "accounts.A.sla_minutes"),
        ('api_answers = "yes"', "api_answers"),
        ('menu_texts = "予約する"', "menu_texts"),
        ("menu_texts = [1]", "menu_texts"),
        ("broadcast_min_chats = 1", "broadcast_min_chats"),
        ("broadcast_min_chats = 2.5", "broadcast_min_chats"),
        ("broadcast_window_minutes = 0", "broadcast_window_minutes"),
        ('[accounts."A"]\nbroadcast_window_minutes = -10', "accounts.A.broadcast_window_minutes"),
        ('[accounts."A"]\napi_answers = 1', "accounts.A.api_answers"),
        ("sla_minutes = ", "not valid TOML"),
        ("accounts = { x = 5 }", "accounts.x"),
        ('first_month = "0000-01"', "first_month"),
        ("sla_minutes = 99999999999", "sla_minutes"),
        ('[accounts."A"]\nsla_minutes = 2147483648', "accounts.A.sla_minutes"),
        ("[retention.group]\nmedia = 99999999999", "retention.group.media"),
        ("[retention.group]\nwarn = { file = 10000000 }", "retention.group.warn.file"),
        ("retention.one_to_one = 5", "retention.one_to_one"),
        ("[business_hours]\nholidays = [2026-01-01T10:00:00]", "business_hours.holidays"),
        ('alert_names = "hidden"', "alert_names"),
    ],
)
def test_a_bad_setting_is_named_in_the_message(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "lineoa.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert key in str(caught.value)


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("accounts = { x = 5 }", "accounts.x: expected a table (key = value pairs), got 5"),
        ("retention.one_to_one = 5", "retention.one_to_one: expected a table (key = value pairs), got 5"),
        ('first_month = "0000-01"', 'first_month: expected "auto" or a month written YYYY-MM, from 2000-01 on'),
        ("sla_minutes = 99999999999", "sla_minutes: expected a whole number from 0 to 525,600"),
        ('sla_minutes = "60"', "sla_minutes: expected a whole number from 0 to 525,600, got '60'"),
        ("api_sender_names = [1]", "api_sender_names: expected text in quotes, got 1"),
    ],
)
def test_a_bad_setting_is_said_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, words: str
) -> None:
    (tmp_path / "lineoa.toml").write_text(toml + "\n", encoding="utf-8")
    assert cli.main(["status", "--data-dir", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()  # one line, no traceback
    assert words in line


def test_a_settings_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lineoa.toml").mkdir()
    assert cli.main(["run", "--data-dir", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "lineoa.toml is a folder" in line
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_holidays_may_be_toml_dates() -> None:
    settings = parse_settings({"business_hours": {"holidays": [date(2026, 1, 2), "2026-01-01"]}})
    assert settings.defaults.holidays == (date(2026, 1, 1), date(2026, 1, 2))


def test_a_warning_window_under_a_week_is_a_warning_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = parse_settings({"retention": {"one_to_one": {"warn": {"text": 3}}}, "accounts": {"A": {}}})
    assert [w.split(":")[0] for w in settings.warnings] == ["retention.one_to_one.warn.text = 3"]
    assert "one bulk backup a week" in settings.warnings[0]
    (tmp_path / "lineoa.toml").write_text("[retention.group]\nwarn = { text = 6 }\n", encoding="utf-8")
    assert cli.main(["status", "--data-dir", str(tmp_path)]) == 1  # no warehouse yet: the usual answer
    err = capsys.readouterr().err
    assert "warning: retention.group.warn.text = 6" in err and "no warehouse" in err


def test_an_account_section_that_matches_no_account_is_a_warning_at_run_time(
    pipeline_dir: DataDir, capfd: pytest.CaptureFixture[str]
) -> None:
    pipeline_dir.settings_file.write_text('[accounts."さくら整体院 渋谷"]\nsla_minutes = 30\n', encoding="utf-8")
    (pipeline_dir.inbox / "山田.csv").write_bytes(render_export("さくら整体院 渋谷店", ROWS, downloaded_at=T0))
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    printed = capfd.readouterr().out  # a run's warnings print with its progress
    assert '[accounts."さくら整体院 渋谷"] matches no account in the warehouse (known: さくら整体院 渋谷店)' in printed


@pytest.mark.parametrize("command", ["run", "rebuild", "status"])
def test_every_command_stops_on_a_bad_setting_and_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    monkeypatch.setenv("LINEOA_DATA_DIR", str(tmp_path / "elsewhere"))  # --data-dir wins
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    data_dir.settings_file.write_text('[business_hours]\nmon = ["09:00-12:00", "11:00-13:00"]\n', encoding="utf-8")
    assert cli.main([command, "--data-dir", str(data_dir.root)]) != 0
    err = capsys.readouterr().err
    assert "business_hours.mon" in err and "lineoa.toml" in err
    assert not data_dir.warehouse.exists() and not (tmp_path / "elsewhere").exists()


# --- the settings the warehouse is written with -----------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0)
ROWS = [
    ChatMessage("User", "山田", T0, "写真"),
    ChatMessage("Account", "受付ボット", T0 + timedelta(minutes=1), "ご用件をどうぞ"),
    ChatMessage("Account", "応答メッセージ", T0 + timedelta(minutes=2), "メッセージありがとうございます。"),
    ChatMessage("Account", "外部ツール", T0 + timedelta(minutes=3), "【お知らせ】"),
    ChatMessage("Account", "Unknown", T0 + timedelta(minutes=4), "【休診】"),
    ChatMessage("User", "山田", T0 + timedelta(minutes=5), "ボイスメッセージを送信しました"),
]


@pytest.fixture
def two_accounts(ingest_dir: IngestDir) -> IngestDir:
    for account in ("さくら整体院", "さくら整体院 渋谷店"):
        ingest_dir.drop(f"{account}/山田　花子（紹介）.csv", render_export(account, ROWS, downloaded_at=T0))
        ingest_dir.drop(
            f"{account}/ヨガ教室火曜クラス.csv",
            render_export(account, [ChatMessage("User", "佐藤", T0, "参加します")], downloaded_at=T0),
        )
    return ingest_dir


def _derived(ingest_dir: IngestDir, account: str) -> dict[str, Any]:
    rows = ingest_dir.query(
        "SELECT chat_name, chat_type, sender_name, sender_type, content, kind FROM messages WHERE account_name = ?",
        [account],
    )
    return {
        "senders": {name: sender_type for _, _, name, sender_type, _, _ in rows},
        "kinds": {content: kind for _, _, _, _, content, kind in rows},
        "chat_types": {chat: chat_type for chat, chat_type, *_ in rows},
    }


def test_sender_names_placeholders_and_chat_types_follow_the_settings(two_accounts: IngestDir) -> None:
    two_accounts.ingest()
    default = _derived(two_accounts, "さくら整体院")
    assert default["senders"] == {
        "山田": "user",
        "佐藤": "user",
        "受付ボット": "staff",
        "応答メッセージ": "auto_reply",
        "外部ツール": "staff",
        "Unknown": "api",
    }
    assert default["kinds"]["ボイスメッセージを送信しました"] == "text"
    assert default["chat_types"] == {"山田　花子（紹介）": "one_to_one", "ヨガ教室火曜クラス": "one_to_one"}
    staged = two_accounts.query("SELECT * EXCLUDE (ingested_at) FROM source_files ORDER BY ALL")

    settings = {
        "auto_reply_names": ["受付ボット", *DEFAULT_AUTO_REPLY_NAMES],
        "api_sender_names": ["Unknown", "外部ツール"],
        "placeholders": {"ボイスメッセージを送信しました": "voice"},
        "accounts": {
            "さくら整体院 渋谷店": {
                "auto_reply_names": ["受付ボット"],  # replaces the list for this account
                # Matched after NFKC and without white space and brackets, as tags are.
                "chat_types": {"ヨガ教室 火曜クラス": "group", "山田花子(紹介)": "group"},
            }
        },
    }
    report = two_accounts.ingest(settings)  # nothing new to read: the months are classified anew in place
    assert (report.files_loaded, report.rows_read) == (0, 0)
    assert two_accounts.query("SELECT * EXCLUDE (ingested_at) FROM source_files ORDER BY ALL") == staged
    top = _derived(two_accounts, "さくら整体院")
    shibuya = _derived(two_accounts, "さくら整体院 渋谷店")
    assert top["senders"] == {
        "山田": "user",
        "佐藤": "user",
        "受付ボット": "auto_reply",
        "応答メッセージ": "auto_reply",
        "外部ツール": "api",
        "Unknown": "api",
    }
    assert (
        top["kinds"]["ボイスメッセージを送信しました"] == shibuya["kinds"]["ボイスメッセージを送信しました"] == "voice"
    )
    assert top["kinds"]["写真"] == "text"
    assert top["chat_types"] == {"山田　花子（紹介）": "one_to_one", "ヨガ教室火曜クラス": "one_to_one"}
    assert shibuya["senders"]["受付ボット"] == "auto_reply"
    assert shibuya["senders"]["応答メッセージ"] == "staff"  # no longer in this account's list
    assert shibuya["senders"]["外部ツール"] == "api"  # inherited from the top level
    assert shibuya["chat_types"] == {"山田　花子（紹介）": "group", "ヨガ教室火曜クラス": "group"}


def test_an_override_can_make_a_group_a_one_to_one_chat(ingest_dir: IngestDir) -> None:
    rows = [ChatMessage("User", "山田", T0, "a"), ChatMessage("User", "山田（スマホ）", T0, "b")]
    ingest_dir.drop("山田.csv", render_export("A", rows, downloaded_at=T0))
    ingest_dir.ingest()
    assert ingest_dir.query("SELECT DISTINCT chat_type FROM messages") == [("group",)]
    ingest_dir.ingest({"accounts": {"A": {"chat_types": {"山田": "one_to_one"}}}})
    assert ingest_dir.query("SELECT DISTINCT chat_type FROM messages") == [("one_to_one",)]


def test_parse_settings_accepts_an_empty_table() -> None:
    assert parse_settings({}) == Settings()


def test_a_run_after_a_settings_change_reclassifies_all_of_history(pipeline_dir: DataDir) -> None:
    jan, mar = datetime(2026, 1, 5, 10, 0), datetime(2026, 3, 5, 10, 0)
    chat = [
        ChatMessage("User", "山田", jan, "予約したいです"),
        ChatMessage("Account", "受付ボット", jan + timedelta(minutes=1), "ご用件をどうぞ"),
        ChatMessage("User", "山田", mar, "質問"),
        ChatMessage("Account", "受付ボット", mar + timedelta(minutes=1), "はい"),
    ]
    (pipeline_dir.inbox / "山田.csv").write_bytes(render_export("さくら整体院", chat, downloaded_at=mar))
    assert run_pipeline(pipeline_dir).ok
    pipeline_dir.settings_file.write_text(
        'auto_reply_names = ["受付ボット"]\n[placeholders]\n"質問" = "sticker"\n'
        '[accounts."さくら整体院"]\nchat_types = { "山田" = "group" }\n',
        encoding="utf-8",
    )
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.months_written == ["2026-01", "2026-02", "2026-03"]
    rows = snapshot_tables(pipeline_dir)["messages"]
    assert {(r[3], r[4]) for r in rows if r[5] == "受付ボット"} == {("group", "auto_reply")}
    assert [r[8] for r in rows if r[9] == "質問"] == ["sticker"]
    again = run_pipeline(pipeline_dir)
    assert again.ok and again.months_written == []


def test_a_settings_change_is_seen_by_content_not_modification_time(
    pipeline_dir: DataDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answered_in_45 = [
        ChatMessage("User", "山田", T0, "予約したいです"),
        ChatMessage("Account", "受付", T0 + timedelta(minutes=45), "はい"),
    ]
    (pipeline_dir.inbox / "山田.csv").write_bytes(
        render_export("さくら整体院", answered_in_45, downloaded_at=T0 + timedelta(hours=1))
    )

    def within_sla() -> float:
        assert run_pipeline(pipeline_dir).ok
        with duckdb.connect(str(pipeline_dir.snapshot), read_only=True) as conn:
            return conn.execute("SELECT within_sla FROM monthly_response_stats").fetchall()[0][0]

    pipeline_dir.settings_file.write_text("sla_minutes = 60\n", encoding="utf-8")
    assert within_sla() == 1.0
    older = tmp_path / "lineoa.toml.bak"  # a copy kept from long ago, put back with its modification time (cp -p)
    older.write_text("sla_minutes = 30\n", encoding="utf-8")
    os.utime(older, (946684800, 946684800))
    shutil.copy2(older, pipeline_dir.settings_file)
    assert within_sla() == 0.0  # used to say "nothing new since the last run" and keep 1.0
    pipeline_dir.settings_file.unlink()  # back to the default of 60 minutes
    assert within_sla() == 1.0
    capsys.readouterr()
    assert run_pipeline(pipeline_dir).ok
    assert "nothing new since the last run" in capsys.readouterr().out  # nothing changed: nothing refreshed

    # The published views carry the hash of what they were built with: a snapshot published by a run from
    # the UI without rebuilding them (settings changed since) leaves the next run to refresh them.
    resources = {"warehouse": WarehouseResource(data_dir=str(pipeline_dir.root))}
    assert published_side_inputs(pipeline_dir) == side_inputs_hash(pipeline_dir)
    pipeline_dir.settings_file.write_text("sla_minutes = 30\n", encoding="utf-8")
    assert dg.materialize([warehouse_snapshot], resources=resources).success
    assert within_sla() == 0.0
    capsys.readouterr()
    assert run_pipeline(pipeline_dir).ok
    assert "nothing new since the last run" in capsys.readouterr().out
