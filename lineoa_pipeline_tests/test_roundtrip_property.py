"""Property-based: random messages with every tricky character class, written in LINE's export format by the
generator, come back out of the warehouse exactly as the spec says they are stored.

The spec's reading rules are modelled here (`stored`): the writer guards a value that begins with = + - @, a
tab or a line break with a leading `'`, and writes line breaks as CRLF; the reader removes a leading `'` that
is followed by one of those, then every literal `_x000D_`, then stores CRLF and CR as `\\n`. So content that
itself begins with `'` and then `=` (say) is ambiguous in the format, and is stored without the `'`.
Example counts come from the Hypothesis profile in conftest.py ("ci": 100 for the main property, a quarter of
that for the others, four times as many more in the slow suite; HYPOTHESIS_PROFILE=thorough for 20 times more).
"""

from __future__ import annotations

import io
import itertools
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.counts import StageReport
from lineoa_pipeline.ingest.staging import stage_pending
from lineoa_pipeline.line_export.formats import LANGUAGES, PLACEHOLDERS
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.config import DEFAULT_API_SENDER_NAMES, DEFAULT_AUTO_REPLY_NAMES, Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import ALL_MONTHS

GUARDED_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")
ZONES = ["+09:00", "+08:00", "+07:00", "+00:00", "-03:30", "+05:45", "+14:00", "-12:00"]

# --- the spec's rules, as a model --------------------------------------------------------------------------


def written(value: str) -> str:
    """A value as LINE writes it into its field (before CSV quoting): guarded, line breaks as CRLF."""
    if value[:1] in GUARDED_LEADS:
        value = "'" + value
    return re.sub(r"\r\n|\r|\n", "\r\n", value)


def read(field: str) -> str:
    """A field as the spec says it is stored."""
    if field[:1] == "'" and field[1:2] in GUARDED_LEADS:
        field = field[1:]
    return field.replace("_x000D_", "").replace("\r\n", "\n").replace("\r", "\n")


def stored(value: str) -> str:
    return read(written(value))


def sender_type(kind: str, name: str) -> str:
    if kind == "User":
        return "user"
    if name in DEFAULT_AUTO_REPLY_NAMES:
        return "auto_reply"
    return "api" if name in DEFAULT_API_SENDER_NAMES else "staff"


def offset(zone: str) -> timezone:
    sign = -1 if zone[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))


# --- strategies ---------------------------------------------------------------------------------------------

TRICKY = [
    '"',
    '""',
    ",",
    "\r",
    "\n",
    "\r\n",
    "\n\r",
    "'",
    "=",
    "+",
    "-",
    "@",
    "\t",
    " ",
    "\u3000",
    "\x00",
    "_x000D_",
    "_x000D",
    "x000D_",
    "🌸",
    "👨\u200d👩\u200d👧",
    "ก",
    "ไม้",
    "ภาษาไทย",
    "漢字",
    "ｶﾅ",
    "ー",
    "繁體",
    "\ufeff",
    "\\",
    ";",
    "NULL",
    "\\N",
    "'; DROP TABLE messages; --",
]
ANY_CHAR = st.characters(codec="utf-8", exclude_categories=("Cs",))
TEXT = st.lists(st.one_of(st.sampled_from(TRICKY), ANY_CHAR), max_size=12).map("".join)
CONTENT = st.one_of(
    TEXT,
    st.sampled_from(sorted(PLACEHOLDERS)),
    st.tuples(st.sampled_from([*GUARDED_LEADS, "'=", "'+", "''", "'\n", "_x000D_="]), TEXT).map("".join),
)
NAME = st.one_of(
    st.sampled_from([*DEFAULT_AUTO_REPLY_NAMES, *DEFAULT_API_SENDER_NAMES, "受付 佐々木", "山田 花子"]), TEXT
)
ACCOUNT = st.lists(
    st.one_of(
        st.sampled_from(['"', ",", "'", "=", "@", "+", "🌸", "整体院", "ร้าน", " ", "_x000D_"]),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    ),
    max_size=8,
).map("".join)
# Chat names as LINE writes them into file names (no white space, no path separator), from every class of
# punctuation and symbol, `!` (which also joins a zip and its member) and full-width `！` above all; some
# names are only punctuation.
PUNCTUATION = st.characters(
    categories=("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So"), exclude_characters="/\\"
)
CHAT_NAME = st.lists(
    st.one_of(
        st.sampled_from(["!", "#", "?", "%", "！", "＃", "？", "％", "&", "'", "~", ".", "_", "(2)"]),
        PUNCTUATION,
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Z"), exclude_characters="/\\"),
    ),
    min_size=1,
    max_size=10,
).map("".join)
LOCAL_TIMES = st.one_of(
    st.datetimes(datetime(2020, 1, 1), datetime(2029, 12, 31, 23, 59, 59)).map(lambda t: t.replace(microsecond=0)),
    st.sampled_from([datetime(2026, 3, 31, 23, 59, 58), datetime(2026, 4, 1, 0, 0, 0), datetime(2024, 2, 29, 12)]),
)


