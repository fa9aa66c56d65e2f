"""A realistic sample data directory for `lineoa demo`, dated relative to now so that it always looks current.

Four accounts in four UI languages; overlapping bulk backups and single-chat exports (one re-saved by Excel);
a broken download and a file with one bad row; tags; media with a manifest; settings with business hours.
For the operator's views: a broadcast to every chat of the dental clinic, its patients' rich-menu taps (with
`menu_texts` in lineoa.toml), and a Thai café whose staff answer through an API tool (`api_answers = true`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from lineoa_pipeline.line_export.render import ChatMessage, export_file_name, render_export, write_bulk_zip
from lineoa_pipeline.settings.language import N_, Told
from lineoa_pipeline.synthetic.conversations import PHRASES, simulate_chat

DENTAL = "みどり歯科クリニック"
YOGA = "Bayside Yoga"
CAFE_TW = "晴天咖啡 台中"
CAFE_TH = "ร้านกาแฟริมน้ำ"
_OFFSETS = {DENTAL: "+09:00", YOGA: "+09:00", CAFE_TW: "+08:00", CAFE_TH: "+07:00"}
_LANGS = {DENTAL: "ja", YOGA: "en", CAFE_TW: "zh-TW", CAFE_TH: "th"}
_YEAR = timedelta(days=365)
_GROUP = "歯みがき教室 保護者"


@dataclass(frozen=True)
class _Chat:
    name: str
    users: tuple[str, ...]
    exchanges: int
    days: int  # how far back before now its history starts


_DENTAL_CHATS = (
    _Chat("青木 美穂", ("青木 美穂",), 16, 480),
    _Chat("★前田 彩", ("★前田 彩",), 10, 420),
    _Chat("藤田　剛(紹介)", ("藤田　剛(紹介)",), 8, 390),
    _Chat(_GROUP, ("保護者 佐藤", "保護者 鈴木", "保護者 高橋"), 10, 200),
    _Chat("山本 翔太", ("山本 翔太",), 6, 360),
    _Chat("中村 由美", ("中村 由美",), 6, 280),
    _Chat("小林 健太", ("小林 健太",), 5, 240),
    _Chat("加藤 さくら", ("加藤 さくら",), 4, 120),
    _Chat("吉田 拓海", ("吉田 拓海",), 3, 60),
    _Chat("井上 愛", (), 0, 0),  # a friend who never wrote: a header-only file
)
# Group-chat media by days and hours before now: photos fall out of LINE after 14 days, files after 7.
_GROUP_EXTRAS = ((40, 2, "photo"), (12, 5, "photo"), (4, 1, "photo"), (9, 3, "file"), (6, 2, "file"))
# What the clinic's rich menu sends when a patient taps a button, and the question each tap comes before.
MENU_TEXTS = ("予約する", "診療時間を見る")
_TAPPED = {"予約したいです": "予約する", "明日空いてますか": "予約する", "営業時間を教えてください": "診療時間を見る"}
BROADCAST = "【お知らせ】年末年始の休診日のご案内"
_BROADCAST_MIN_CHATS = 5  # the clinic has fewer friends than the default 20
_API_TOOL = "Unknown"  # the name an export gives a message sent through the Messaging API
_STAFF_TH = PHRASES["th"].staff


MARK = ".lineoa-demo"  # a data directory the demo made: it may write there again


class DemoRefused(Told):
    """The demo would write made-up exports and settings into a data directory that holds real ones."""


def write_demo_data(data_dir: Path, now: datetime | None = None, force: bool = False) -> None:
    """Write inbox/, tags/, media/ and lineoa.toml into `data_dir` (deterministic given `now`, default: now).

    A naive `now` is taken as UTC. A folder the demo made is recreated whole (its archive and warehouse
    too: the demo's exports are dated from `now`, so keeping them would add a second copy of every message).
    Existing files of the same names are replaced, so a data directory with an archive or a warehouse that
    the demo did not make is refused (DemoRefused) unless `force`: its archive would keep the made-up
    exports for good.
    """
    if (data_dir / MARK).exists():
        for entry in data_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    elif not force:
        held = [name for name in ("archive", "warehouse.duckdb") if _has_content(data_dir / name)]
        if held:
            raise DemoRefused(
                N_(
                    "{folder} already holds {held}: the demo would add made-up exports to it for good and replace "
                    "its settings, tags and media manifest. Choose another --data-dir, or add --force."
                ),
                folder=str(data_dir),
                held=" and ".join(held),
            )
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARK).write_text("written by `lineoa demo`: made-up data, safe to delete\n", encoding="utf-8")
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    inbox = data_dir / "inbox"
    dental = _write_dental(inbox / DENTAL, _local(now, DENTAL))
    others = _write_single_chats(inbox, now)
    _write_tags(data_dir / "tags" / "tags.csv")
    _write_media(data_dir / "media", {**dental, **others})
    _write_settings(data_dir / "lineoa.toml", _local(now, DENTAL))


def _has_content(path: Path) -> bool:
    return path.is_file() or (path.is_dir() and any(path.iterdir()))


def _local(now: datetime, account: str) -> datetime:
    """`now` as naive local time of an account."""
    sign, hours = _OFFSETS[account][0], int(_OFFSETS[account][1:3])
    offset = timedelta(hours=hours if sign == "+" else -hours)
    return now.astimezone(timezone(offset)).replace(tzinfo=None)


def _window(messages: Sequence[ChatMessage], downloaded_at: datetime) -> list[ChatMessage]:
    """What an export downloaded then holds: the last year of the chat."""
    return [m for m in messages if downloaded_at - _YEAR <= m.sent_at <= downloaded_at]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _single(
    folder: Path, account: str, chat: str, messages: list[ChatMessage], at: datetime, excel: bool = False
) -> Path:
    """One single-chat export downloaded at `at` (local time), maybe re-saved by Excel; returns its path."""
    shown = _window(messages, at)
    days = (shown[0].sent_at.date(), shown[-1].sent_at.date()) if shown else (None, None)
    path = folder / export_file_name(chat, *days)
    lang, offset = _LANGS[account], _OFFSETS[account]
    _write(path, render_export(account, shown, lang=lang, tz_offset=offset, downloaded_at=at, excel=excel))
    return path


_Chats = dict[tuple[str, str], list[ChatMessage]]  # (account, chat name) -> messages, in order


def _write_dental(folder: Path, now: datetime) -> _Chats:
    """Two overlapping bulk backups three weeks apart, an old export re-saved by Excel, a broken download."""
    newest = (now - timedelta(days=1)).replace(hour=18, minute=5)
    older = (newest - timedelta(days=21)).replace(hour=17, minute=40)
    extra = {
        _GROUP: [(now - timedelta(days=d, hours=h), kind) for d, h, kind in _GROUP_EXTRAS],
        "青木 美穂": [(now - timedelta(days=d), "photo") for d in (300, 150, 45)],
    }
    chats: _Chats = {
        (DENTAL, c.name): simulate_chat(
            random.Random(c.name),
            c.users,
            lang="ja",
            start=now - timedelta(days=c.days),
            end=newest,
            exchanges=c.exchanges,
            extra=extra.get(c.name, ()),
        )
        if c.users
        else []
        for c in _DENTAL_CHATS
    }
    # one broadcast to every chat with history, a few seconds apart (the API sends to one friend after another)
    sent = (now - timedelta(days=10)).replace(hour=12, minute=0, second=0)
    for n, (key, messages) in enumerate(chats.items()):
        if messages:
            chats[key] = _with_menu_taps(
                _insert(messages, ChatMessage("Account", _API_TOOL, sent + timedelta(seconds=3 * n), BROADCAST))
            )
    for at in (older, newest):
        backup = {chat: _window(messages, at) for (_, chat), messages in chats.items()}
        write_bulk_zip(folder / "backups" / f"bulk_backup_{at:%Y%m%d_%H%M}.zip", DENTAL, backup, downloaded_at=at)
    aoki = chats[DENTAL, "青木 美穂"]
    _single(
        folder / "受付PC" / "Excelで開いたもの",
        DENTAL,
        "青木 美穂",
        aoki,
        now - timedelta(days=120, hours=3),
        excel=True,
    )
    _write_broken(folder.parent / "downloads", chats[DENTAL, "小林 健太"], now - timedelta(days=30))
    return chats


def _insert(messages: list[ChatMessage], message: ChatMessage) -> list[ChatMessage]:
    """`messages` with `message` in its place in time (after those of the same second)."""
    at = next((i for i, m in enumerate(messages) if m.sent_at > message.sent_at), len(messages))
    return [*messages[:at], message, *messages[at:]]


def _with_menu_taps(messages: list[ChatMessage]) -> list[ChatMessage]:
    """A rich-menu tap in the same second before each question a menu button leads to."""
    out: list[ChatMessage] = []
    for m in messages:
        if m.sender_type == "User" and m.content in _TAPPED:
            out.append(ChatMessage("User", m.sender_name, m.sent_at, _TAPPED[m.content]))
        out.append(m)
    return out


def _write_broken(folder: Path, messages: list[ChatMessage], at: datetime) -> None:
    """A download cut off inside a quoted multi-line field."""
    last = ChatMessage("User", "小林 健太", at - timedelta(minutes=3), PHRASES["ja"].multiline[1])
    shown = [*_window(messages, at), last]
    data = render_export(DENTAL, shown, downloaded_at=at)
    cut = data.index(b"\r\n", data.rindex(b',"')) + 2
    _write(folder / export_file_name("小林 健太", shown[0].sent_at.date(), last.sent_at.date()), data[:cut])


def _write_single_chats(inbox: Path, now: datetime) -> _Chats:
    """Single-chat exports of the en, zh-TW and th accounts, a repeated download, a file with a bad date."""
    specs = (
        (YOGA, "Emma Brown", 240, 12, 9, ()),
        (YOGA, "Liam Carter", 150, 6, 30, ()),
        (CAFE_TW, "林小華", 210, 10, 5, (20,)),
        (CAFE_TH, "นภา สุขใจ", 180, 9, 5, ()),
    )
    chats: _Chats = {}
    for account, chat, days, exchanges, age, photo_days in specs:
        local = _local(now, account)
        at = local - timedelta(days=age)
        chats[account, chat] = messages = simulate_chat(
            random.Random(chat),
            (chat,),
            lang=_LANGS[account],
            start=local - timedelta(days=days),
            end=at,
            exchanges=exchanges,
            extra=[(local - timedelta(days=d), "photo") for d in photo_days],
        )
        if account == CAFE_TH:  # its staff answer through an API tool: the export names them Unknown
            chats[account, chat] = messages = [
                ChatMessage(m.sender_type, _API_TOOL, m.sent_at, m.content) if m.sender_name in _STAFF_TH else m
                for m in messages
            ]
        path = _single(inbox / account, account, chat, messages, at.replace(minute=at.minute // 5 * 5))
        if chat == "Emma Brown":  # downloaded twice: the browser numbers the copy
            _write(path.with_name(f"{path.stem} (1).csv"), path.read_bytes())
        if chat == "Liam Carter":  # one row with a date that does not exist
            bad = _window(messages, at)[2].sent_at
            path.write_bytes(path.read_bytes().replace(f",{bad:%Y/%m/%d},".encode(), f",{bad.year}/02/30,".encode(), 1))
    return chats


def _write_tags(path: Path) -> None:
    """Tags naming chats both by file-name form and by display name."""
    rows = [
        (DENTAL, "青木美穂", "矯正"),
        (DENTAL, "藤田　剛(紹介)", "紹介"),
        (DENTAL, "藤田剛紹介", "新患"),
        (DENTAL, "★前田 彩", "新患"),
        (DENTAL, _GROUP, "教室"),
        (DENTAL, "中村由美", "矯正"),
        (YOGA, "EmmaBrown", "member"),
        (YOGA, "Liam Carter", "trial"),
        (CAFE_TW, "林小華", "常客"),
        (CAFE_TH, "นภา สุขใจ", "VIP"),
    ]
    _write_csv(path, ("account_name", "chat_name", "tag"), rows)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_media(folder: Path, chats: _Chats) -> None:
    """Saved photos and files with a manifest: verified rows, one missing file, one checksum mismatch."""
    group = chats[DENTAL, _GROUP]
    group_photos = _placeholders(group, "ja", "photo")
    group_files = _placeholders(group, "ja", "file")
    aoki_photos = _placeholders(chats[DENTAL, "青木 美穂"], "ja", "photo")
    tw_photos = _placeholders(chats[CAFE_TW, "林小華"], "zh-TW", "photo")
    first_group = [m for m in group_photos if m.sent_at == group_photos[0].sent_at]
    saved = [
        *((DENTAL, _GROUP, m, "photo", "ok") for m in first_group),  # both photos of one second
        (DENTAL, "青木美穂", aoki_photos[-2], "photo", "ok"),
        (DENTAL, "歯みがき教室保護者", group_files[0], "file", "ok"),
        (CAFE_TW, "林小華", tw_photos[-1], "photo", "ok"),
        (DENTAL, _GROUP, group_photos[-2], "photo", "missing_file"),
        (DENTAL, "青木 美穂", aoki_photos[-1], "photo", "checksum_mismatch"),
    ]
    rows = []
    for n, (account, chat, message, kind, state) in enumerate(saved, start=1):
        suffix = ".pdf" if kind == "file" else ".jpg"
        name = f"{account}/{export_file_name(chat, None, None)[:-4]}/{message.sent_at:%Y%m%d_%H%M%S}_{n}{suffix}"
        content = _fake_file(name, kind)
        if state != "missing_file":
            _write(folder / name, content if state == "ok" else content[: len(content) // 2])
        sent_at = message.sent_at.isoformat() + _OFFSETS[account]
        rows.append((account, chat, sent_at, kind, name, hashlib.sha256(content).hexdigest(), len(content)))
    _write_csv(
        folder / "manifest.csv",
        ("account_name", "chat_name", "sent_at", "kind", "file", "sha256", "bytes"),
        rows,
    )


def _placeholders(messages: Sequence[ChatMessage], lang: str, kind: str) -> list[ChatMessage]:
    return [m for m in messages if m.content == PHRASES[lang].media[kind]]


def _fake_file(name: str, kind: str) -> bytes:
    """Small deterministic stand-ins for a JPEG or a PDF."""
    filler = hashlib.sha256(name.encode()).digest() * 64
    if kind == "file":
        return b"%PDF-1.4\n% demo\n" + filler.hex().encode() + b"\n%%EOF\n"
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + filler + b"\xff\xd9"


def _write_settings(path: Path, now: datetime) -> None:
    """Business hours (weekdays 9-18, Saturday 9-12), this year's New Year holidays, a 60-minute SLA, the
    clinic's rich-menu texts and broadcast threshold, and the café that answers through an API tool."""
    holidays = ", ".join(f'"{now.year}-01-0{d}"' for d in (1, 2, 3))
    weekdays = "\n".join(f'{day} = ["09:00-18:00"]' for day in ("mon", "tue", "wed", "thu", "fri"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Settings of the demo data directory (every key is optional; see the README).\n"
        'timezone = "Asia/Tokyo"\n'
        "sla_minutes = 60\n\n"
        "[business_hours]  # local time of each account; a weekday not listed is closed\n"
        f"{weekdays}\n"
        'sat = ["09:00-12:00"]\n'
        f"holidays = [{holidays}]\n\n"
        f'[accounts."{DENTAL}"]\n'
        f"menu_texts = {json.dumps(list(MENU_TEXTS), ensure_ascii=False)}  # what its rich-menu buttons send\n"
        f"broadcast_min_chats = {_BROADCAST_MIN_CHATS}\n\n"
        f'[accounts."{CAFE_TH}"]\n'
        "api_answers = true  # its staff answer through an API tool: their messages arrive as Unknown\n",
        encoding="utf-8",
    )
