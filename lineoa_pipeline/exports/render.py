"""Writes chat exports byte for byte as LINE Official Account Manager does, for demo, tests and benchmarks.

`render_export` writes one chat's CSV, `write_bulk_zip` a bulk backup, `simulate_chat` makes up a plausible
conversation and `write_scale_inbox` writes millions of messages quickly. Pure Python: no Dagster.
"""

from __future__ import annotations

import random
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from lineoa_pipeline.exports.formats import INJECTION_LEADS, LANGUAGES, NAME_BRACKETS


@dataclass(frozen=True)
class ChatMessage:
    """One row of an export. `sent_at` is naive local time in the export's time zone; `content` uses `\\n`."""

    sender_type: str  # as written: "User" or "Account"
    sender_name: str
    sent_at: datetime
    content: str


_TZ_OFFSET = re.compile(r"[+-]\d\d:\d\d")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _field(value: str) -> str:
    """One CSV field: injection guard, CRLF line breaks, RFC 4180 quoting."""
    if value[:1] in INJECTION_LEADS:
        value = "'" + value
    value = _LINE_BREAK.sub("\r\n", value)
    if _NEEDS_QUOTES.search(value):
        value = '"' + value.replace('"', '""') + '"'
    return value


def _row(fields: Sequence[str]) -> str:
    return ",".join(map(_field, fields)) + "\r\n"


def _date(when: datetime, excel: bool) -> str:
    return f"{when.year}/{when.month}/{when.day}" if excel else f"{when:%Y/%m/%d}"


def _time(when: datetime, excel: bool) -> str:
    return f"{when.hour}:{when:%M:%S}" if excel else f"{when:%H:%M:%S}"


def _download_time(when: datetime, excel: bool) -> str:
    return f"{_date(when, excel)} {when.hour}:{when:%M}" if excel else f"{when:%Y/%m/%d %H:%M}"


def _preamble(account_name: str, lang: str, tz_offset: str, downloaded_at: datetime, excel: bool) -> str:
    """The three metadata rows and the header."""
    if not _TZ_OFFSET.fullmatch(tz_offset):
        raise ValueError(f"time zone offset must look like +09:00, not {tz_offset!r}")
    labels = LANGUAGES[lang]
    return (
        _row((labels.account_label, account_name))
        + _row((labels.timezone_label, tz_offset))
        + _row((labels.downloaded_label, _download_time(downloaded_at, excel)))
        + _row(labels.header)
    )


def render_export(
    account_name: str,
    messages: Sequence[ChatMessage],
    *,
    lang: str = "ja",
    tz_offset: str = "+09:00",
    downloaded_at: datetime,
    excel: bool = False,
) -> bytes:
    """One chat's export as LINE writes it: UTF-8 with a BOM, CRLF, RFC 4180 quoting, injection guard.

    `downloaded_at` is naive local time. `excel=True` gives the file after an Excel round trip: no BOM, the
    language's legacy code page (UnicodeEncodeError for text it cannot hold), dates and hours unpadded.
    """
    text = _preamble(account_name, lang, tz_offset, downloaded_at, excel) + "".join(
        _row((m.sender_type, m.sender_name, _date(m.sent_at, excel), _time(m.sent_at, excel), m.content))
        for m in messages
    )
    return text.encode(LANGUAGES[lang].legacy_encoding) if excel else ("\ufeff" + text).encode("utf-8")


def export_file_name(chat_name: str, first: date | None, last: date | None, index: int | None = None) -> str:
    """`[NNNNN_][YYYYMMDD_YYYYMMDD_]<chat name>.csv`, with white space and brackets removed from the name."""
    stem = "".join(c for c in chat_name if not c.isspace() and c not in NAME_BRACKETS)
    if not stem or "/" in stem or "\\" in stem:
        raise ValueError(f"chat name {chat_name!r} cannot be a file name")
    if (first is None) != (last is None):
        raise ValueError("give both ends of the date range or neither")
    parts = [] if index is None else [f"{index:05d}"]
    if first is not None and last is not None:
        parts += [f"{first:%Y%m%d}", f"{last:%Y%m%d}"]
    return "_".join([*parts, stem]) + ".csv"


