"""The digest an owner reads: what one check raised, per account and level, in counts, with the first few
items and what to do. Composed once from the records `alerts.jsonl` keeps, rendered for each channel.

Every sentence a person reads is a whole template in `TEXTS` (named fields, no fragments glued in code
order), so that a translation can replace each one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lineoa_pipeline.retention.status import offset_text

LEVELS = ("lost", "at_risk")
ITEMS_SHOWN = 3  # per account and level, soonest deadline first
CHATS_SHOWN = 3  # the chats with the most media, per account and level

TEXTS = {
    "level.lost": "lost",
    "level.at_risk": "at risk",
    "months.one": "{count} month ({first})",
    "months.other": "{count} months ({first} to {last})",
    "media": "{count} media ({kinds}) in {chats}, sent {first} to {last}",
    "kind.photo.one": "{count} photo",
    "kind.photo.other": "{count} photos",
    "kind.video.one": "{count} video",
    "kind.video.other": "{count} videos",
    "kind.voice.one": "{count} voice message",
    "kind.voice.other": "{count} voice messages",
    "kind.file.one": "{count} file",
    "kind.file.other": "{count} files",
    "chats.one": "1 chat ({names})",
    "chats.other": "{count} chats ({names})",
    "chats.more": "{count} more",
    "chat.count": "{chat} {count}",
    "both": "{months} and {media}",
    "line.lost": "{account}: {level}: {what}. LINE deleted them from {deadline} on; see `lineoa status`.",
    "line.at_risk": (
        "{account}: {level}: {what}. LINE starts deleting them at {deadline}: back up now (`lineoa status`) "
        "and save the media (`lineoa media pending`)."
    ),
    "line.at_risk.months": (
        "{account}: {level}: {what}. LINE starts deleting them at {deadline}: download a bulk backup now "
        "(`lineoa status`)."
    ),
    "line.at_risk.media": (
        "{account}: {level}: {what}. LINE starts deleting them at {deadline}: save them now (`lineoa media pending`)."
    ),
    "item.month.lost": "{month}: in no complete bulk backup; LINE deleted the last of it at {final}",
    "item.month.at_risk": "{month}: LINE starts deleting it at {cutoff}, all of it by {final}",
    "item.media.lost": "{kind} in {chat}, sent {sent}: LINE deleted it at {final}",
    "item.media.at_risk": "{kind} in {chat}, sent {sent}: LINE deletes it at {final}",
    "items.more": "… and {count} more: `lineoa status`, `lineoa media pending`",
    "terminal.line": "retention alert: {line}",
    "push.title": "LINE history: new retention alerts for {count} account(s)",
    "push.more": "… the rest is in `lineoa status` on the pipeline's machine",
    "email.subject": "LINE history: new retention alerts for {count} account(s)",
}


@dataclass
class LevelDigest:
    """What one account has at one level: months and media counted, the range they cover, the earliest
    deadline (lost: when LINE deleted the first; at risk: when it starts deleting), and the first items."""

    level: str
    months: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    chats: Counter[str] = field(default_factory=Counter)
    sent: list[str] = field(default_factory=list)  # the local dates media were sent, first and last
    deadline: datetime | None = None
    items: list[dict[str, Any]] = field(default_factory=list)  # the soonest first, ITEMS_SHOWN of them
    count: int = 0  # every record of the level


@dataclass
class AccountDigest:
    account_name: str
    levels: list[LevelDigest]  # lost first


def compose(records: Iterable[dict[str, Any]]) -> list[AccountDigest]:
    """The digest of `records` (alert records, any number): one entry per account, by name, its levels
    lost first. One pass; only counts and the first few items are kept."""
    by_account: dict[str, dict[str, LevelDigest]] = {}
    for record in records:
        level = by_account.setdefault(record["account_name"], {}).setdefault(
            record["level"], LevelDigest(record["level"])
        )
        level.count += 1
        if record["subject"] == "month":
            level.months.append(record["month"])
        else:
            level.kinds[record.get("kind") or "file"] += 1
            level.chats[record["chat_name"]] += 1
            day = str(record["sent_at"])[:10]
            level.sent = [min(level.sent[0], day), max(level.sent[1], day)] if level.sent else [day, day]
        due = datetime.fromisoformat(record["final_at" if record["level"] == "lost" else "cutoff_at"])
        level.deadline = due if level.deadline is None or due < level.deadline else level.deadline
        level.items.append(record)
        if len(level.items) > 4 * ITEMS_SHOWN:  # keep the soonest few, never every record
            level.items = _soonest(level.items)
    digests = []
    for account in sorted(by_account):
        levels = [by_account[account][name] for name in LEVELS if name in by_account[account]]
        for level in levels:
            level.months.sort()
            level.items = _soonest(level.items)
        digests.append(AccountDigest(account, levels))
    return digests


def _soonest(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda r: (datetime.fromisoformat(r["cutoff_at"]), r.get("month") or ""))[:ITEMS_SHOWN]


def pseudonym(account_name: str, chat_name: str) -> str:
    """A chat's stable stand-in name: the same chat always gets the same one, and it does not show the name."""
    digest = hashlib.sha256(f"{account_name}\x00{chat_name}".encode()).hexdigest()
    return f"chat-{digest[:10]}"