@st.composite
def messages(
    draw: st.DrawFn, content: st.SearchStrategy[str] = CONTENT, name: st.SearchStrategy[str] = NAME, max_size: int = 10
) -> list[ChatMessage]:
    """Messages in export order (times never decrease), with repeats in one second now and then."""
    rows = draw(
        st.lists(st.tuples(st.sampled_from(["User", "Account"]), name, LOCAL_TIMES, content), max_size=max_size)
    )
    rows.sort(key=lambda row: row[2])
    return [ChatMessage(kind, who, when, text) for kind, who, when, text in rows]


# --- the warehouse all examples of a test share --------------------------------------------------------------


@dataclass
class Warehouse:
    """One data directory and one connection for all examples of a test; each example uses its own account."""

    data_dir: DataDir
    conn: duckdb.DuckDBPyConnection
    counter: Iterator[int]

    def ingest(self, files: dict[str, bytes]) -> StageReport:
        for relative, data in files.items():
            path = self.data_dir.inbox / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        archive_inbox(self.conn, self.data_dir, log=lambda _: None)
        report = stage_pending(self.conn, self.data_dir, log=lambda _: None)
        sync_settings(self.conn, Settings())
        write_months(self.conn, *ALL_MONTHS)
        return report

    def rows(self, account: str) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            """SELECT sender_type, sender_name, sent_at, month, kind, content, source_file FROM messages
               WHERE account_name = ? ORDER BY sent_at, export_seq""",
            [account],
        ).fetchall()


# A RAM-backed folder when the machine has one: these tests run hundreds of ingests, and what they check is
# parsing, not durability.
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(scope="module")
def shared() -> Iterator[Warehouse]:
    with tempfile.TemporaryDirectory(prefix="lineoa-property-", dir=SCRATCH) as folder:
        data_dir = DataDir(Path(folder) / "data")
        data_dir.create()
        with write_connection(data_dir) as conn:
            yield Warehouse(data_dir, conn, itertools.count(1))


def expected_rows(chat: list[ChatMessage], zone: str, source: str | None = None) -> list[tuple[Any, ...]]:
    """What the warehouse should hold for `chat`, in its order (sent_at, then export order)."""
    out = []
    for m in sorted(chat, key=lambda m: m.sent_at):
        content = stored(m.content)
        out.append(
            (
                sender_type(m.sender_type, stored(m.sender_name)),
                stored(m.sender_name),
                m.sent_at.replace(tzinfo=offset(zone)).astimezone(UTC),
                m.sent_at.date().replace(day=1),
                PLACEHOLDERS.get(content, "text"),
                content,
                source,
            )
        )
    return out


# --- properties ----------------------------------------------------------------------------------------------


ROUNDTRIP = {
    "chat": messages(),
    "chat_name": CHAT_NAME,
    "account": ACCOUNT,
    "lang": st.sampled_from(sorted(LANGUAGES)),
    "zone": st.sampled_from(ZONES),
}


