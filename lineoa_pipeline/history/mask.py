"""`--mask`: exports to share outside the business, without the customers' names and contact details.

Every customer of an account (a chat's name, or a `User` sender's name; two spellings with one name key are
one customer) becomes 顧客0001, 顧客0002, … (客戶0001, ลูกค้า0001, Customer0001: the account's language),
numbered per account in order of their first message: as the chat and as the sender (`sql/history_mask.sql`),
and wherever the name stands in any text of the account (any chat's contents, tags), found in NFKC,
case-folded, without white space or brackets, so that `山田 花子`, `山田花子` and `ＹＡＭＡＤＡ　ＨＡＮＡＫＯ` are one.
Phone numbers (as `phonenumbers` finds them, for the account's region, JP, TW and TH, and every `+` number),
e-mail addresses and URLs (`line.me` links and `@handles` too) are found after NFKC as well, so every width
and dash counts. Only the found spans are
replaced: the rest of a text stays as written.

Python masks each distinct text of the selection once (`phonenumbers` is Python); the view joins the result.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import ahocorasick
import duckdb
import phonenumbers

from lineoa_pipeline.line_export.formats import NAME_BRACKETS
from lineoa_pipeline.line_export.names import name_key
from lineoa_pipeline.settings.language import N_, Language
from lineoa_pipeline.warehouse.sqlfiles import insert_rows, run_script, statements

# What a person reads in a masked export, in the account's language (the pages' catalogs).
ALIAS = N_("Customer{number}")  # the number in four digits: 0001
PHONE, EMAIL, URL = N_("[Phone]"), N_("[E-mail]"), N_("[URL]")

REGIONS = ("JP", "TW", "TH")  # LINE's markets: their domestic forms are always looked for
# The region an account's exports place it in, by their UTC offset (minutes): no setting names it.
REGION_BY_OFFSET = {540: "JP", 480: "TW", 420: "TH"}
MIN_NAME_IN_TEXT = 2  # a one-letter name is replaced as the chat or sender, never inside a text
# Seven digits or more, a few separators apart at most: without such a run no phone number can be in a text
# (the shortest in JP, TW and TH have nine), and `phonenumbers`' matcher (most of the cost) is not run.
_DIGIT_RUN = re.compile(r"\d(?:[^\w]{0,3}\d){6,}")

# After NFKC and case folding: ASCII forms, whatever width they were written in.
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
_URL_END = r"[^\s<>\"'、。，「」（）()\[\]]*"
_URL = re.compile(
    rf"(?:https?://|www\.){_URL_END}"  # a scheme or www.
    rf"|(?<![a-z0-9.\-@])(?:[a-z0-9\-]+\.)+[a-z]{{2,}}/{_URL_END}"  # a host with a path: line.me/ti/p/…
    rf"|(?<![a-z0-9.\-@])(?:line\.me|lin\.ee)\b{_URL_END}"  # LINE's own short hosts, with or without a path
)
_HANDLE = re.compile(r"(?<![a-z0-9._%+\-@])@[a-z0-9._\-]{2,}")  # a LINE ID: @yamada_h
_STRIPPED = frozenset(" \t\r\n\f\v\u3000\u00a0" + NAME_BRACKETS)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def fold(text: str) -> str:
    """The form every search for a name, number or address is made on: NFKC, then case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


@cache
def _joins(char: str) -> bool:
    """True for a character that NFKC merges into the one before it (a combining or half-width sound mark)."""
    return unicodedata.combining(unicodedata.normalize("NFKC", char)[:1] or "a") != 0


def _folded(text: str) -> tuple[str, list[int], list[int]]:
    """`fold(text)`, and for each of its characters where in `text` the character(s) it came from start and end:
    a span found in the folded text is replaced in the text as written."""
    folded = fold(text)
    if folded == text:
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    start = 0
    for end in range(1, len(text) + 1):
        if end < len(text) and _joins(text[end]):
            continue
        part = fold(text[start:end])
        parts.append(part)
        starts += [start] * len(part)
        ends += [end] * len(part)
        start = end
    return "".join(parts), starts, ends


