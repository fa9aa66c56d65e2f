"""The analytics views on a real warehouse, against numbers worked out by hand."""

from __future__ import annotations

import random
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.config import AccountSettings, parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.classify import sync_settings
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline.warehouse.tables import create_schema
from lineoa_pipeline.warehouse.views import VIEW_SPECS, VIEWS_DIR, column_types, create_views, load_views
from lineoa_pipeline_tests.helpers import BuildWarehouse

CLINIC = "さくら整体院"  # +09:00, open mon-fri 09:00-18:00, closed on Monday 2026-03-16
STUDIO = "Yoga Studio"  # +07:00, no business hours
SASAKI, NAKAJIMA = "受付 佐々木", "受付 中島"
AUTO, API = "応答メッセージ", "Unknown"
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)

SETTINGS = {
    "accounts": {
        CLINIC: {
            "business_hours": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
            | {"holidays": ["2026-03-16"]},
        }
    }
}


def _chat(*rows: tuple[str, str, str]) -> list[ChatMessage]:
    """Rows of (sender name, local time, text); staff, auto-reply and API names are sent by the Account."""
    return [
        ChatMessage(
            "Account" if name in (SASAKI, NAKAJIMA, AUTO, API, "Front desk") else "User",
            name,
            datetime.fromisoformat(when),
            text,
        )
        for name, when, text in rows
    ]


CLINIC_CHATS = {
    # Friday 17:00 -> Monday 10:00: 1 h on Friday + 1 h on Monday in business hours.
    "山田花子": _chat(
        ("山田 花子", "2026-03-06 17:00:00", "予約したいです"),
        (SASAKI, "2026-03-09 10:00:00", "はい、可能です。"),
    ),
    # Friday 17:00 -> Tuesday 10:00 over the Monday holiday: again 2 h.
    "鈴木一郎": _chat(
        ("鈴木 一郎", "2026-03-13 17:00:00", "駐車場はありますか"),
        (NAKAJIMA, "2026-03-17 10:00:00", "3台ございます。"),
    ),
    # Asked at 23:59:58 on 31 March (an auto reply in the same second does not answer), answered in April.
    "佐藤": _chat(
        ("佐藤", "2026-03-31 23:59:58", "明日空いてますか"),
        (AUTO, "2026-03-31 23:59:58", "メッセージありがとうございます。"),
        (SASAKI, "2026-04-01 00:10:03", "はい、可能です。"),
        ("佐藤", "2026-04-01 17:59:58", "何時ですか"),
        (NAKAJIMA, "2026-04-02 09:00:05", "10時です。"),
    ),
    # A staff reply in the question's second answers it; one listed before the question does not.
    "高橋": _chat(
        ("高橋", "2026-03-04 10:00:00", "料金はいくらですか?"),
        (AUTO, "2026-03-04 10:00:00", "メッセージありがとうございます。"),
        (NAKAJIMA, "2026-03-04 10:00:00", "5,000円です。"),
        (SASAKI, "2026-03-04 11:00:00", "ほかにご質問は?"),
        ("高橋", "2026-03-04 11:00:00", "キャンセルできますか"),
        (SASAKI, "2026-03-04 11:05:00", "できます。"),
    ),
    # Two questions and an API broadcast before one answer: one inquiry, from the first question.
    "田中": _chat(
        ("田中", "2026-03-05 10:00:00", "予約したいです"),
        ("田中", "2026-03-05 10:02:00", "明日の10時は?"),
        (API, "2026-03-05 10:10:00", "【お知らせ】今月のキャンペーン"),
        (NAKAJIMA, "2026-03-05 10:30:00", "空いています。"),
        (NAKAJIMA, "2026-03-05 10:31:00", "お待ちしております。"),
    ),
    "伊藤": _chat(  # never answered
        ("伊藤", "2026-03-05 11:00:00", "住所を教えてください"),
        (AUTO, "2026-03-05 11:00:01", "メッセージありがとうございます。"),
    ),
    "渡辺": _chat(  # answered by two staff
        ("渡辺", "2026-03-10 10:00:00", "予約したいです"),
        (SASAKI, "2026-03-10 10:20:00", "はい。"),
        ("渡辺", "2026-03-10 11:00:00", "変更できますか"),
        (NAKAJIMA, "2026-03-10 11:40:00", "できます。"),
        ("渡辺", "2026-03-10 12:00:00", "ありがとう"),
        (SASAKI, "2026-03-10 12:10:00", "どういたしまして。"),
    ),
    "小林": _chat((API, "2026-03-20 12:00:00", "【休診のお知らせ】")),  # no inquiry
}

STUDIO_CHATS = {
    # 03:00 on 1 February at +07:00 is still January in UTC: the month is the local one.
    "Mia": _chat(
        ("Mia", "2026-01-31 23:59:58", "Is there parking?"),
        ("Front desk", "2026-02-01 00:00:08", "Yes."),
        ("Mia", "2026-02-01 03:00:00", "Thanks! And mats?"),
        ("Front desk", "2026-02-01 03:01:00", "We rent them."),
    ),
}


