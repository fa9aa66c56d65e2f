"""The digest an owner reads: what one check raised, per account and level, in counts, with the first few
items and what to do. Composed once (by DuckDB) from a file of the records `alerts.jsonl` keeps, rendered
for each channel.

Every sentence a person reads is a whole template in `TEXTS` or `COUNTED` (named fields, no fragments glued
in code order), translated into the operator's language (`language`, else the locale) with its plural forms.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from lineoa_pipeline.retention.status import offset_text
from lineoa_pipeline.settings.language import N_, Language
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, load_sql

LEVELS = ("lost", "at_risk")
ITEMS_SHOWN = 3  # per account and level, soonest deadline first
CHATS_SHOWN = 3  # the chats with the most media, per account and level

TEXTS = {
    "level.lost": N_("lost"),
    "level.at_risk": N_("at risk"),
    "month": N_("1 month ({first})"),
    "media": N_("{count} media ({kinds}) in {chats}, sent {first} to {last}"),
    "chats.more": N_("{count} more"),
    "chat.count": N_("{chat} {count}"),
    "both": N_("{months} and {media}"),
    "line.lost": N_("{account}: {level}: {what}. LINE deleted them from {deadline} on; see `lineoa status`."),
    "line.at_risk": N_(
        "{account}: {level}: {what}. LINE starts deleting them at {deadline}: back up now (`lineoa status`) "
        "and save the media (`lineoa media pending`)."
    ),
    "line.at_risk.months": N_(
        "{account}: {level}: {what}. LINE starts deleting them at {deadline}: download a bulk backup now "
        "(`lineoa status`)."
    ),
    "line.at_risk.media": N_(
        "{account}: {level}: {what}. LINE starts deleting them at {deadline}: save them now (`lineoa media pending`)."
    ),
    "item.month.lost": N_("{month}: in no complete bulk backup; LINE deleted the last of it at {final}"),
    "item.month.at_risk": N_("{month}: LINE starts deleting it at {cutoff}, all of it by {final}"),
    "item.media.lost": N_("{kind} in {chat}, sent {sent}: LINE deleted it at {final}"),
    "item.media.at_risk": N_("{kind} in {chat}, sent {sent}: LINE deletes it at {final}"),
    "items.more": N_("… and {count} more: `lineoa status`, `lineoa media pending`"),
    "terminal.line": N_("retention alert: {line}"),
    "push.more": N_("… the rest is in `lineoa status` on the pipeline's machine"),
}
# The sentences with a count: the language's plural rules pick the form (literal calls, for pybabel extract).
COUNTED: dict[str, Callable[..., str]] = {
    "months": lambda lang, n, **v: lang.ngettext(
        "{count} month ({first} to {last})", "{count} months ({first} to {last})", n, **v
    ),
    "photo": lambda lang, n: lang.ngettext("{count} photo", "{count} photos", n),
    "video": lambda lang, n: lang.ngettext("{count} video", "{count} videos", n),
    "voice": lambda lang, n: lang.ngettext("{count} voice message", "{count} voice messages", n),
    "file": lambda lang, n: lang.ngettext("{count} file", "{count} files", n),
    "chats": lambda lang, n, **v: lang.ngettext("{count} chat ({names})", "{count} chats ({names})", n, **v),
    "title": lambda lang, n: lang.ngettext(
        "LINE history: new retention alerts for {count} account",
        "LINE history: new retention alerts for {count} accounts",
        n,
    ),
}
# A kind in an item line, as the pages name it.
KINDS = {"photo": N_("Photo"), "video": N_("Video"), "voice": N_("Voice message"), "file": N_("File")}


def counted(lang: Language, name: str, count: int, **values: object) -> str:
    """The `COUNTED` sentence `name` for `count`, in `lang`."""
    return COUNTED[name](lang, count, **values)


def title(lang: Language, digests: list[AccountDigest]) -> str:
    """The title of a digest (a push, an e-mail's subject)."""
    return counted(lang, "title", len(digests))


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


def compose(path: Path, conn: duckdb.DuckDBPyConnection | None = None) -> list[AccountDigest]:
    """The digest of the alert records in the JSON-lines file `path` (any number): one entry per account,
    by name, its levels lost first."""
    return tally(path, conn)[0]


def tally(path: Path, conn: duckdb.DuckDBPyConnection | None = None) -> tuple[list[AccountDigest], int]:
    """`compose`'s digest of `path`, and how many records it holds. DuckDB counts them
    (`retention_digest.sql`, on `conn` or its own in-memory one): only the counts, a count per chat and the
    first few items reach Python, never every record."""
    own = conn is None
    db = duckdb.connect() if conn is None else conn
    try:
        params = {"path": str(path), "items_shown": ITEMS_SHOWN}
        rows = execute_with_literals(db, load_sql("retention_digest"), params).fetchall()
    finally:
        if own:
            db.close()
    digests: list[AccountDigest] = []
    for account, level, count, months, kinds, chats, first, last, deadline, items, _ in rows:
        if not digests or digests[-1].account_name != account:
            digests.append(AccountDigest(account, []))
        if level is None:  # records of neither level: the account is named, with nothing to say
            continue
        digests[-1].levels.append(
            LevelDigest(
                level,
                months=months,
                # in the order Counter.most_common gives: by count, a tie to the first seen
                kinds=Counter({k["name"]: k["count"] for k in kinds or []}),
                chats=Counter({c["name"]: c["count"] for c in chats or []}),
                sent=[first, last] if first is not None else [],
                deadline=datetime.fromisoformat(deadline),
                items=[json.loads(item) for item in items],
                count=count,
            )
        )
    return digests, rows[0][-1] if rows else 0


def pseudonym(account_name: str, chat_name: str) -> str:
    """A chat's stable stand-in name: the same chat always gets the same one, and it does not show the name."""
    digest = hashlib.sha256(f"{account_name}\x00{chat_name}".encode()).hexdigest()
    return f"chat-{digest[:10]}"


def summary_line(account: AccountDigest, level: LevelDigest, lang: Language, masked: bool = False) -> str:
    """The one line of an account's level, in `lang`: counts, range, earliest deadline and what to do."""
    _ = lang.gettext
    months = ""
    if len(level.months) == 1:
        months = _(TEXTS["month"], first=level.months[0])
    elif level.months:
        months = counted(lang, "months", len(level.months), first=level.months[0], last=level.months[-1])
    media = ""
    if level.kinds:
        kinds = lang.join([counted(lang, kind, n) for kind, n in level.kinds.most_common()])
        shown = [
            _(TEXTS["chat.count"], chat=_chat(account.account_name, chat, masked), count=n)
            for chat, n in level.chats.most_common(CHATS_SHOWN)
        ]
        if len(level.chats) > CHATS_SHOWN:
            shown.append(_(TEXTS["chats.more"], count=len(level.chats) - CHATS_SHOWN))
        chats = counted(lang, "chats", len(level.chats), names=lang.join(shown))
        media = _(
            TEXTS["media"], count=level.kinds.total(), kinds=kinds, chats=chats, first=level.sent[0], last=level.sent[1]
        )
    what = _(TEXTS["both"], months=months, media=media) if months and media else months or media
    template = f"line.{level.level}"
    if level.level == "at_risk" and not (months and media):
        template += ".months" if months else ".media"
    return _(
        TEXTS[template],
        account=account.account_name,
        level=_(TEXTS[f"level.{level.level}"]),
        what=what,
        deadline=short_time(level.deadline),
    )


def item_line(record: dict[str, Any], lang: Language, masked: bool = False) -> str:
    """One alert as a short line of the digest, in `lang` (no sentence of the record's own message)."""
    if record["subject"] == "month":
        return lang.gettext(
            TEXTS[f"item.month.{record['level']}"],
            month=record["month"],
            cutoff=short_time(record["cutoff_at"]),
            final=short_time(record["final_at"]),
        )
    return lang.gettext(
        TEXTS[f"item.media.{record['level']}"],
        kind=lang.gettext(KINDS.get(record.get("kind") or "file", KINDS["file"])),
        chat=_chat(record["account_name"], record["chat_name"], masked),
        sent=short_time(record["sent_at"]),
        final=short_time(record["final_at"]),
    )


def terminal_lines(digests: list[AccountDigest], lang: Language) -> list[str]:
    """What a run prints: one line per account and level (names as they are: the terminal is the owner's)."""
    return [
        lang.gettext(TEXTS["terminal.line"], line=summary_line(account, level, lang))
        for account in digests
        for level in account.levels
    ]


def plain_text(digests: list[AccountDigest], lang: Language, masked: bool) -> str:
    """The digest as plain text (LINE, e-mail): a title, then per account its level lines and first items."""
    lines = [title(lang, digests)]
    for account in digests:
        lines.append("")
        for level in account.levels:
            lines.append(summary_line(account, level, lang, masked))
            lines += [f"  - {item_line(item, lang, masked)}" for item in level.items]
            if level.count > len(level.items):
                lines.append(f"  {lang.gettext(TEXTS['items.more'], count=level.count - len(level.items))}")
    return "\n".join(lines)


def _chat(account_name: str, chat_name: str, masked: bool) -> str:
    return pseudonym(account_name, chat_name) if masked else chat_name


def short_time(when: datetime | str | None) -> str:
    """`2026-03-01 09:00 +09:00`: local time with its offset, to the minute."""
    if when is None:
        return ""
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    return f"{moment:%Y-%m-%d %H:%M} {offset_text(moment.tzinfo)}"
