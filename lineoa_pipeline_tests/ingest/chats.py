"""Chats for the ingest tests: messages, exports of them in LINE's format, and the checks they share."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline_tests.helpers import IngestDir, msg

DOWNLOADED = datetime(2026, 4, 2, 18, 5)
JST = timezone(timedelta(hours=9))


def export(messages: list[ChatMessage], account: str = "さくら整体院", **kwargs: Any) -> bytes:
    kwargs.setdefault("downloaded_at", DOWNLOADED)
    return render_export(account, messages, **kwargs)


def utc(when: str, offset_hours: float) -> datetime:
    local = datetime.fromisoformat(when).replace(tzinfo=timezone(timedelta(hours=offset_hours)))
    return local.astimezone(UTC)


def reconciled(ingest_dir: IngestDir) -> list[tuple[Any, ...]]:
    """Files that do not reconcile: rows read != new + duplicates + rejected (should be none)."""
    return ingest_dir.query(
        "SELECT file_path FROM source_files WHERE rows_read != messages_new + duplicates + rejected"
    )


# A chat exported again and again in overlapping windows.
CHAT = [
    msg("User", "山田 花子", "2026-01-10 10:00:00", "予約したいです"),
    msg("Account", "受付 佐々木", "2026-01-10 10:05:00", "はい、可能です。"),
    msg("User", "山田 花子", "2026-02-14 12:00:00", "写真を送信しました。"),
    msg("User", "山田 花子", "2026-02-14 12:00:00", "写真を送信しました。"),
    msg("Account", "受付 佐々木", "2026-02-14 12:30:00", "届きました"),
    msg("User", "山田 花子", "2026-03-20 09:00:00", "ありがとう"),
    msg("User", "山田 花子", "2026-03-31 23:59:58", "また来月"),
]


def window(first: str, last: str) -> list[ChatMessage]:
    return [m for m in CHAT if date.fromisoformat(first) <= m.sent_at.date() <= date.fromisoformat(last)]


# Two messages that load.
GOOD = [msg("User", "山田", "2026-03-01 10:00:00", "ok"), msg("Account", "受付", "2026-03-01 10:01:00", "ok too")]


def unknown_header() -> bytes:
    return export(GOOD).replace("送信時刻,内容".encode(), "送信時刻,本文,既読".encode())
