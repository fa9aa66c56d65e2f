"""Classification by the settings: broadcasts among `api` messages (a window over all of an account's chats,
across month ends, incrementally as a rebuild would), rich-menu taps by NFKC, and reclassifying on a change."""

from __future__ import annotations

from datetime import datetime, timedelta

from lineoa_pipeline.commands.run import rebuild_warehouse, run_pipeline
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.classify import mark_reclassified_months, sync_settings
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import IngestDir

ACCOUNT = "さくら整体院"
SALE = "【春のキャンペーン】"
BROADCAST = {"broadcast_min_chats": 3, "broadcast_window_minutes": 10}


def _api(when: datetime, content: str = SALE) -> ChatMessage:
    return ChatMessage("Account", "Unknown", when, content)


def _drop(target: IngestDir | DataDir, chat: str, rows: list[ChatMessage], downloaded: datetime) -> None:
    inbox = target.data_dir.inbox if isinstance(target, IngestDir) else target.inbox
    (inbox / f"{chat}.csv").write_bytes(render_export(ACCOUNT, rows, downloaded_at=downloaded))


def _senders(ingest_dir: IngestDir) -> dict[tuple[str, str], str]:
    rows = ingest_dir.query("SELECT chat_name, strftime(sent_at, '%H:%M:%S'), sender_type FROM messages")
    return {(chat, at): sender_type for chat, at, sender_type in rows}


def test_a_broadcast_reaches_the_threshold_of_chats_within_the_window(ingest_dir: IngestDir) -> None:
    t = datetime(2026, 3, 10, 12, 0)
    down = datetime(2026, 3, 20)
    _drop(ingest_dir, "a", [_api(t), _api(t + timedelta(minutes=3), "個別のご案内")], down)
    _drop(ingest_dir, "b", [_api(t + timedelta(minutes=10))], down)  # |Δ| = the window: inside
    _drop(ingest_dir, "c", [_api(t + timedelta(minutes=20))], down)  # 10 min from b, 20 from a
    # the same text twice in one chat counts one chat; a user's or staff member's copy counts none
    _drop(ingest_dir, "d", [_api(t + timedelta(minutes=45)), _api(t + timedelta(minutes=46))], down)
    _drop(ingest_dir, "e", [ChatMessage("User", "e", t + timedelta(minutes=47), SALE)], down)
    _drop(ingest_dir, "f", [ChatMessage("Account", "受付", t + timedelta(minutes=48), SALE)], down)
    _drop(ingest_dir, "g", [_api(t + timedelta(minutes=49), SALE + " ")], down)  # not the same content
    ingest_dir.ingest(BROADCAST)
    # UTC times (+09:00 less 9 hours); each message is judged on its own window
    assert _senders(ingest_dir) == {
        ("a", "03:00:00"): "api",  # a and b within 10 min of it: 2 chats, one fewer than 3
        ("a", "03:03:00"): "api",
        ("b", "03:10:00"): "broadcast",  # a, b and c
        ("c", "03:20:00"): "api",  # b and c
        ("d", "03:45:00"): "api",
        ("d", "03:46:00"): "api",
        ("e", "03:47:00"): "user",
        ("f", "03:48:00"): "staff",
        ("g", "03:49:00"): "api",
    }
    ingest_dir.ingest({**BROADCAST, "broadcast_min_chats": 4})
    assert set(_senders(ingest_dir).values()) == {"api", "user", "staff"}
    ingest_dir.ingest({**BROADCAST, "broadcast_window_minutes": 30})
    got = _senders(ingest_dir)
    assert [got["a", "03:00:00"], got["c", "03:20:00"]] == ["broadcast", "broadcast"]  # a b c; a b c d
    # d's two copies see c and d only: two chats, however many copies
    assert [got["d", "03:45:00"], got["d", "03:46:00"]] == ["api", "api"]
    ingest_dir.ingest({"broadcast_min_chats": 2, "broadcast_window_minutes": 30})
    got = _senders(ingest_dir)
    assert [got["d", "03:45:00"], got["d", "03:46:00"]] == ["broadcast", "broadcast"]  # a repeat is one too
    assert got["g", "03:49:00"] == "api"


def test_a_broadcast_one_chat_short_of_the_threshold_is_not_one(ingest_dir: IngestDir) -> None:
    t = datetime(2026, 3, 10, 12, 0)
    for n in range(19):
        _drop(ingest_dir, f"chat{n:02}", [_api(t + timedelta(seconds=n))], datetime(2026, 3, 20))
    ingest_dir.ingest()  # the default: 20 chats within 10 minutes
    assert ingest_dir.query("SELECT DISTINCT sender_type FROM messages") == [("api",)]
    _drop(ingest_dir, "chat19", [_api(t + timedelta(minutes=10))], datetime(2026, 3, 20))
    ingest_dir.ingest()
    assert ingest_dir.query("SELECT DISTINCT sender_type FROM messages") == [("broadcast",)]


