"""Plausible made-up conversations between customers and an account, in each UI language."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lineoa_pipeline.line_export.render import ChatMessage


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


def episode(rng: random.Random, book: PhraseBook, users: Sequence[str], second_of_day: int, kind: str) -> list[_Line]:
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
        for offset, sender_type, name, text in episode(rng, book, users, second_of_day, kind):
            last = max(last, began + timedelta(seconds=offset))
            if last > end:
                return messages
            messages.append(ChatMessage(sender_type, name, last, text))
    return messages