class Masker:
    """Masks the texts of one account: its customers' names (name key -> alias), its phone regions, and the
    tokens of its language."""

    def __init__(self, aliases: dict[str, str], regions: Iterable[str], lang: Language) -> None:
        self.regions = tuple(dict.fromkeys(regions))
        self.phone, self.email, self.url = (lang.gettext(token) for token in (PHONE, EMAIL, URL))
        self.names = ahocorasick.Automaton()
        for key, alias in aliases.items():
            folded = key.casefold()
            if len(folded) >= MIN_NAME_IN_TEXT:
                self.names.add_word(folded, (len(folded), alias, folded[0] in _ALNUM, folded[-1] in _ALNUM))
        self.has_names = len(self.names) > 0
        if self.has_names:
            self.names.make_automaton()

    def mask(self, text: str) -> str:
        """`text` with every name, phone number, e-mail address and URL replaced; the rest as written."""
        folded, starts, ends = _folded(text)
        spans = [(m.start(), m.end(), self.url) for m in _URL.finditer(folded)]
        spans += [(m.start(), m.end(), self.email) for m in _EMAIL.finditer(folded)]
        spans += [(m.start(), m.end(), self.url) for m in _HANDLE.finditer(folded)]
        spans += self._phones(folded)
        if self.has_names:
            spans += self._names(folded)
        if not spans:
            return text
        out: list[str] = []
        at = covered = 0  # where the text as written, and the folded text, are replaced up to
        for start, end, token in sorted(spans, key=lambda s: (s[0], -s[1])):
            if start < covered or end <= start:
                continue  # overlaps a span already replaced (the earlier, longer one wins)
            covered = end
            out += [text[at : max(at, starts[start])], token]
            at = max(at, ends[end - 1])
        return "".join([*out, text[at:]])

    def _phones(self, folded: str) -> list[tuple[int, int, str]]:
        """Spans of phone numbers in `folded`, region by region until every run of digits is one."""
        runs = [(m.start(), m.end()) for m in _DIGIT_RUN.finditer(folded)]
        spans: list[tuple[int, int, str]] = []
        for region in self.regions if runs else ():
            spans += [(m.start, m.end, self.phone) for m in phonenumbers.PhoneNumberMatcher(folded, region)]
            if all(any(s <= start and end <= e for s, e, _ in spans) for start, end in runs):
                break
        return spans

    def _names(self, folded: str) -> list[tuple[int, int, str]]:
        """Spans of customer names in `folded`, matched without white space and brackets; a name that starts
        or ends with a Latin letter or digit only as a whole word."""
        kept = [i for i, c in enumerate(folded) if c not in _STRIPPED]
        bare = "".join(folded[i] for i in kept)
        spans = []
        for last, (length, alias, alnum_start, alnum_end) in self.names.iter_long(bare):
            start, end = kept[last - length + 1], kept[last] + 1
            if alnum_start and start > 0 and folded[start - 1] in _ALNUM:
                continue
            if alnum_end and end < len(folded) and folded[end] in _ALNUM:
                continue
            spans.append((start, end, alias))
        return spans


def prepare_mask(conn: duckdb.DuckDBPyConnection, enabled: bool, languages: dict[str, Language]) -> None:
    """Create the masking tables `history_messages` reads; fill the names' when `enabled`, each account's
    aliases in `languages[account]` (the texts' are filled by `mask_texts` once the selection is defined)."""
    run_script(conn, "history_mask")
    if not enabled:
        return
    # Python keys each distinct name once (NFKC is not in DuckDB); the rows are per chat and sender, not per message.
    (names_sql,) = statements("history_mask_names")
    names = conn.execute(names_sql).fetchall()
    first_seen: dict[tuple[str, str], tuple] = {}
    for account, _chat, name, first in names:
        key, at = (account, name_key(name)), (first["at"], first["seq"])
        first_seen[key] = min(first_seen.get(key, at), at)
    aliases: dict[tuple[str, str], str] = {}
    per_account: dict[str, int] = {}
    for key in sorted(first_seen, key=lambda k: (k[0], first_seen[k], k[1])):
        per_account[key[0]] = per_account.get(key[0], 0) + 1
        aliases[key] = languages[key[0]].gettext(ALIAS, number=f"{per_account[key[0]]:04d}")
    insert_rows(
        conn,
        "_mask_names",
        sorted({(account, name, name_key(name), aliases[(account, name_key(name))]) for account, _, name, _ in names}),
    )


def mask_texts(conn: duckdb.DuckDBPyConnection, languages: dict[str, Language]) -> None:
    """Mask every distinct text the selection shows (contents, tags), once per account, into `_mask_texts`,
    its tokens in `languages[account]`."""
    names_sql, offsets_sql, texts_sql = statements("history_mask_texts")
    aliases: dict[str, dict[str, str]] = {}
    for account, key, alias in conn.execute(names_sql).fetchall():
        aliases.setdefault(account, {})[key] = alias
    regions = {
        account: (REGION_BY_OFFSET[offset],) if offset in REGION_BY_OFFSET else ()
        for account, offset in conn.execute(offsets_sql).fetchall()
    }
    maskers: dict[str, Masker] = {}
    rows = []
    result = conn.execute(texts_sql)
    while batch := result.fetchmany(10_000):
        for account, text in batch:
            if account not in maskers:
                regions_of = (*regions.get(account, ()), *REGIONS)
                maskers[account] = Masker(aliases.get(account, {}), regions_of, languages[account])
            masked = maskers[account].mask(text)
            if masked != text:
                rows.append((account, text, masked))
    insert_rows(conn, "_mask_texts", rows)