def summary_line(account: AccountDigest, level: LevelDigest, masked: bool = False) -> str:
    """The one line of an account's level: counts, range, earliest deadline and what to do."""
    months = (
        TEXTS[f"months.{'one' if len(level.months) == 1 else 'other'}"].format(
            count=len(level.months), first=level.months[0], last=level.months[-1]
        )
        if level.months
        else ""
    )
    media = ""
    if level.kinds:
        kinds = ", ".join(
            TEXTS[f"kind.{kind}.{'one' if n == 1 else 'other'}"].format(count=f"{n:,}")
            for kind, n in level.kinds.most_common()
        )
        shown = [
            TEXTS["chat.count"].format(chat=_chat(account.account_name, chat, masked), count=f"{n:,}")
            for chat, n in level.chats.most_common(CHATS_SHOWN)
        ]
        if len(level.chats) > CHATS_SHOWN:
            shown.append(TEXTS["chats.more"].format(count=len(level.chats) - CHATS_SHOWN))
        chats = TEXTS[f"chats.{'one' if len(level.chats) == 1 else 'other'}"].format(
            count=len(level.chats), names=", ".join(shown)
        )
        media = TEXTS["media"].format(
            count=f"{level.kinds.total():,}", kinds=kinds, chats=chats, first=level.sent[0], last=level.sent[1]
        )
    what = TEXTS["both"].format(months=months, media=media) if months and media else months or media
    template = f"line.{level.level}"
    if level.level == "at_risk" and not (months and media):
        template += ".months" if months else ".media"
    return TEXTS[template].format(
        account=account.account_name,
        level=TEXTS[f"level.{level.level}"],
        what=what,
        deadline=short_time(level.deadline),
    )


def item_line(record: dict[str, Any], masked: bool = False) -> str:
    """One alert as a short line of the digest (no sentence of the record's own message)."""
    if record["subject"] == "month":
        return TEXTS[f"item.month.{record['level']}"].format(
            month=record["month"], cutoff=short_time(record["cutoff_at"]), final=short_time(record["final_at"])
        )
    return TEXTS[f"item.media.{record['level']}"].format(
        kind=record.get("kind") or "file",
        chat=_chat(record["account_name"], record["chat_name"], masked),
        sent=short_time(record["sent_at"]),
        final=short_time(record["final_at"]),
    )


def terminal_lines(digests: list[AccountDigest]) -> list[str]:
    """What a run prints: one line per account and level (names as they are: the terminal is the owner's)."""
    return [
        TEXTS["terminal.line"].format(line=summary_line(account, level))
        for account in digests
        for level in account.levels
    ]


def plain_text(digests: list[AccountDigest], masked: bool) -> str:
    """The digest as plain text (LINE, e-mail): a title, then per account its level lines and first items."""
    lines = [TEXTS["push.title"].format(count=len(digests))]
    for account in digests:
        lines.append("")
        for level in account.levels:
            lines.append(summary_line(account, level, masked))
            lines += [f"  - {item_line(item, masked)}" for item in level.items]
            if level.count > len(level.items):
                lines.append(f"  {TEXTS['items.more'].format(count=f'{level.count - len(level.items):,}')}")
    return "\n".join(lines)


def _chat(account_name: str, chat_name: str, masked: bool) -> str:
    return pseudonym(account_name, chat_name) if masked else chat_name


def short_time(when: datetime | str | None) -> str:
    """`2026-03-01 09:00 +09:00`: local time with its offset, to the minute."""
    if when is None:
        return ""
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    return f"{moment:%Y-%m-%d %H:%M} {offset_text(moment.tzinfo)}"