def check_roundtrip(
    shared: Warehouse, chat: list[ChatMessage], chat_name: str, account: str, lang: str, zone: str
) -> None:
    n = next(shared.counter)
    # every example its own accounts, so that examples never share a message; two files in one run, so that
    # they are read together (as one scan of their rows, each file after a marker row): one loose, one in a zip
    accounts = [f"{account} #{n}", f"{account} #{n} (2)"]
    member = f"00001_20200101_20291231_{chat_name}.csv"
    sources = [f"{n}/20200101_20291231_{chat_name}.csv", f"{n}/backup.zip!{member}"]
    exports = [
        render_export(name, chat, lang=lang, tz_offset=zone, downloaded_at=datetime(2030, 1, 1, 9, 0))
        for name in accounts
    ]
    note(repr(exports[0]))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as backup:
        backup.writestr(member, exports[1])
    report = shared.ingest({sources[0]: exports[0], f"{n}/backup.zip": zipped.getvalue()})
    assert (report.files_loaded, report.files_quarantined, report.rejected) == (2, 0, 0)
    assert (report.files_read_together, report.rows_read) == (2, 2 * len(chat))
    assert (report.messages_new, report.duplicates) == (2 * len(chat), 0)
    for name, source in zip(accounts, sources, strict=True):
        assert shared.rows(stored(name)) == expected_rows(chat, zone, source)
        chats = shared.conn.execute("SELECT DISTINCT chat_name FROM messages WHERE account_name = ?", [stored(name)])
        assert chats.fetchall() == ([(chat_name,)] if chat else [])


@given(**ROUNDTRIP)
def test_random_messages_read_back_exactly(
    shared: Warehouse, chat: list[ChatMessage], chat_name: str, account: str, lang: str, zone: str
) -> None:
    check_roundtrip(shared, chat, chat_name, account, lang, zone)


@pytest.mark.slow
@settings(max_examples=settings.default.max_examples * 4)
@given(**ROUNDTRIP)
def test_many_more_random_messages_read_back_exactly(
    shared: Warehouse, chat: list[ChatMessage], chat_name: str, account: str, lang: str, zone: str
) -> None:
    check_roundtrip(shared, chat, chat_name, account, lang, zone)


def _not_round_tripping(encoding: str) -> str:
    """The characters an Excel re-save in `encoding` cannot give back unchanged (excluded from its text)."""
    bad = []
    for code in range(0x20, 0x10000):
        char = chr(code)
        try:
            if char.encode(encoding).decode(encoding) != char:
                bad.append(char)
        except UnicodeError:
            continue
    return "".join(bad)


def _legacy_text(encoding: str) -> st.SearchStrategy[str]:
    chars = st.characters(codec=encoding, exclude_categories=("Cs",), exclude_characters=_not_round_tripping(encoding))
    tricky = [t for t in TRICKY if t.encode(encoding, errors="replace").decode(encoding) == t]
    return st.lists(st.one_of(st.sampled_from(tricky), chars), max_size=12).map("".join)


LEGACY = {lang: LANGUAGES[lang].legacy_encoding for lang in ("ja", "zh-TW", "th")}
LEGACY_TEXT = {lang: _legacy_text(encoding) for lang, encoding in LEGACY.items()}


@st.composite
def excel_exports(draw: st.DrawFn) -> tuple[str, str, list[ChatMessage]]:
    lang = draw(st.sampled_from(sorted(LEGACY)))
    text = LEGACY_TEXT[lang]
    return lang, draw(st.sampled_from(ZONES)), draw(messages(content=text, name=text))