@pytest.fixture
def warehouse(build_warehouse: BuildWarehouse) -> DataDir:
    downloaded = datetime(2026, 4, 10, 10, 0)
    inbox = {
        f"clinic/{chat}.csv": render_export(CLINIC, messages, downloaded_at=downloaded)
        for chat, messages in CLINIC_CHATS.items()
    } | {
        f"studio/{chat}.csv": render_export(STUDIO, messages, lang="en", tz_offset="+07:00", downloaded_at=downloaded)
        for chat, messages in STUDIO_CHATS.items()
    }
    data_dir = build_warehouse(inbox, SETTINGS)
    with write_connection(data_dir) as conn:
        conn.executemany(
            "INSERT INTO chat_tags VALUES (?, ?, ?)",
            [
                (CLINIC, "山田花子", "vip"),
                (CLINIC, "渡辺", "vip"),
                (CLINIC, "渡辺", "vip"),  # a tag given twice counts once
                (CLINIC, "佐藤", "new"),
                (CLINIC, "伊藤", "quiet"),
                (CLINIC, "小林", "quiet"),
                (CLINIC, "nobody", "quiet"),  # a chat the warehouse does not know
            ],
        )
        create_views(conn)
    return data_dir


def _rows(data_dir: DataDir, sql: str) -> list[tuple]:
    with write_connection(data_dir) as conn:
        return conn.execute(sql).fetchall()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_response_times_one_row_per_inquiry(warehouse: DataDir) -> None:
    rows = _rows(
        warehouse,
        """SELECT chat_name, month, asked_at, replied_at, response_seconds, business_seconds, replied_by
           FROM response_times WHERE account_name = 'さくら整体院' ORDER BY asked_at""",
    )
    got = [(c, m, a.astimezone(UTC), r and r.astimezone(UTC), s, b, by) for c, m, a, r, s, b, by in rows]
    assert got == [
        ("高橋", MARCH, _at("2026-03-04T10:00:00+09:00"), _at("2026-03-04T10:00:00+09:00"), 0, 0, NAKAJIMA),
        ("高橋", MARCH, _at("2026-03-04T11:00:00+09:00"), _at("2026-03-04T11:05:00+09:00"), 300, 300, SASAKI),
        ("田中", MARCH, _at("2026-03-05T10:00:00+09:00"), _at("2026-03-05T10:30:00+09:00"), 1800, 1800, NAKAJIMA),
        ("伊藤", MARCH, _at("2026-03-05T11:00:00+09:00"), None, None, None, None),
        ("山田花子", MARCH, _at("2026-03-06T17:00:00+09:00"), _at("2026-03-09T10:00:00+09:00"), 234000, 7200, SASAKI),
        ("渡辺", MARCH, _at("2026-03-10T10:00:00+09:00"), _at("2026-03-10T10:20:00+09:00"), 1200, 1200, SASAKI),
        ("渡辺", MARCH, _at("2026-03-10T11:00:00+09:00"), _at("2026-03-10T11:40:00+09:00"), 2400, 2400, NAKAJIMA),
        ("渡辺", MARCH, _at("2026-03-10T12:00:00+09:00"), _at("2026-03-10T12:10:00+09:00"), 600, 600, SASAKI),
        ("鈴木一郎", MARCH, _at("2026-03-13T17:00:00+09:00"), _at("2026-03-17T10:00:00+09:00"), 320400, 7200, NAKAJIMA),
        ("佐藤", MARCH, _at("2026-03-31T23:59:58+09:00"), _at("2026-04-01T00:10:03+09:00"), 605, 0, SASAKI),
        # 2 s before closing on Wednesday, 5 s after opening on Thursday
        ("佐藤", APRIL, _at("2026-04-01T17:59:58+09:00"), _at("2026-04-02T09:00:05+09:00"), 54007, 7, NAKAJIMA),
    ]


def test_without_business_hours_every_second_counts(warehouse: DataDir) -> None:
    rows = _rows(
        warehouse,
        """SELECT month, response_seconds, business_seconds FROM response_times
           WHERE account_name = 'Yoga Studio' ORDER BY asked_at""",
    )
    assert rows == [(date(2026, 1, 1), 10, 10), (date(2026, 2, 1), 60, 60)]