def _zip_member(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, when.hour, when.minute, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def write_bulk_zip(
    path: Path,
    account_name: str,
    chats: Mapping[str, Sequence[ChatMessage]],
    *,
    lang: str = "ja",
    tz_offset: str = "+09:00",
    downloaded_at: datetime,
) -> Path:
    """A bulk backup: one CSV per chat (keys are chat display names), numbered in mapping order from 00001.

    A chat without messages gets a header-only file without a date range. Deterministic given its inputs.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for index, (chat_name, messages) in enumerate(chats.items(), start=1):
            days = [m.sent_at.date() for m in messages]
            first, last = (min(days), max(days)) if days else (None, None)
            data = render_export(account_name, messages, lang=lang, tz_offset=tz_offset, downloaded_at=downloaded_at)
            archive.writestr(_zip_member(export_file_name(chat_name, first, last, index), downloaded_at), data)
    return path


# --- made-up conversations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhraseBook:
    """What people and staff of one UI language write; `media` maps kind -> placeholder text."""

    staff: tuple[str, ...]
    auto_reply_name: str
    auto_reply: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    thanks: tuple[str, ...]
    multiline: tuple[str, ...]  # user texts with line breaks
    guarded: tuple[str, ...]  # user texts that start with = + - @ (written with a leading ')
    notices: tuple[str, ...]  # staff texts with commas and double quotes
    broadcasts: tuple[str, ...]  # sent through the Messaging API (sender "Unknown")
    media: Mapping[str, str]


PHRASES: dict[str, PhraseBook] = {
    "ja": PhraseBook(
        staff=("受付 中島", "歯科医師 野口", "歯科衛生士 北村"),
        auto_reply_name="応答メッセージ",
        auto_reply="メッセージありがとうございます。担当者より順次ご返信します。",
        questions=(
            "予約したいです",
            "営業時間を教えてください",
            "住所を教えてください",
            "駐車場はありますか",
            "明日空いてますか",
            "料金はいくらですか?",
            "キャンセルできますか",
            "領収書をお願いします",
            "保険証は必要ですか？",
            "子どもも診てもらえますか",
        ),
        answers=(
            "お問い合わせありがとうございます。",
            "はい、可能です。",
            "明日10時はいかがでしょうか。",
            "料金は5,000円です。",
            "駐車場は3台ございます。",
            "承知いたしました。",
            "診療時間は平日9時から18時、土曜は12時までです。",
        ),
        thanks=("ありがとうございます", "助かります！", "了解です"),
        multiline=(
            "-- 予約の変更 --\n明日の10時から11時に変更できますか?",
            "子どもの歯が痛いそうです。\n今日診てもらえますか？\n16時以降なら行けます。",
        ),
        guarded=(
            "+81 90-1234-5678 に折り返しお願いします",
            '=HYPERLINK("https://example.jp")の件です',
            "@受付 さん、昨日はありがとうございました",
        ),
        notices=(
            'アプリの"予約確認"ボタンから、日時を選んでください。',
            '明日のご予約をお待ちしております。"診察券"をお持ちください。',
            "定期検診の時期になりました。ご予約は、こちらからどうぞ。",
        ),
        broadcasts=("【お知らせ】今月のキャンペーン", "【休診のお知らせ】年末年始は休診です。"),
        media={
            "photo": "写真を送信しました。",
            "video": "動画を送信しました。",
            "sticker": "スタンプを送信しました。",
            "voice": "ボイスメッセージを送信しました。",
            "file": "ファイルを送信しました。",
            "location": "位置情報を送信しました。",
            "unsent": "送信が取り消されたメッセージです",
        },
    ),
    "en": PhraseBook(
        staff=("Front desk", "Instructor Mia"),
        auto_reply_name="Auto-response",
        auto_reply="Thanks for your message. We will reply soon.",
        questions=(
            "What time do you open?",
            "Is there parking?",
            "Can I book a class tomorrow?",
            "How much is a drop-in class?",
            "Do you rent mats?",
        ),
        answers=(
            "Thanks for your message.",
            "Yes, see you tomorrow!",
            "A drop-in class is 2,500 yen.",
            "We open at 7:00 on weekdays.",
        ),
        thanks=("Thanks!", "Great, thank you"),
        multiline=("Hi,\nI'd like to move my class to Friday.\nIs that OK?",),
        guarded=("+1 415 555 0100 is my number", "-- please cancel my booking --"),
        notices=('Please tap "Book now", then pick a time.', 'Class is full, sorry. Try "Waitlist".'),
        broadcasts=("New schedule for next month",),
        media={
            "photo": "You sent a photo.",
            "video": "You sent a video.",
            "sticker": "You sent a sticker.",
            "voice": "You sent a voice message.",
            "file": "You sent a file.",
        },
    ),
    "zh-TW": PhraseBook(
        staff=("店長 阿德", "店員 小美"),
        auto_reply_name="自動回應訊息",
        auto_reply="感謝您的訊息，我們會盡快回覆。",
        questions=("可以預約嗎?", "外帶要等多久?", "今天有營業嗎?", "有停車位嗎?"),
        answers=("可以的，明天見。", "大約十分鐘。", "您好，感謝您的訊息。", "有的，門口有兩個車位。"),
        thanks=("謝謝!", "好的"),
        multiline=("我想訂位:\n星期六下午兩點\n兩個人",),
        guarded=("+886 912 345 678 請回電",),
        notices=('請點選"預約"按鈕,謝謝。',),
        broadcasts=("本月優惠活動",),
        media={
            "photo": "照片已傳送",
            "video": "您收到一則影片訊息",
            "sticker": "貼圖已傳送",
            "file": "檔案已傳送",
        },
    ),
    "th": PhraseBook(
        staff=("พี่แอน", "น้องบี"),
        auto_reply_name="ข้อความตอบกลับอัตโนมัติ",
        auto_reply="ขอบคุณสำหรับข้อความ เราจะตอบกลับโดยเร็ว",
        questions=("มีที่จอดรถไหม", "จองโต๊ะได้ไหม", "เปิดกี่โมง", "มีเมนูมังสวิรัติไหม"),
        answers=("เปิด 9 โมงค่ะ", "สวัสดีค่ะ ขอบคุณที่ติดต่อมา", "ได้ค่ะ จองไว้ให้แล้วนะคะ", "มีที่จอดรถ 5 คันค่ะ"),
        thanks=("ขอบคุณค่ะ", "โอเคค่ะ"),
        multiline=("จองโต๊ะวันเสาร์\nบ่ายสองโมง\n4 คนค่ะ",),
        guarded=("+66 81 234 5678 โทรกลับด้วยค่ะ",),
        notices=('กดปุ่ม "จองเลย" ได้เลยค่ะ, ขอบคุณค่ะ',),
        broadcasts=("โปรโมชั่นเดือนนี้",),
        media={"photo": "ส่งรูปภาพแล้ว", "sticker": "ส่งสติกเกอร์แล้ว", "video": "ส่งวิดีโอแล้ว", "file": "ส่งไฟล์แล้ว"},
    ),
}

# Exchange kinds and how often each starts a new exchange.
EPISODE_KINDS: dict[str, int] = {
    "inquiry": 40,
    "unanswered": 8,
    "photo": 10,
    "multiline": 6,
    "guarded": 5,
    "media": 6,
    "file": 3,
    "notice": 8,
    "broadcast": 4,
}

_Line = tuple[int, str, str, str]  # seconds after the exchange starts, sender type, sender name, content


def _reply_delay(rng: random.Random, second_of_day: int) -> int:
    """Staff answer within the hour in the daytime, else the next morning."""
    if 9 * 3600 <= second_of_day < 18 * 3600:
        return rng.randint(60, 90 * 60)
    return (9 * 3600 - second_of_day) % 86400 + rng.randint(0, 3600)


def _episode(rng: random.Random, book: PhraseBook, users: Sequence[str], second_of_day: int, kind: str) -> list[_Line]:
    """One exchange of `kind` started by one of `users` (or by the account) at `second_of_day`."""
    asker = rng.choice(users)
    lines: list[_Line] = []
    t = 0

    def say(sender_type: str, name: str, text: str, after: int = 0) -> None:
        nonlocal t
        t += after
        lines.append((t, sender_type, name, text))

    def auto_reply() -> None:
        if rng.random() < 0.5:
            say("Account", book.auto_reply_name, book.auto_reply, rng.randint(0, 1))

    def answer(text: str | None = None) -> None:
        say(
            "Account",
            rng.choice(book.staff),
            text or rng.choice(book.answers),
            _reply_delay(rng, second_of_day),
        )
        if rng.random() < 0.3:
            say("User", asker, rng.choice(book.thanks), rng.randint(60, 900))

    if kind == "broadcast":
        say("Account", "Unknown", rng.choice(book.broadcasts))
    elif kind == "notice":
        say("Account", rng.choice(book.staff), rng.choice(book.notices))
        if rng.random() < 0.5:
            say("User", rng.choice(users), rng.choice(book.thanks), rng.randint(120, 7200))
    elif kind == "photo":
        for _ in range(rng.choice((1, 1, 2))):  # two photos sent together share their second
            say("User", asker, book.media["photo"])
        if rng.random() < 0.5:
            say("User", asker, rng.choice(book.questions), rng.randint(5, 120))
        auto_reply()
        answer()
    elif kind in ("media", "file"):
        media_kind = "file" if kind == "file" else rng.choice([k for k in book.media if k not in ("photo", "file")])
        say("User", asker, book.media[media_kind])
        if rng.random() < 0.5:
            answer()
    else:
        texts = {"multiline": book.multiline, "guarded": book.guarded}.get(kind, book.questions)
        say("User", asker, rng.choice(texts))
        if len(users) > 1 and rng.random() < 0.4:
            say("User", rng.choice(users), rng.choice(book.questions), rng.randint(30, 600))
        elif rng.random() < 0.3:
            say("User", asker, rng.choice(book.questions), rng.randint(30, 300))
        auto_reply()
        if kind != "unanswered":
            answer()
    return lines


def simulate_chat(
    rng: random.Random,
    users: Sequence[str],
    *,
    lang: str = "ja",
    start: datetime,
    end: datetime,
    exchanges: int,
    extra: Sequence[tuple[datetime, str]] = (),
) -> list[ChatMessage]:
    """A plausible chat of `users` with the account, in order, every message in [start, end].

    `exchanges` exchanges of random kinds start at random times spread over [start, end]; each `extra`
    (time, kind) adds one of that kind (a key of EPISODE_KINDS). Times are whole seconds, never decreasing.
    """
    book = PHRASES[lang]
    span = int((end - start).total_seconds())
    kinds = rng.choices(list(EPISODE_KINDS), weights=list(EPISODE_KINDS.values()), k=exchanges)
    slot = span / max(exchanges, 1)  # one exchange at a random time in each equal slot: no long silences
    starts = [(start + timedelta(seconds=(k + rng.random()) * slot), kind) for k, kind in enumerate(kinds)]
    messages: list[ChatMessage] = []
    last = start
    for began, kind in sorted([*starts, *extra]):
        began = began.replace(microsecond=0)
        second_of_day = began.hour * 3600 + began.minute * 60 + began.second
        for offset, sender_type, name, text in _episode(rng, book, users, second_of_day, kind):
            last = max(last, began + timedelta(seconds=offset))
            if last > end:
                return messages
            messages.append(ChatMessage(sender_type, name, last, text))
    return messages


# --- scale ------------------------------------------------------------------------------------------------

SCALE_ACCOUNT = "さくら歯科クリニック 渋谷院"
SCALE_START = datetime(2025, 1, 1)
SCALE_SPAN_DAYS = 425  # about 14 months

_FAMILY = (
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "斉藤",
)
_GIVEN = (
    "美咲",
    "陽菜",
    "結衣",
    "さくら",
    "花子",
    "愛",
    "恵",
    "由美",
    "美穂",
    "彩",
    "翔太",
    "拓海",
    "健太",
    "大輔",
    "剛",
    "蓮",
    "悠真",
    "湊",
    "陽翔",
    "誠",
)
_GROUPS = ("歯みがき教室 保護者会", "矯正治療 相談会", "ホワイトニング体験会")
_POOL_PER_HOUR = 32
_USER_SLOTS = ("\x00", "\x01")  # stand-ins for the chat's own User names in the pre-rendered pool


def _person(i: int) -> str:
    """The i-th display name: unique for every i, some decorated as people write them."""
    family, given, cycle = _FAMILY[i % 20], _GIVEN[(i // 20 + i) % 20], i // 400
    name = f"{family} {given}{cycle or ''}"
    return f"★{name}" if i % 11 == 5 else f"{name}(紹介)" if i % 7 == 3 else name


@cache
def _clock_strings() -> tuple[str, ...]:
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400))


def _pool(seed: int) -> list[list[tuple[tuple[int, str, str], ...]]]:
    """Per hour of the day, exchanges pre-rendered as (offset, row up to the date, row after the time)."""
    rng = random.Random(seed)
    book = PHRASES["ja"]
    kinds, weights = list(EPISODE_KINDS), list(EPISODE_KINDS.values())
    return [
        [
            tuple(
                (offset, f"{sender_type},{_field(name)},", f",{_field(text)}\r\n")
                for offset, sender_type, name, text in _episode(
                    rng, book, _USER_SLOTS, hour * 3600 + 1800, rng.choices(kinds, weights)[0]
                )
            )
            for _ in range(_POOL_PER_HOUR)
        ]
        for hour in range(24)
    ]


def write_scale_inbox(
    inbox: Path,
    *,
    chats: int,
    messages_per_chat: int,
    as_zip: bool,
    seed: int = 0,
    account_name: str = SCALE_ACCOUNT,
    start: datetime = SCALE_START,
    downloaded_at: datetime | None = None,
    span_days: int = SCALE_SPAN_DAYS,
) -> dict[str, int]:
    """Write `chats` chats of one ja account (+09:00) quickly; returns files, chats, messages and CSV bytes.

    Each chat's history is a fixed random stream (given `seed`) of exchanges from `start` on, about
    `messages_per_chat` messages every `span_days`; one in 20 chats is a group. An export downloaded at D
    (default `start` + `span_days`) holds the messages of [D - span_days, D]. So calling again with D a week
    later writes next week's backup: about 98% of it repeats this one and the new messages come at the end.
    `as_zip` writes `inbox/bulk_backup_<D>.zip`, else one CSV per chat under `inbox/chats_<D>/`.
    """
    end = downloaded_at or start + timedelta(days=span_days)
    origin = datetime.combine(start.date(), datetime.min.time())
    first_s, lo_s, end_s = (int((t - origin).total_seconds()) for t in (start, end - timedelta(days=span_days), end))
    days = [f"{origin + timedelta(days=d):%Y/%m/%d}," for d in range(end_s // 86400 + 1)]
    clock = _clock_strings()
    pool = _pool(seed)
    mean_len = sum(len(e) for hour in pool for e in hour) / (24 * _POOL_PER_HOUR)
    mean_gap = span_days * 86400 * mean_len / max(messages_per_chat, 1)
    preamble = "\ufeff" + _preamble(account_name, "ja", "+09:00", end, excel=False)
    stamp = f"{end:%Y%m%d_%H%M}"
    totals = {"files": 1 if as_zip else chats, "chats": chats, "messages": 0, "bytes": 0}

    def chat_file(i: int) -> tuple[str, bytes, int]:
        rng = random.Random((seed << 32) | i)
        if i % 20 == 7:
            name = f"{_GROUPS[i % 3]} {i}"
            users = (_person(rng.randrange(4000)), _person(rng.randrange(4000)))
        else:
            name = _person(i)
            users = (name, name)
        rows: list[str] = []
        t = t_first = t_last = -1
        began = first_s
        while began <= end_s:
            began += int(rng.expovariate(1 / mean_gap))
            for offset, head, tail in pool[began // 3600 % 24][int(rng.random() * _POOL_PER_HOUR)]:
                if began + offset > t:
                    t = began + offset
                if t > end_s:
                    break
                if t >= lo_s:
                    rows.append(head + days[t // 86400] + clock[t % 86400] + tail)
                    t_first = t if t_first < 0 else t_first
                    t_last = t
        body = "".join(rows)
        for slot, user in zip(_USER_SLOTS, users, strict=True):
            body = body.replace(slot, _field(user))
        first = last = None
        if rows:
            first, last = ((origin + timedelta(seconds=s)).date() for s in (t_first, t_last))
        file_name = export_file_name(name, first, last, i + 1 if as_zip else None)
        return file_name, (preamble + body).encode("utf-8"), len(rows)

    inbox.mkdir(parents=True, exist_ok=True)
    if as_zip:
        with zipfile.ZipFile(inbox / f"bulk_backup_{stamp}.zip", "w") as archive:
            for i in range(chats):
                name, data, count = chat_file(i)
                totals["messages"] += count
                totals["bytes"] += len(data)
                archive.writestr(_zip_member(name, end), data, compresslevel=1)  # speed over size
    else:
        folder = inbox / f"chats_{stamp}"
        folder.mkdir(exist_ok=True)
        for i in range(chats):
            name, data, count = chat_file(i)
            totals["messages"] += count
            totals["bytes"] += len(data)
            (folder / name).write_bytes(data)
    return totals
