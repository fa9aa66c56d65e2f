"""`lineoa search`: NFKC plus Python's full case folding, substring, over every message.

DuckDB has neither NFKC nor full case folding, and folding 5M messages in Python at each search takes
seconds. Most chat text is already folded: ASCII without capitals, kana, kanji, Japanese punctuation and
emoji map to themselves. So a message whose content holds only such characters (`STABLE_RANGES`, checked
code point by code point in the tests) is matched as stored; every other message has its folded form
computed once, in Python, when its month is written, into `_search_text` (`index_months`). A search is then
one scan of `messages` plus one of that side table, which carries the columns a result shows, so that no
join on `message_id` (a 5M-row probe costs more than the scan) is needed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import asdict, dataclass
from datetime import date
from itertools import accumulate

import duckdb

from lineoa_pipeline.history.reader import Filters, query
from lineoa_pipeline.history.terminal import printable
from lineoa_pipeline.warehouse.sqlfiles import (
    execute_with_literals,
    retry_conflicts,
    run_script,
    statements,
    transaction,
)

# Code points c with NFKC(c) == c == c.casefold(), no combining class, and that no canonical composition
# takes as its second character: a string of them is its own folded form (see the module docstring).
# A terminal line of a longer message is printed unmarked: a 5 MB one took seconds and 720 MB to mark.
HIGHLIGHT_MAX_CHARS = 100_000
STABLE_RANGES = (
    (0x0000, 0x0040),  # controls, space, digits, ASCII punctuation
    (0x005B, 0x007F),  # ASCII lower case and punctuation
    (0x3001, 0x301F),  # Japanese punctuation and brackets (not the ideographic space U+3000)
    (0x3041, 0x3096),  # hiragana (not the voicing marks U+3099-309C)
    (0x30A1, 0x30FE),  # katakana, the middle dot and the long vowel mark
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0x2600, 0x27BF),  # symbols and dingbats
    (0x1F300, 0x1F64F),  # emoji
    (0x1F900, 0x1F9FF),
)
# RE2 (DuckDB's regexp) for "some character outside STABLE_RANGES": the content needs folding.
NEEDS_FOLDING = "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in STABLE_RANGES) + "]"


def fold(text: str) -> str:
    """The form search compares: NFKC, then full case folding (ＡＢＣ -> abc, ｶﾀｶﾅ -> カタカナ, ß -> ss)."""
    return unicodedata.normalize("NFKC", text).casefold()


def index_months(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> int:
    """Rewrite `_search_text` for the months from `first` to `last`, widened to any month of `messages` it
    has never covered (an older warehouse), in one transaction; returns the rows it now holds for them. A side
    table written before it carried each message's offset is dropped first, so every month is written again."""
    if _tables(conn) == {"_search_text"}:
        conn.execute("DROP TABLE _search_text")
        conn.execute("DELETE FROM _search_months")
    run_script(conn, "search_text_schema")
    uncovered = conn.execute(
        "SELECT min(month), max(month) FROM messages WHERE month NOT IN (SELECT month FROM _search_months)"
    ).fetchone()
    if uncovered and uncovered[0] is not None:
        first, last = min(first, uncovered[0]), max(last, uncovered[1])
    params = {"first": first.isoformat(), "last": last.isoformat(), "needs_folding": NEEDS_FOLDING}
    conn.create_function("lineoa_fold", fold, ["VARCHAR"], "VARCHAR", side_effects=False)

    def rewrite() -> None:
        with transaction(conn):
            for statement in statements("search_text_months"):
                execute_with_literals(conn, statement, params)

    try:
        retry_conflicts(rewrite)  # a lake's concurrent writer of the same months: run it again after theirs
    finally:
        conn.remove_function("lineoa_fold")
    row = conn.execute("SELECT count(*) FROM _search_text WHERE month BETWEEN ? AND ?", [first, last]).fetchone()
    return row[0] if row else 0


@dataclass(frozen=True)
class Hit:
    message_id: str
    account_name: str
    chat_name: str
    sender_type: str
    sender_name: str
    sent_at: str  # ISO 8601 with the file's offset
    content: str


def search(conn: duckdb.DuckDBPyConnection, text: str, filters: Filters, limit: int) -> list[Hit]:
    """Messages whose folded content contains the folded `text`, newest first (ties: account, chat, later
    in the export first). `conn` comes from `open_history`."""
    needle = fold(text)
    if not needle:
        raise ValueError("the search text is empty")
    params = {**filters.params(), "needle": needle, "needs_folding": NEEDS_FOLDING, "limit": limit}
    if "current" not in _tables(conn):  # no side table yet, or an older one: fold in memory (exact, slower)
        conn.create_function("lineoa_fold", fold, ["VARCHAR"], "VARCHAR", side_effects=False)
        for statement in statements("search_text_temp"):
            execute_with_literals(conn, statement, params)
    return [Hit(*row) for row in query(conn, "search", params).fetchall()]


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """ "_search_text" when the warehouse has the side table, and "current" when it carries messages' offsets."""
    rows = conn.execute(
        """SELECT DISTINCT CASE column_name WHEN 'utc_offset_minutes' THEN 'current' ELSE table_name END
           FROM duckdb_columns()
           WHERE table_name = '_search_text' AND column_name IN ('message_id', 'utc_offset_minutes')"""
    ).fetchall()
    return {row[0] for row in rows}


def hits_json(hits: list[Hit]) -> str:
    return json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2)


def hits_text(hits: list[Hit], text: str, highlight: bool) -> str:
    """One line per hit: local time, account, chat, sender and content (line breaks shown as ⏎, controls
    escaped); with `highlight`, the matched spans in reverse video (in a message of up to
    `HIGHLIGHT_MAX_CHARS`: marking costs a few objects per character)."""
    lines = []
    for hit in hits:
        content = printable(hit.content.replace("\r", "").replace("\n", " ⏎ "))
        if highlight and len(content) <= HIGHLIGHT_MAX_CHARS:
            content = _highlight(content, fold(text))
        when = hit.sent_at.replace("T", " ")
        names = printable(f"{hit.account_name}  {hit.chat_name}  {hit.sender_name}")
        lines.append(f"{when}  {names} ({hit.sender_type})  {content}")
    return "\n".join(lines)


def _highlight(content: str, needle: str) -> str:
    """Mark the characters of `content` whose folded forms make up a match of `needle`. Folding changes
    lengths (ß -> ss), so matches are found in the concatenated folded characters and mapped back; a match
    that only NFKC composition across characters makes (ｶﾞ -> ガ) is not marked."""
    ends = list(accumulate(len(fold(c)) for c in content))
    folded = "".join(fold(c) for c in content)
    marked = [False] * len(content)
    for match in re.finditer(re.escape(needle), folded):
        for index in range(bisect_right(ends, match.start()), bisect_left(ends, match.end()) + 1):
            marked[index] = True
    out, inside = [], False
    for char, mark in zip(content, marked, strict=True):
        if mark != inside:
            out.append("\x1b[7m" if mark else "\x1b[27m")
            inside = mark
        out.append(char)
    if inside:
        out.append("\x1b[27m")
    return "".join(out)