@settings(max_examples=max(settings.default.max_examples // 4, 10))
@given(export=excel_exports())
def test_random_excel_resaves_read_back_exactly(shared: Warehouse, export: tuple[str, str, list[ChatMessage]]) -> None:
    lang, zone, chat = export
    n = next(shared.counter)
    account, source = f"Shop {n}", f"excel/{n}_chat.csv"
    data = render_export(account, chat, lang=lang, tz_offset=zone, downloaded_at=datetime(2030, 1, 1, 9, 0), excel=True)
    assert not data.startswith(b"\xef\xbb\xbf")
    note(repr(data))
    report = shared.ingest({source: data})
    assert (report.files_loaded, report.rejected, report.messages_new) == (1, 0, len(chat))
    assert shared.rows(account) == expected_rows(chat, zone, source)


@st.composite
def overlapping(draw: st.DrawFn) -> tuple[list[ChatMessage], list[tuple[datetime, datetime, datetime]]]:
    """A chat and 2-3 exports of it: (first day, last day, download time) windows that cover every message."""
    chat = draw(messages(max_size=14))
    days = sorted({m.sent_at.date() for m in chat}) or [date(2026, 1, 1)]
    cuts = sorted(draw(st.lists(st.sampled_from(days), min_size=1, max_size=2)))
    bounds = [days[0], *cuts, days[-1]]
    windows = []
    for i in range(len(bounds) - 1):
        first, last = bounds[i], bounds[i + 1]
        lo = draw(st.sampled_from([d for d in days if d <= first]))  # widen backwards: overlap
        downloaded = datetime.combine(last, datetime.min.time()) + timedelta(days=draw(st.integers(1, 400)))
        windows.append(
            (datetime.combine(lo, datetime.min.time()), datetime.combine(last, datetime.max.time()), downloaded)
        )
    return chat, draw(st.permutations(windows))


def identities(chat: list[ChatMessage]) -> list[tuple[Any, ...]]:
    """Each message's identity (sender type, instant, stored content, n)."""
    seen: Counter[tuple[Any, ...]] = Counter()
    out = []
    for m in chat:
        key = (m.sender_type, m.sent_at, stored(m.content))
        seen[key] += 1
        out.append((*key, seen[key]))
    return out


@settings(max_examples=max(settings.default.max_examples // 4, 10))
@given(case=overlapping(), one_run=st.booleans())
def test_overlapping_exports_store_every_message_once_from_the_earliest_download(
    shared: Warehouse, case: tuple[list[ChatMessage], list[tuple[datetime, datetime, datetime]]], one_run: bool
) -> None:
    chat, windows = case
    n = next(shared.counter)
    account = f"Shop {n}"
    exports = []  # (download time, path, bytes)
    first_holder: dict[tuple[Any, ...], tuple[datetime, str]] = {}
    for i, (first, last, downloaded) in enumerate(windows):
        part = [m for m in chat if first <= m.sent_at <= last]
        path = f"{n}/{i}/{first:%Y%m%d}_{last:%Y%m%d}_chat.csv"
        exports.append((downloaded, path, render_export(account, part, downloaded_at=downloaded)))
        for identity in identities(part):
            first_holder[identity] = min(first_holder.get(identity, (downloaded, path)), (downloaded, path))
    if one_run:
        report = shared.ingest({path: data for _, path, data in exports})
        assert report.messages_new == len(chat) and report.rejected == 0
        assert report.rows_read == report.messages_new + report.duplicates
    else:  # one run per export, in download order
        for _, path, data in sorted(exports):
            shared.ingest({path: data})
    sources = [first_holder[identity][1] for identity in identities(chat)]
    order = sorted(range(len(chat)), key=lambda i: chat[i].sent_at)  # the warehouse's order: sent_at, export order
    expected = [(*row[:-1], sources[i]) for row, i in zip(expected_rows(chat, "+09:00"), order, strict=True)]
    assert shared.rows(account) == expected
    new = Counter(sources)
    for path, rows_read, messages_new, duplicates, rejected in shared.conn.execute(
        "SELECT file_path, rows_read, messages_new, duplicates, rejected FROM source_files WHERE account_name = ?",
        [account],
    ).fetchall():
        assert (messages_new, rejected, rows_read) == (new[path], 0, messages_new + duplicates)
