"""Millions of messages quickly: one account's bulk backups or loose CSVs, for the benchmark and scale tests."""

from __future__ import annotations

import random
import zipfile
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from lineoa_pipeline.line_export.render import csv_field, export_file_name, preamble, zip_member
from lineoa_pipeline.synthetic.conversations import EPISODE_KINDS, PHRASES, episode

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
                (offset, f"{sender_type},{csv_field(name)},", f",{csv_field(text)}\r\n")
                for offset, sender_type, name, text in episode(
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
    active_days: float | None = None,
    regulars: float = 0.0,
    regular_days: float = 120,
) -> dict[str, int]:
    """Write `chats` chats of one ja account (+09:00) quickly; returns files, chats, messages and CSV bytes.

    Each chat's history is a fixed random stream (given `seed`) of exchanges from `start` on, about
    `messages_per_chat` messages every `span_days`; one in 20 chats is a group. An export downloaded at D
    (default `start` + `span_days`) holds the messages of [D - span_days, D]. So calling again with D a week
    later writes next week's backup: about 98% of it repeats this one and the new messages come at the end.
    `as_zip` writes `inbox/bulk_backup_<D>.zip`, else one CSV per chat under `inbox/chats_<D>/`.

    `active_days` makes each chat a burst, as most of a real account's are: its messages within a stretch of
    on average that many days (at least one), beginning at a random time in the `span_days` after `start`.
    Next week's backup then changes only the chats still active at D (about `active_days / span_days` of
    them) and those whose first rows fall out of the window, as LINE drops them. With `regulars`, that share of
    the chats are regular customers instead, active for on average `regular_days` (months: many of them still
    active at D), as real accounts have.
    """
    end = downloaded_at or start + timedelta(days=span_days)
    origin = datetime.combine(start.date(), datetime.min.time())
    first_s, lo_s, end_s = (int((t - origin).total_seconds()) for t in (start, end - timedelta(days=span_days), end))
    days = [f"{origin + timedelta(days=d):%Y/%m/%d}," for d in range(end_s // 86400 + 1)]
    clock = _clock_strings()
    pool = _pool(seed)
    mean_len = sum(len(e) for hour in pool for e in hour) / (24 * _POOL_PER_HOUR)
    mean_gap = span_days * 86400 * mean_len / max(messages_per_chat, 1)
    file_head = "\ufeff" + preamble(account_name, "ja", "+09:00", end, excel=False)
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
        began, gap, stop = first_s, mean_gap, end_s
        if active_days:  # drawn first, from the chat's own stream: the same whatever D is
            began += int(rng.random() * span_days * 86400)
            mean_days = regular_days if regulars and rng.random() < regulars else active_days
            life = (1 + rng.expovariate(1 / max(mean_days - 1, 1e-3))) * 86400
            gap, stop = life * mean_len / max(messages_per_chat, 1), min(end_s, began + int(life))
        while began <= stop:
            began += int(rng.expovariate(1 / gap))
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
            body = body.replace(slot, csv_field(user))
        first = last = None
        if rows:
            first, last = ((origin + timedelta(seconds=s)).date() for s in (t_first, t_last))
        file_name = export_file_name(name, first, last, i + 1 if as_zip else None)
        return file_name, (file_head + body).encode("utf-8"), len(rows)

    inbox.mkdir(parents=True, exist_ok=True)
    if as_zip:
        with zipfile.ZipFile(inbox / f"bulk_backup_{stamp}.zip", "w") as archive:
            for i in range(chats):
                name, data, count = chat_file(i)
                totals["messages"] += count
                totals["bytes"] += len(data)
                archive.writestr(zip_member(name, end), data, compresslevel=1)  # speed over size
    else:
        folder = inbox / f"chats_{stamp}"
        folder.mkdir(exist_ok=True)
        for i in range(chats):
            name, data, count = chat_file(i)
            totals["messages"] += count
            totals["bytes"] += len(data)
            (folder / name).write_bytes(data)
    return totals