def test_monthly_response_stats(warehouse: DataDir) -> None:
    rows = _rows(
        warehouse,
        """SELECT * REPLACE (round(p90_response_seconds, 6) AS p90_response_seconds)
           FROM monthly_response_stats WHERE account_name = 'さくら整体院' ORDER BY month""",
    )
    # March, answered waits sorted: 0 300 600 605 1200 1800 2400 234000 320400 -> median 1200;
    # p90 at position 0.9 * 8 = 7.2: 234000 + 0.2 * (320400 - 234000) = 251280.
    # Business: 0 0 300 600 1200 1800 2400 7200 7200 -> median 1200; 7 of 10 inquiries within 3600 s.
    assert rows == [
        (CLINIC, MARCH, 10, 9, 1, 1200.0, 251280.0, 1200.0, 0.7),
        (CLINIC, APRIL, 1, 1, 0, 54007.0, 54007.0, 7.0, 1.0),
    ]


def test_within_sla_follows_the_account_setting(build_warehouse: BuildWarehouse) -> None:
    chat = _chat(
        ("A", "2026-03-04 10:00:00", "?"),
        (SASAKI, "2026-03-04 10:20:00", "!"),
        ("A", "2026-03-04 11:00:00", "?"),
        (SASAKI, "2026-03-04 11:40:00", "!"),
    )
    data_dir = build_warehouse(
        {"a.csv": render_export(CLINIC, chat, downloaded_at=datetime(2026, 4, 1))},
        {"accounts": {CLINIC: {"sla_minutes": 30}}},
    )
    with write_connection(data_dir) as conn:
        create_views(conn)
        assert conn.execute("SELECT within_sla FROM monthly_response_stats").fetchall() == [(0.5,)]


def test_staff_response_stats(warehouse: DataDir) -> None:
    rows = _rows(
        warehouse,
        "SELECT * FROM staff_response_stats WHERE account_name = 'さくら整体院' ORDER BY month, replied_by",
    )
    assert rows == [
        (CLINIC, MARCH, NAKAJIMA, 4, 2100.0),  # 0 1800 2400 320400
        (CLINIC, MARCH, SASAKI, 5, 605.0),  # 300 600 605 1200 234000
        (CLINIC, APRIL, NAKAJIMA, 1, 54007.0),
    ]


def test_tag_counts(warehouse: DataDir) -> None:
    rows = _rows(warehouse, "SELECT * FROM tag_counts ORDER BY month, tag")
    assert rows == [
        (CLINIC, MARCH, "new", 1, 1, 605.0),
        (CLINIC, MARCH, "quiet", 2, 1, None),  # 伊藤's inquiry is unanswered, 小林 has none
        (CLINIC, MARCH, "vip", 2, 4, 1800.0),  # 234000 1200 2400 600
        (CLINIC, APRIL, "new", 1, 1, 54007.0),
    ]


def test_views_on_a_warehouse_without_settings(tmp_path: Path) -> None:
    with duckdb.connect(tmp_path / "bare.duckdb") as conn:
        create_schema(conn)
        create_views(conn)
        assert conn.execute("SELECT count(*) FROM monthly_response_stats").fetchone() == (0,)


def test_without_settings_tables_the_views_take_the_default_settings(warehouse: DataDir) -> None:
    with write_connection(warehouse) as conn:
        conn.execute("DROP TABLE _cfg_accounts")
        create_views(conn)
        assert conn.execute("SELECT account_name, sla_minutes FROM _cfg_accounts ORDER BY 1").fetchall() == [
            (STUDIO, AccountSettings().sla_minutes),
            (CLINIC, AccountSettings().sla_minutes),
        ]


# The public tables an analytics view may read, each an asset of its own; staging's tables (source_files,
# rejected_rows, ...) are written before `messages`, so reading `messages` covers them.
ASSET_TABLES = ("messages", "source_files", "chat_tags", "media_files")
BUSIEST_CHATS = """/* ---
description: >
  Per account, the chats with the most inquiries.
reads: [response_times]
columns:
  account_name: The account.
  chat_name: The chat.
  inquiries: Its inquiries, ever.
--- */
CREATE OR REPLACE VIEW busiest_chats AS
SELECT account_name, chat_name, count(*) AS inquiries FROM response_times GROUP BY ALL;
"""


def test_each_view_declares_its_real_columns_and_describes_each(warehouse: DataDir) -> None:
    with write_connection(warehouse) as conn:
        for view in VIEW_SPECS:
            real = [row[0] for row in conn.execute(f"DESCRIBE {view.name}").fetchall()]
            assert list(view.columns) == real, f"{view.path.name} declares other columns than the view has"
            assert all(d.strip() for d in view.columns.values()), f"{view.path.name} leaves a column undescribed"
            assert view.description.strip(), f"{view.path.name} has no description"
    types = column_types()
    assert {v.name: list(types[v.name]) for v in VIEW_SPECS} == {v.name: list(v.columns) for v in VIEW_SPECS}