def test_menu_taps_match_after_nfkc_only_for_user_texts(ingest_dir: IngestDir) -> None:
    t = datetime(2026, 3, 10, 12, 0)
    rows = [
        ChatMessage("User", "山田", t, "予約する"),
        ChatMessage("User", "山田", t + timedelta(seconds=1), "ﾒﾆｭｰを見る"),  # half-width: NFKC is メニューを見る
        ChatMessage("User", "山田", t + timedelta(seconds=2), "予約する "),  # no trimming
        ChatMessage("User", "山田", t + timedelta(seconds=3), "Menu"),  # no case folding
        ChatMessage("User", "山田", t + timedelta(seconds=4), "写真を送信しました。"),  # a placeholder stays one
        ChatMessage("Account", "受付", t + timedelta(seconds=5), "予約する"),  # the account's copy is not a tap
    ]
    _drop(ingest_dir, "山田", rows, datetime(2026, 3, 20))
    settings = {"menu_texts": ["予約する", "メニューを見る", "MENU", "写真を送信しました。"]}
    ingest_dir.ingest(settings)
    kinds = ingest_dir.query("SELECT content, kind FROM messages ORDER BY sent_at")
    assert kinds == [
        ("予約する", "menu_tap"),
        ("ﾒﾆｭｰを見る", "menu_tap"),
        ("予約する ", "text"),
        ("Menu", "text"),
        ("写真を送信しました。", "photo"),
        ("予約する", "text"),
    ]
    ingest_dir.ingest({"accounts": {ACCOUNT: {"menu_texts": ["Menu"]}}})  # per account, replacing the list
    assert [k for _, k in ingest_dir.query("SELECT content, kind FROM messages ORDER BY sent_at")] == [
        "text",
        "text",
        "text",
        "menu_tap",
        "photo",
        "text",
    ]


def test_changing_a_menu_or_broadcast_setting_makes_every_month_stale(ingest_dir: IngestDir) -> None:
    rows = [ChatMessage("User", "山田", datetime(2026, m, 3, 12), "予約する") for m in (1, 2, 3)]
    _drop(ingest_dir, "山田", rows, datetime(2026, 3, 20))
    ingest_dir.ingest()
    with write_connection(ingest_dir.data_dir) as conn:
        for changed in ({"menu_texts": ["予約する"]}, {"broadcast_min_chats": 5}, {"broadcast_window_minutes": 3}):
            sync_settings(conn, parse_settings(changed))
            assert mark_reclassified_months(conn) == 3, changed
            conn.execute("DELETE FROM _pending_months")
        sync_settings(conn, parse_settings({"api_answers": True}))  # read by the views, classifies nothing
        assert mark_reclassified_months(conn) == 0


def test_a_new_file_turns_last_months_message_into_a_broadcast(pipeline_dir: DataDir) -> None:
    """Sent at 23:59:58 on 31 March; two chats get it after midnight. The file that brings the third chat
    holds only April, yet March's copy becomes a broadcast: the run rewrites March, as a rebuild would."""
    pipeline_dir.settings_file.write_text("broadcast_min_chats = 3\nbroadcast_window_minutes = 10\n", encoding="utf-8")
    eve = datetime(2026, 3, 31, 23, 59, 58)
    _drop(pipeline_dir, "a", [_api(eve)], datetime(2026, 4, 2))
    _drop(pipeline_dir, "b", [_api(eve + timedelta(seconds=30))], datetime(2026, 4, 2))
    _drop(pipeline_dir, "z", [ChatMessage("User", "z", datetime(2026, 1, 5), "?")], datetime(2026, 4, 2))
    assert run_pipeline(pipeline_dir).ok
    with write_connection(pipeline_dir) as conn:
        assert conn.execute("SELECT DISTINCT sender_type FROM messages WHERE chat_name <> 'z'").fetchall() == [("api",)]
    _drop(pipeline_dir, "c", [_api(eve + timedelta(minutes=9))], datetime(2026, 4, 3))
    summary = run_pipeline(pipeline_dir)
    assert summary.ok and summary.months_written == ["2026-03", "2026-04"]
    query = "SELECT chat_name, month, sender_type FROM messages ORDER BY ALL"
    with write_connection(pipeline_dir) as conn:
        after = conn.execute(query).fetchall()
    assert after == [
        ("a", datetime(2026, 3, 1).date(), "broadcast"),
        ("b", datetime(2026, 4, 1).date(), "broadcast"),
        ("c", datetime(2026, 4, 1).date(), "broadcast"),
        ("z", datetime(2026, 1, 1).date(), "user"),
    ]
    assert rebuild_warehouse(pipeline_dir).ok
    with write_connection(pipeline_dir) as conn:
        assert conn.execute(query).fetchall() == after
