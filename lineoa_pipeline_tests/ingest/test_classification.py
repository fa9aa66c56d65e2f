"""Kinds, sender types and chat types, as the contract's normalisation gives them.

Real DuckDB files under tmp_path, the real ingest code, exports written in LINE's format by the generator
(or by hand where a test needs bytes the generator would never write).
"""

from datetime import datetime, timedelta

from lineoa_pipeline.commands.run import rebuild_warehouse, run_pipeline
from lineoa_pipeline.line_export.formats import PLACEHOLDERS
from lineoa_pipeline.line_export.render import ChatMessage
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import IngestDir, snapshot_tables
from lineoa_pipeline_tests.ingest.chats import export, msg

# --- kinds, sender types, chat types ----------------------------------------------------------------------

# The spec's list, written out independently of the product's table.
SPEC_PLACEHOLDERS = {
    "写真を送信しました。": "photo",
    "動画を送信しました。": "video",
    "スタンプを送信しました。": "sticker",
    "ボイスメッセージを送信しました。": "voice",
    "ファイルを送信しました。": "file",
    "位置情報を送信しました。": "location",
    "送信が取り消されたメッセージです": "unsent",
    "照片已傳送": "photo",
    "貼圖已傳送": "sticker",
    "影片已傳送": "video",
    "檔案已傳送": "file",
    "您收到一則照片訊息": "photo",
    "您收到一則圖片訊息": "photo",
    "您收到一則影片訊息": "video",
    "您收到一則貼圖訊息": "sticker",
    "您收到一則語音訊息": "voice",
    "您收到一則檔案訊息": "file",
    "您收到一則位置訊息": "location",
    "You sent a photo.": "photo",
    "You sent a sticker.": "sticker",
    "You sent a video.": "video",
    "You sent a file.": "file",
    "You sent a voice message.": "voice",
}
NOT_PLACEHOLDERS = [
    "写真を送信しました",
    " 写真を送信しました。",
    "写真を送信しました。\n",
    "you sent a photo.",
    "写真",
]


def test_every_built_in_placeholder_text_maps_to_its_kind(ingest_dir: IngestDir) -> None:
    assert SPEC_PLACEHOLDERS.items() <= PLACEHOLDERS.items()
    texts = {**PLACEHOLDERS, **dict.fromkeys(NOT_PLACEHOLDERS, "text")}
    start = datetime(2026, 3, 1, 9, 0)
    rows = [ChatMessage("User", "山田", start + timedelta(minutes=i), text) for i, text in enumerate(texts)]
    ingest_dir.drop("山田.csv", export(rows))
    ingest_dir.ingest()
    assert dict(ingest_dir.query("SELECT content, kind FROM messages")) == texts


def test_sender_types_user_staff_auto_reply_and_api(ingest_dir: IngestDir) -> None:
    auto_names = [
        "応答メッセージ",
        "AI応答メッセージ",
        "Auto-response",
        "自動回應訊息",
        "AI 聊天機器人",
        "ข้อความตอบกลับอัตโนมัติ",
    ]
    expected = {name: "auto_reply" for name in auto_names} | {
        "Unknown": "api",
        "unknown": "staff",  # names match exactly
        "受付 佐々木": "staff",
        "応答メッセージ ": "staff",
    }
    start = datetime(2026, 3, 1, 9, 0)
    rows = [ChatMessage("Account", name, start + timedelta(minutes=i), "hi") for i, name in enumerate(expected)]
    rows.append(ChatMessage("User", "応答メッセージ", start, "a user may call themself anything"))
    ingest_dir.drop("chat.csv", export(rows))
    ingest_dir.ingest()
    got = ingest_dir.query("SELECT sender_name, sender_type FROM messages WHERE content = 'hi'")
    assert dict(got) == expected
    assert ingest_dir.query("SELECT sender_type FROM messages WHERE content LIKE 'a user%'") == [("user",)]


def test_two_or_more_user_names_make_a_group_chat(ingest_dir: IngestDir) -> None:
    one = [
        msg("User", "山田", "2026-03-01 10:00:00", "a"),
        msg("Account", "受付 A", "2026-03-01 10:01:00", "b"),
        msg("Account", "受付 B", "2026-03-01 10:02:00", "c"),
        msg("User", "山田", "2026-03-02 10:00:00", "d"),
    ]
    group = [
        msg("User", "山田", "2026-03-01 10:00:00", "a"),
        msg("User", "鈴木", "2026-03-01 10:01:00", "b"),
        msg("Account", "受付 A", "2026-03-01 10:02:00", "c"),
    ]
    ingest_dir.drop("山田.csv", export(one))
    ingest_dir.drop("ヨガ教室火曜クラス.csv", export(group))
    ingest_dir.ingest()
    assert ingest_dir.query("SELECT DISTINCT chat_name, chat_type FROM messages ORDER BY 1") == [
        ("ヨガ教室火曜クラス", "group"),
        ("山田", "one_to_one"),
    ]


def chat_types(data_dir: DataDir) -> set[tuple[str, str]]:
    return {(m[2], m[3]) for m in snapshot_tables(data_dir)["messages"]}


def test_chat_type_is_decided_per_export_file_whatever_the_arrival_order(pipeline_dir: DataDir) -> None:
    # A customer renamed "はなこ" to "山田 花子": the export downloaded 03/10 lists the new name, an older one
    # downloaded 03/02 the old one, for the same first message. Neither file lists two user names; a rebuild
    # takes the older file first, so that the chat's stored rows then carry both names.
    newer = [
        msg("User", "はなこ", "2026-03-01 10:00:00", "予約したい"),
        msg("User", "はなこ", "2026-03-09 10:00:00", "明日"),
    ]
    older = [msg("User", "山田 花子", "2026-03-01 10:00:00", "予約したい")]
    (pipeline_dir.inbox / "20260301_20260309_山田花子.csv").write_bytes(
        export(newer, downloaded_at=datetime(2026, 3, 10, 9, 0))
    )
    assert run_pipeline(pipeline_dir).ok
    (pipeline_dir.inbox / "older").mkdir()
    (pipeline_dir.inbox / "older" / "20260301_20260301_山田花子.csv").write_bytes(
        export(older, downloaded_at=datetime(2026, 3, 2, 9, 0))
    )
    assert run_pipeline(pipeline_dir).ok
    assert chat_types(pipeline_dir) == {("山田花子", "one_to_one")}
    assert rebuild_warehouse(pipeline_dir).ok
    assert chat_types(pipeline_dir) == {("山田花子", "one_to_one")}
    # A file that lists two user names makes the chat a group, whichever file supplies the stored rows.
    both = [*older, msg("User", "鈴木", "2026-03-01 10:00:00", "参加します")]
    (pipeline_dir.inbox / "20260301_20260301_山田花子 (2).csv").write_bytes(
        export(both, downloaded_at=datetime(2026, 3, 11, 12, 0))
    )
    assert run_pipeline(pipeline_dir).ok
    assert chat_types(pipeline_dir) == {("山田花子", "group")}
    assert rebuild_warehouse(pipeline_dir).ok
    assert chat_types(pipeline_dir) == {("山田花子", "group")}