def test_each_view_reads_exactly_what_it_declares() -> None:
    names = [v.name for v in VIEW_SPECS]
    for view in VIEW_SPECS:
        assert set(view.reads) <= {*ASSET_TABLES, *names} - {view.name}, f"{view.name} reads {view.reads}"
        assert all(names.index(r) < names.index(view.name) for r in view.reads if r in names), "not in order"
        for read in view.reads:
            # a view may read the table a view materialises (`_response_times` behind `response_times`)
            assert any(re.search(rf"\b_?{read}\b", s) for s in view.statements), f"{view.name} never reads {read}"
        with duckdb.connect() as conn:
            create_schema(conn)
            create_views(conn, VIEW_SPECS[: names.index(view.name)])
            for other in {*ASSET_TABLES, *names[: names.index(view.name)]} - set(view.reads):
                kind = "TABLE" if other in ASSET_TABLES else "VIEW"
                conn.execute(f"DROP {kind} {other}")
            create_views(conn, (view,))  # fails if it reads anything it does not declare


def test_adding_a_view_is_one_new_file(warehouse: DataDir, tmp_path: Path) -> None:
    folder = tmp_path / "views"
    shutil.copytree(VIEWS_DIR, folder)
    (folder / "busiest_chats.sql").write_text(BUSIEST_CHATS, encoding="utf-8")
    views = load_views(folder)
    names = [v.name for v in views]
    assert names.index("response_times") < names.index("busiest_chats")
    busiest = views[names.index("busiest_chats")]
    assert (busiest.reads, list(busiest.columns)) == (("response_times",), ["account_name", "chat_name", "inquiries"])
    with write_connection(warehouse) as conn:
        create_views(conn, views)
        top = conn.execute("SELECT chat_name, inquiries FROM busiest_chats ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    assert top == ("渡辺", 3)


def test_a_view_without_front_matter_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bare.sql").write_text("CREATE VIEW bare AS SELECT 1 AS one;\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bare\.sql: no front matter"):
        load_views(tmp_path)
    (tmp_path / "bare.sql").write_text("/* ---\ndescription: x\n--- */\nSELECT 1;\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bare\.sql: the front matter must hold description, reads and columns"):
        load_views(tmp_path)


def _reference_business_seconds(
    asked: datetime, replied: datetime, hours: dict[int, list[tuple[int, int]]], holidays: set[date]
) -> int:
    """Day by day: the overlap of the wait (naive local times) with each open range of each day."""
    total, day = 0, asked.date()
    while day <= replied.date():
        midnight = datetime.combine(day, datetime.min.time())
        for start, end in [] if day in holidays else hours.get(day.isoweekday(), []):
            opens, closes = midnight + timedelta(seconds=start), midnight + timedelta(seconds=end)
            total += max(0, int((min(closes, replied) - max(opens, asked)).total_seconds()))
        day += timedelta(days=1)
    return total


def test_random_chats_match_a_message_by_message_reference(build_warehouse: BuildWarehouse) -> None:
    rng = random.Random(7)
    hours = {
        1: [(9 * 3600, 12 * 3600), (13 * 3600, 18 * 3600)],
        3: [(9 * 3600, 18 * 3600)],
        6: [(10 * 3600, 14 * 3600)],
    }
    holidays = {date(2026, 3, 11), date(2026, 3, 28)}
    senders = [("User", "客"), ("Account", SASAKI), ("Account", AUTO), ("Account", API)]
    chats: dict[str, list[ChatMessage]] = {}
    for c in range(6):
        when = datetime(2026, 2, 27, 8, 0)
        chats[f"chat{c}"] = []
        for _ in range(80):
            when += timedelta(seconds=rng.choice([0, 0, 1, 59, 3600, 20000, 90000, 200000]))
            kind, name = rng.choices(senders, weights=[5, 4, 1, 1])[0]
            chats[f"chat{c}"].append(ChatMessage(kind, name, when, "..."))
    data_dir = build_warehouse(
        {
            f"{chat}.csv": render_export(CLINIC, messages, tz_offset="+07:00", downloaded_at=datetime(2026, 6, 1))
            for chat, messages in chats.items()
        },
        {
            "business_hours": {
                "mon": ["09:00-12:00", "13:00-18:00"],
                "wed": ["09:00-18:00"],
                "sat": ["10:00-14:00"],
                "holidays": [str(d) for d in holidays],
            }
        },
    )
    expected = []
    for chat, messages in chats.items():
        waiting = None
        for m in messages:
            if m.sender_type == "User" and waiting is None:
                waiting = m
            elif m.sender_name == SASAKI and waiting is not None:
                wait = int((m.sent_at - waiting.sent_at).total_seconds())
                business = _reference_business_seconds(waiting.sent_at, m.sent_at, hours, holidays)
                expected.append((chat, waiting.sent_at, m.sent_at, wait, business))
                waiting = None
        if waiting is not None:
            expected.append((chat, waiting.sent_at, None, None, None))
    with write_connection(data_dir) as conn:
        create_views(conn)
        rows = conn.execute(
            """SELECT chat_name, timezone('UTC', asked_at) + INTERVAL 7 HOUR,
                      timezone('UTC', replied_at) + INTERVAL 7 HOUR, response_seconds, business_seconds
               FROM response_times ORDER BY chat_name, asked_at"""
        ).fetchall()
    assert len(expected) > 80
    assert rows == sorted(expected, key=lambda r: (r[0], r[1]))


# --- the operator's views: LINE's reply time, buckets, busy hours, the backlog, frequent texts --------------

DESK = "みどり歯科"  # +09:00 (one chat's export +08:00), open mon-fri 09:00-18:00, closed Friday 2026-04-03
CAFE = "Cafe"  # +07:00, no business hours
NOTICE, CLOSED = "【4月のお知らせ】", "【臨時休診】"
DESK_SETTINGS = {
    "broadcast_min_chats": 3,
    "broadcast_window_minutes": 10,
    "accounts": {
        DESK: {
            "business_hours": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
            | {"holidays": ["2026-04-03"]},
            "menu_texts": ["予約する"],
        },
        CAFE: {"menu_texts": ["Ｂｏｏｋ ｎｏｗ"]},  # NFKC: "Book now"
    },
}
DESK_CHATS = {
    # LINE's cycles: 24 h exactly is inside (a reply at 86,400 s counts), 1 s more opens the next cycle
    # (and a reply at 86,401 s does not count); a user message inside an open cycle opens nothing.
    "cycle": _chat(
        ("客", "2026-03-02 10:00:00", "a"),  # Monday
        ("客", "2026-03-02 12:00:00", "b"),
        (SASAKI, "2026-03-03 10:00:00", "1"),
        ("客", "2026-03-03 10:00:01", "c"),
        (SASAKI, "2026-03-04 10:00:02", "2"),
        ("客", "2026-03-04 10:00:02", "d"),  # listed after the reply of its second: not answered by it
        (SASAKI, "2026-03-04 10:30:02", "3"),
    ),
    # a rich-menu tap before the real question: the question starts the inquiry
    "menu": _chat(
        ("客", "2026-03-05 11:00:00", "予約する"),
        (AUTO, "2026-03-05 11:00:00", "メッセージありがとうございます。"),
        ("客", "2026-03-05 11:05:00", "明日の10時は空いてますか"),
        (SASAKI, "2026-03-05 11:20:00", "空いています。"),
    ),
    "group": _chat(  # two user names: a group, left out of LINE's figure
        ("母", "2026-03-06 10:00:00", "hi"),
        ("父", "2026-03-06 10:01:00", "hello"),
        (SASAKI, "2026-03-06 10:30:00", "どうぞ"),
    ),
    "tool": _chat(  # staff who answer through an API tool: answered only with api_answers
        ("客", "2026-03-09 10:00:00", "質問"),
        (API, "2026-03-09 10:10:00", "回答です"),
    ),
    "tz": _chat(("客", "2026-03-10 09:00:00", "?"), (SASAKI, "2026-03-10 10:00:00", "!")),
    # user messages every 20 h: cycles at 0 h and 40 h (60 h is inside the second)
    "daily": _chat(
        ("客", "2026-03-16 09:00:00", "1"),
        ("客", "2026-03-17 05:00:00", "2"),
        ("客", "2026-03-18 01:00:00", "3"),
        (SASAKI, "2026-03-18 01:30:00", "ok"),
        ("客", "2026-03-18 21:00:00", "4"),
    ),
    # a broadcast straddling midnight at the end of March (3 chats); another to 2 chats only, no broadcast
    "bc1": _chat((API, "2026-03-20 12:00:00", CLOSED), (API, "2026-03-31 23:59:58", NOTICE)),
    "bc2": _chat(
        (API, "2026-03-20 12:00:30", CLOSED),
        ("客", "2026-03-31 23:50:00", "営業時間は?"),  # a broadcast never answers, api_answers or not
        (API, "2026-04-01 00:00:05", NOTICE),
    ),
    "bc3": _chat((API, "2026-04-01 00:01:00", NOTICE)),
}
# Exported at +08:00 and downloaded last: the account's latest offset, yet each message keeps its file's.
TZ2 = _chat(("客", "2026-03-11 08:30:00", "?"), (SASAKI, "2026-03-11 08:40:00", "!"))
DESK_DOWNLOADED = datetime(2026, 4, 10, 10, 0)
CAFE_CHATS = {
    f"f{n}": _chat(
        ("c", f"2026-03-0{n} 10:00:00", "Book now"),
        ("c", f"2026-03-0{n} 10:01:00", "Price?"),
        *([("c", f"2026-03-0{n} 10:02:00", "Price?")] if n == 5 else []),
        *([("c", f"2026-03-0{n} 10:03:00", "Hours?")] if n < 5 else []),  # 4 chats: not frequent
    )
    for n in range(1, 6)
}


@pytest.fixture
def desk(build_warehouse: BuildWarehouse) -> DataDir:
    inbox = {
        f"desk/{chat}.csv": render_export(DESK, messages, downloaded_at=DESK_DOWNLOADED)
        for chat, messages in DESK_CHATS.items()
    }
    inbox["desk/old/bc2.csv"] = render_export(DESK, DESK_CHATS["bc2"][:2], downloaded_at=datetime(2026, 4, 1, 9))
    inbox["desk/tz2.csv"] = render_export(DESK, TZ2, tz_offset="+08:00", downloaded_at=datetime(2026, 4, 10, 11))
    inbox |= {
        f"cafe/{chat}.csv": render_export(CAFE, messages, lang="en", tz_offset="+07:00", downloaded_at=DESK_DOWNLOADED)
        for chat, messages in CAFE_CHATS.items()
    }
    data_dir = build_warehouse(inbox, DESK_SETTINGS)
    with write_connection(data_dir) as conn:
        create_views(conn)
    return data_dir


def _api_answers(data_dir: DataDir) -> None:
    """The desk's settings with api_answers on: only the views change (no month is rewritten)."""
    settings = {**DESK_SETTINGS, "accounts": {**DESK_SETTINGS["accounts"]}}
    settings["accounts"][DESK] = {**settings["accounts"][DESK], "api_answers": True}
    with write_connection(data_dir) as conn:
        sync_settings(conn, parse_settings(settings))
        create_views(conn)


def _local(text: str, offset: str = "+09:00") -> datetime:
    return _at(text.replace(" ", "T") + offset)


def test_broadcasts_menu_taps_and_api_messages_are_classified(desk: DataDir) -> None:
    rows = _rows(desk, "SELECT chat_name, content, sender_type, kind FROM messages WHERE sender_name = 'Unknown'")
    assert sorted(rows) == sorted(
        [
            ("bc1", CLOSED, "api", "text"),  # two chats within the window: one fewer than 3
            ("bc1", NOTICE, "broadcast", "text"),  # 23:59:58 on 31 March, with two chats after midnight
            ("bc2", CLOSED, "api", "text"),
            ("bc2", NOTICE, "broadcast", "text"),
            ("bc3", NOTICE, "broadcast", "text"),
            ("tool", "回答です", "api", "text"),
        ]
    )
    taps = _rows(desk, "SELECT account_name, content FROM messages WHERE kind = 'menu_tap' ORDER BY ALL")
    assert taps == [*((CAFE, "Book now") for _ in range(5)), (DESK, "予約する")]


DESK_INQUIRIES = [
    ("cycle", "2026-03-02 10:00:00", "2026-03-03 10:00:00", 86400, 32400, SASAKI),  # Mon 10-18, Tue 9-10
    ("cycle", "2026-03-03 10:00:01", "2026-03-04 10:00:02", 86401, 32401, SASAKI),
    ("cycle", "2026-03-04 10:00:02", "2026-03-04 10:30:02", 1800, 1800, SASAKI),
    ("menu", "2026-03-05 11:05:00", "2026-03-05 11:20:00", 900, 900, SASAKI),
    ("group", "2026-03-06 10:00:00", "2026-03-06 10:30:00", 1800, 1800, SASAKI),
    ("tool", "2026-03-09 10:00:00", None, None, None, None),
    ("tz", "2026-03-10 09:00:00", "2026-03-10 10:00:00", 3600, 3600, SASAKI),  # in its own +09:00
    ("tz2", "2026-03-11 08:30:00", "2026-03-11 08:40:00", 600, 0, SASAKI),  # +08:00: before opening
    ("daily", "2026-03-16 09:00:00", "2026-03-18 01:30:00", 145800, 64800, SASAKI),
    ("daily", "2026-03-18 21:00:00", None, None, None, None),
    ("bc2", "2026-03-31 23:50:00", None, None, None, None),
]


def _desk_inquiries(data_dir: DataDir) -> list[tuple]:
    rows = _rows(
        data_dir,
        """SELECT chat_name, month, asked_at, replied_at, response_seconds, business_seconds, replied_by
           FROM response_times WHERE account_name = 'みどり歯科' ORDER BY asked_at""",
    )
    assert {m for _, m, *_ in rows} == {MARCH}
    return [(c, a, r, s, b, by) for c, _, a, r, s, b, by in rows]


def _expected_inquiries(rows: list[tuple]) -> list[tuple]:
    def local(chat: str, text: str | None) -> datetime | None:
        return text and _local(text, "+08:00" if chat == "tz2" else "+09:00")

    return [(c, local(c, a), local(c, r), s, b, by) for c, a, r, s, b, by in rows]


def test_response_times_with_menu_taps_broadcasts_and_api_answers(desk: DataDir) -> None:
    assert _desk_inquiries(desk) == _expected_inquiries(DESK_INQUIRIES)
    _api_answers(desk)
    answered = [
        ("tool", "2026-03-09 10:00:00", "2026-03-09 10:10:00", 600, 600, API) if row[0] == "tool" else row
        for row in DESK_INQUIRIES
    ]
    assert _desk_inquiries(desk) == _expected_inquiries(answered)  # bc2's broadcast still answers nothing


def _buckets(data_dir: DataDir) -> dict[str, int]:
    rows = _rows(data_dir, "SELECT account_name, month, bucket, inquiries FROM response_buckets")
    assert {(a, m) for a, m, _, _ in rows} == {(DESK, MARCH), (CAFE, MARCH)}
    return {b: n for a, _, b, n in rows if a == DESK}


def test_response_buckets(desk: DataDir) -> None:
    # under 1 h: 1800 900 1800 600; 1-4 h: 3600; over 24 h: 86400 86401 145800
    zeros = {"4h_8h": 0, "8h_24h": 0}
    assert _buckets(desk) == {"under_1h": 4, "1h_4h": 1, "over_24h": 3, "unanswered": 3} | zeros
    _api_answers(desk)
    assert _buckets(desk) == {"under_1h": 5, "1h_4h": 1, "over_24h": 3, "unanswered": 2} | zeros


def test_hourly_volume_in_each_files_local_time(desk: DataDir) -> None:
    rows = _rows(
        desk,
        """SELECT month, weekday, hour, user_messages, inquiries FROM hourly_volume
           WHERE account_name = 'みどり歯科' ORDER BY ALL""",
    )
    assert rows == [
        (MARCH, *cell)
        for cell in [
            (1, 9, 1, 1),  # daily
            (1, 10, 2, 2),  # cycle, tool
            (1, 12, 1, 0),  # cycle: inside the waiting inquiry
            (2, 5, 1, 0),
            (2, 9, 1, 1),  # tz
            (2, 10, 1, 1),
            (2, 23, 1, 1),  # bc2
            (3, 1, 1, 0),
            (3, 8, 1, 1),  # tz2, 08:30 at +08:00
            (3, 10, 1, 1),
            (3, 21, 1, 1),
            (4, 11, 1, 1),  # menu: the tap at 11:00 is not counted
            (5, 10, 2, 1),  # group
        ]
    ]


LINE_CYCLES = [
    ("cycle", "2026-03-02 10:00:00", "2026-03-03 10:00:00", 86400),  # 24 h exactly: replied
    ("cycle", "2026-03-03 10:00:01", None, None),  # the reply came 86,401 s later: not counted
    ("cycle", "2026-03-04 10:00:02", "2026-03-04 10:30:02", 1800),
    ("menu", "2026-03-05 11:05:00", "2026-03-05 11:20:00", 900),
    ("tool", "2026-03-09 10:00:00", None, None),
    ("tz", "2026-03-10 09:00:00", "2026-03-10 10:00:00", 3600),
    ("tz2", "2026-03-11 08:30:00", "2026-03-11 08:40:00", 600),
    ("daily", "2026-03-16 09:00:00", None, None),
    ("daily", "2026-03-18 01:00:00", "2026-03-18 01:30:00", 1800),
    ("bc2", "2026-03-31 23:50:00", None, None),
]


def _cycles(data_dir: DataDir) -> list[tuple]:
    rows = _rows(
        data_dir,
        """SELECT chat_name, month, started_at, replied_at, reply_seconds FROM line_reply_times
           WHERE account_name = 'みどり歯科' ORDER BY started_at""",
    )
    assert {m for _, m, *_ in rows} == {MARCH}
    return [(c, s, r, n) for c, _, s, r, n in rows]


def test_line_reply_times_as_line_computes_them(desk: DataDir) -> None:
    def expected(rows: list[tuple]) -> list[tuple]:
        offset = {"tz2": "+08:00"}
        return [
            (c, _local(s, offset.get(c, "+09:00")), r and _local(r, offset.get(c, "+09:00")), n) for c, s, r, n in rows
        ]

    assert _cycles(desk) == expected(LINE_CYCLES)
    stats = _rows(desk, "SELECT * FROM monthly_line_reply_stats WHERE account_name = 'みどり歯科'")
    assert stats == [(DESK, MARCH, 10, 6, (86400 + 1800 + 900 + 3600 + 600 + 1800) / 6)]
    _api_answers(desk)
    tool = ("tool", "2026-03-09 10:00:00", "2026-03-09 10:10:00", 600)
    assert _cycles(desk) == expected([tool if c[0] == "tool" else c for c in LINE_CYCLES])
    stats = _rows(desk, "SELECT * FROM monthly_line_reply_stats WHERE account_name = 'みどり歯科'")
    assert stats == [(DESK, MARCH, 10, 7, pytest.approx(95700 / 7))]


def test_waiting_chats_across_a_holiday(desk: DataDir) -> None:
    query = "SELECT * FROM waiting_chats WHERE account_name = 'みどり歯科' ORDER BY waiting_seconds DESC"
    as_of = _local("2026-04-10 10:00:00")
    # tool: Mon 10-18, 22 open weekdays (Friday 3 April closed), Fri 9-10: 8 + 198 + 1 h
    tool = (DESK, "tool", "one_to_one", _local("2026-03-09 10:00:00"), as_of, 32 * 86400, 207 * 3600)
    rest = [
        # from Wednesday 21:00: 15 open weekdays and an hour
        (DESK, "daily", "one_to_one", _local("2026-03-18 21:00:00"), as_of, 22 * 86400 + 13 * 3600, 136 * 3600),
        # as of the later of its two exports; Wed, Thu, (Fri closed), Mon-Thu, and an hour
        (DESK, "bc2", "one_to_one", _local("2026-03-31 23:50:00"), as_of, 814200, 55 * 3600),
    ]
    assert _rows(desk, query) == [tool, *rest]
    _api_answers(desk)
    assert _rows(desk, query) == rest


def test_frequent_user_texts(desk: DataDir) -> None:
    assert _rows(desk, "SELECT * FROM frequent_user_texts") == [
        (CAFE, "Price?", 5, 6, _local("2026-03-01 10:01:00", "+07:00"), _local("2026-03-05 10:02:00", "+07:00")),
        (CAFE, "Book now", 5, 5, _local("2026-03-01 10:00:00", "+07:00"), _local("2026-03-05 10:00:00", "+07:00")),
    ]


def test_random_chats_match_a_message_by_message_reference_of_line_cycles(build_warehouse: BuildWarehouse) -> None:
    rng = random.Random(11)
    senders = [("User", "客"), ("Account", SASAKI), ("Account", AUTO)]
    chats: dict[str, list[ChatMessage]] = {}
    for c in range(8):
        when = datetime(2026, 2, 27, 8, 0)
        chats[f"chat{c}"] = []
        for _ in range(120):
            when += timedelta(seconds=rng.choice([0, 0, 1, 3600, 40000, 86399, 86400, 86401, 100000]))
            kind, name = rng.choices(senders, weights=[5, 2, 1])[0]
            chats[f"chat{c}"].append(ChatMessage(kind, name, when, rng.choice(["...", "予約する"])))
    data_dir = build_warehouse(
        {
            f"{chat}.csv": render_export(CLINIC, rows, downloaded_at=datetime(2026, 9, 1))
            for chat, rows in chats.items()
        },
        {"menu_texts": ["予約する"]},
    )
    expected = []
    for chat, rows in chats.items():
        start: ChatMessage | None = None
        replied = True
        for m in rows:
            counts = m.sender_type == "User" and m.content != "予約する"
            if counts and (start is None or (m.sent_at - start.sent_at).total_seconds() > 86400):
                if start is not None and not replied:
                    expected.append((chat, start.sent_at, None, None))
                start, replied = m, False
            elif m.sender_name == SASAKI and start is not None and not replied:
                wait = int((m.sent_at - start.sent_at).total_seconds())
                if wait <= 86400:
                    expected.append((chat, start.sent_at, m.sent_at, wait))
                    replied = True
        if start is not None and not replied:
            expected.append((chat, start.sent_at, None, None))
    with write_connection(data_dir) as conn:
        create_views(conn)
        rows = conn.execute(
            """SELECT chat_name, timezone('UTC', started_at) + INTERVAL 9 HOUR,
                      timezone('UTC', replied_at) + INTERVAL 9 HOUR, reply_seconds
               FROM line_reply_times ORDER BY chat_name, started_at"""
        ).fetchall()
    assert len(expected) > 100
    assert rows == sorted(expected, key=lambda r: (r[0], r[1]))


def test_an_account_business_hours_table_merges_with_the_global_one(build_warehouse: BuildWarehouse) -> None:
    # Monday 2026-03-02, 17:00 -> 19:00: the global Monday hours (09:00-18:00) count one hour of the wait,
    # though the account's own table only adds Saturday
    chat = _chat(("A", "2026-03-02 17:00:00", "?"), (SASAKI, "2026-03-02 19:00:00", "!"))
    data_dir = build_warehouse(
        {"a.csv": render_export(CLINIC, chat, downloaded_at=datetime(2026, 4, 1))},
        {
            "business_hours": {"mon": ["09:00-18:00"], "holidays": ["2026-01-01"]},
            "accounts": {CLINIC: {"business_hours": {"sat": ["10:00-14:00"]}}},
        },
    )
    with write_connection(data_dir) as conn:
        create_views(conn)
        assert conn.execute("SELECT response_seconds, business_seconds FROM response_times").fetchall() == [
            (7200, 3600)
        ]
