"""A published warehouse to read back: two accounts in two time zones, text that needs folding, hostile
text, and a saved photo, built by the real ingest, search index, media loading and snapshot."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from lineoa_pipeline.history.search import index_months
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.staging import stage_pending
from lineoa_pipeline.ingest.tags_media import load_chat_tags, load_media_files
from lineoa_pipeline.line_export.render import ChatMessage, export_file_name, render_export
from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.connection import publish_snapshot, write_connection

CLINIC = "さくら整体院"
BANGKOK = "Bangkok Spa"
HANAKO = "山田 花子"  # the customer's display name; the export's file name carries 山田花子
STAFF = "受付 佐々木"
HOSTILE = '<script>alert(1)</script></div>=HYPERLINK("http://evil.example","x")'
FORMULA = '=HYPERLINK("http://evil.example","click")'
EVIL_FILE = "<img src=x onerror=alert(1)>'\"&amp;.jpg"  # a file name that is markup
PHOTO = b"\xff\xd8 a photo"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


CHATS: dict[tuple[str, str], list[ChatMessage]] = {
    (CLINIC, HANAKO): [
        ChatMessage("User", HANAKO, _at("2026-02-27 23:59:58"), "予約したいです ＡＢＣ"),
        ChatMessage("Account", "応答メッセージ", _at("2026-02-27 23:59:58"), "メッセージありがとうございます。"),
        ChatMessage("Account", STAFF, _at("2026-02-28 00:10:03"), "はい、可能です。\n明日10時はいかがでしょうか。"),
        ChatMessage("User", HANAKO, _at("2026-02-28 00:11:00"), "ｶﾀｶﾅでﾖﾔｸ、ｶﾞｲﾄﾞも"),
        ChatMessage("User", HANAKO, _at("2026-02-28 00:12:00"), "写真を送信しました。"),
        ChatMessage("Account", STAFF, _at("2026-03-01 09:00:00"), HOSTILE),
        ChatMessage(
            "User",
            HANAKO,
            _at("2026-03-01 09:05:00"),
            "電話は090-1234-5678、mail hanako@example.jp、https://example.jp/a?b=1 山田 花子です",
        ),
    ],
    (CLINIC, "佐藤 一郎"): [
        ChatMessage("User", "佐藤 一郎", _at("2026-01-05 10:00:00"), "MiXeD Case Straße abc"),
        ChatMessage("Account", STAFF, _at("2026-01-05 10:30:00"), "カタカナのご予約ですね"),
        ChatMessage("User", "佐藤 一郎", _at("2026-01-05 10:31:00"), FORMULA),
    ],
    (BANGKOK, "Somchai"): [
        ChatMessage("User", "Somchai", _at("2026-02-28 23:30:00"), "ＡＢＣ booking"),
        ChatMessage("Account", "Nok", _at("2026-02-28 23:40:00"), "abc ok"),
    ],
}
OFFSETS = {CLINIC: "+09:00", BANGKOK: "+07:00"}


def write_chat(
    data_dir: DataDir,
    account: str,
    chat: str,
    messages: list[ChatMessage],
    downloaded: str,
    lang: str = "ja",
    offset: str | None = None,
) -> None:
    """One chat's export in the inbox, in its account's time zone (+07:00 for an account not in OFFSETS),
    written by a LINE Official Account Manager in the UI language `lang`."""
    path = data_dir.inbox / f"{account}-{downloaded[:10]}" / export_file_name(chat, None, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    offset = offset or OFFSETS.get(account, "+07:00")
    path.write_bytes(render_export(account, messages, lang=lang, tz_offset=offset, downloaded_at=_at(downloaded)))


def refresh(data_dir: DataDir) -> None:
    """What a run does for the readers: ingest, write every month, tags and media, the search index, publish."""
    with write_connection(data_dir) as conn:
        archive_inbox(conn, data_dir, log=lambda _: None)
        stage_pending(conn, data_dir, log=lambda _: None)
        sync_settings(conn, parse_settings({}))
        write_months(conn, date(2019, 1, 1), date(2030, 1, 1))
        load_chat_tags(conn, data_dir)
        load_media_files(conn, data_dir)
        index_months(conn, date(2019, 1, 1), date(2030, 1, 1))
    publish_snapshot(data_dir)


def save_photo(data_dir: DataDir, name: str, data: bytes, sent_at: str) -> None:
    (data_dir.media / name).write_bytes(data)
    manifest = data_dir.media / "manifest.csv"
    header = "" if manifest.exists() else "account_name,chat_name,sent_at,kind,file,sha256,bytes\n"
    quoted = '"' + name.replace('"', '""') + '"'
    line = f"{CLINIC},{HANAKO},{sent_at},photo,{quoted},{hashlib.sha256(data).hexdigest()},{len(data)}\n"
    with manifest.open("a", encoding="utf-8") as out:
        out.write(header + line)


@dataclass(frozen=True)
class History:
    data_dir: DataDir


def build_history(tmp_path: Path) -> History:
    """The sample chats ingested, tagged, a photo saved, indexed and published under `tmp_path/data`."""
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    for (account, chat), messages in CHATS.items():
        write_chat(data_dir, account, chat, messages, "2026-03-02 18:05")
    save_photo(data_dir, EVIL_FILE, PHOTO, "2026-02-28T00:12:00+09:00")
    (data_dir.tags / "tags.csv").write_text(f"account_name,chat_name,tag\n{CLINIC},{HANAKO},<b>vip</b>\n")
    refresh(data_dir)
    return History(data_dir)


THAI, TAIPEI = "ร้านนวดสุขใจ", "小林美髮"
KANA = re.compile("[\u3040-\u30ff\uff66-\uff9f]")  # hiragana, katakana (with ー), half-width katakana


def _chat(lang_texts: tuple[str, ...], customer: str, auto_reply: str, staff: str) -> list[ChatMessage]:
    ask, photo, sticker, thanks, answer = lang_texts
    return [
        ChatMessage("User", customer, _at("2026-02-27 10:00:00"), ask),
        ChatMessage("Account", auto_reply, _at("2026-02-27 10:00:01"), thanks),
        ChatMessage("User", customer, _at("2026-02-27 10:01:00"), photo),
        ChatMessage("User", customer, _at("2026-02-28 09:00:00"), sticker),
        ChatMessage("Account", staff, _at("2026-02-28 09:30:00"), answer),
    ]


THAI_CHAT = _chat(
    ("สวัสดีค่ะ จองได้ไหม", "ส่งรูปภาพแล้ว", "ส่งสติกเกอร์แล้ว", "ขอบคุณที่ติดต่อเรา", "ได้ค่ะ"),
    "สมชาย",
    "ข้อความตอบกลับอัตโนมัติ",
    "นก",
)
TAIPEI_CHAT = _chat(
    ("想預約週六", "照片已傳送", "貼圖已傳送", "感謝您的訊息", "好的"), "陳小姐", "自動回應訊息", "阿明"
)


def build_languages(tmp_path: Path) -> DataDir:
    """A Japanese, a Thai and a Taiwanese account, each exported from a Manager in its own UI language, ingested
    and published under `tmp_path/data`."""
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    write_chat(data_dir, CLINIC, HANAKO, CHATS[(CLINIC, HANAKO)], "2026-03-02 18:05")
    write_chat(data_dir, THAI, "สมชาย", THAI_CHAT, "2026-03-02 18:05", lang="th", offset="+07:00")
    write_chat(data_dir, TAIPEI, "陳小姐", TAIPEI_CHAT, "2026-03-02 18:05", lang="zh-TW", offset="+08:00")
    refresh(data_dir)
    return data_dir
