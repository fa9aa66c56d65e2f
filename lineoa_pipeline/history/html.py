"""HTML that reads like the LINE chat screen: per account a folder with `index.html` and a page per chat.

The pages are self-contained (inline CSS, no script, a Content-Security-Policy that allows no request) and
open from disk. Each account's pages are in its language (`labels.py`), which they declare, with the fonts of
its script. The bubbles are drawn in SQL (`sql/transcript_pages.sql`, every text escaped there), a batch of
chats per query; Python only fills the templates and writes files. With a manifest (the data directory's
`transcripts/`), only the chats whose fingerprint (or language) changed are written again.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import duckdb

from lineoa_pipeline.history.labels import chat_type_label, font_stack
from lineoa_pipeline.history.output import private_folder, write_file
from lineoa_pipeline.history.reader import query
from lineoa_pipeline.settings.language import LOCALE_DIR, N_, Language
from lineoa_pipeline.warehouse.sqlfiles import SQL_DIR, insert_rows

TEMPLATES = Path(__file__).parent / "templates"
MANIFEST = ".manifest.json"
CHATS_PER_QUERY = 2_000  # one scan of `messages` per batch; a batch's pages are in memory together (~100 MB at 5M)
# The SQL a page is drawn by: its query, the view it reads and their macros
PAGE_SQL = ("transcript_pages.sql", "history_view.sql", "history_macros.sql")
ACCOUNT_COLUMNS = (N_("Chat"), N_("Type"), N_("Tags"), N_("Messages"), N_("First message"), N_("Last message"))
TOP_COLUMNS = (N_("Account"), N_("Chats"), N_("Messages"))  # the accounts' index
# What a file name must not hold here: separators, dots (no `..`), white space, controls, and what shells,
# URLs or Windows read specially. Letters of any script, with their combining marks, stay.
# and C1 controls and bidirectional overrides (U+202E makes `gpj.exe` read as `exe.jpg`)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\:*?\"<>|\s.#%&{}$!'@+`=\[\]^~;,]+")


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


@cache
def _layout_version() -> str:
    """Changes whenever a template, the page SQL or a translation changes, so that every page is written again."""
    files = (
        *sorted(TEMPLATES.glob("*.html")),
        *(SQL_DIR / name for name in PAGE_SQL),
        *sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")),
    )
    parts = [p.read_bytes() for p in files]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def file_stem(name: str, salt: str | None) -> str:
    """A file name that shows `name` where it safely can (never `..` or a slash), and
    (given `salt`, the stored name) a short hash that keeps two names that read alike apart."""
    readable = _UNSAFE.sub("_", unicodedata.normalize("NFKC", name)).strip("_")[:40] or "chat"
    return readable if salt is None else f"{readable}-{hashlib.sha256(salt.encode()).hexdigest()[:10]}"


@dataclass
class HtmlReport:
    """What `write_html` found and wrote."""

    accounts: int = 0
    chats: int = 0
    pages_written: int = 0
    pages_removed: int = 0
    indexes_written: int = 0


def write_html(
    conn: duckdb.DuckDBPyConnection,
    out: Path,
    media_root: Path,
    languages: dict[str, Language],
    top: Language,
    *,
    masked: bool,
    incremental: bool,
) -> HtmlReport:
    """Write the pages of `history_messages` (see `transcript.select_messages`) under `out`, each account's
    in `languages[account]`, the index of every account in `top`; `incremental` keeps a manifest in `out`
    and writes only what changed since it."""
    private_folder(out)
    manifest_path = out / MANIFEST
    version = _layout_version()
    old: dict[str, Any] = {}
    if incremental and manifest_path.exists():
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        if old.get("version") != version:
            old = {}
    old_chats: dict[str, dict[str, list[str]]] = old.get("accounts", {})

    chats = query(conn, "history_chats", {}).fetchall()
    report = HtmlReport(chats=len(chats))
    by_account: dict[str, list[tuple]] = {}
    for row in chats:
        by_account.setdefault(row[0], []).append(row)
    report.accounts = len(by_account)
    new_chats: dict[str, dict[str, list[str]]] = {}
    todo: list[tuple[str, str, str]] = []
    for account, rows in by_account.items():
        folder = file_stem(account, account)
        pages = new_chats.setdefault(account, {"": [folder, ""]})
        for _, stored, shown, *_, fingerprint in rows:
            page = f"{folder}/{file_stem(shown, None if masked else stored)}.html"
            pages[stored] = [page, f"{fingerprint}:{languages[account].code}"]
            if old_chats.get(account, {}).get(stored) != pages[stored]:
                todo.append((account, stored, page))
    href = quote(os.path.relpath(media_root, out / "account").replace(os.sep, "/")) + "/"
    report.pages_written = _write_pages(conn, out, todo, href, languages)

    changed_accounts = {account for account, _, _ in todo}
    for account, pages in old_chats.items():
        for stored, (page, _) in pages.items():
            if stored and new_chats.get(account, {}).get(stored, [None])[0] != page:
                (out / page).unlink(missing_ok=True)
                report.pages_removed += 1
                changed_accounts.add(account)
    for account in changed_accounts & by_account.keys():
        index = _account_index(account, by_account[account], new_chats, languages[account], top)
        write_file(out / new_chats[account][""][0] / "index.html", index)
        report.indexes_written += 1
    if changed_accounts or set(old_chats) != set(new_chats):
        write_file(out / "index.html", _top_index(by_account, new_chats, top))
        report.indexes_written += 1
    if incremental:
        if not old or old_chats.keys() - new_chats.keys():
            report.pages_removed += _sweep(out, new_chats)
        write_file(manifest_path, json.dumps({"version": version, "accounts": new_chats}, ensure_ascii=False))
    return report


def _sweep(out: Path, pages: dict[str, dict[str, list[str]]]) -> int:
    """Remove every page under `out` that no chat or account of `pages` has any more (an account gone after a
    rebuild, pages an earlier layout or a lost manifest left), and the folders that leaves empty."""
    keep = {out / page for chats in pages.values() for stored, (page, _) in chats.items() if stored}
    keep |= {out / chats[""][0] / "index.html" for chats in pages.values()}
    removed = 0
    for page in out.glob("*/*.html"):
        if page not in keep:
            page.unlink()
            removed += 1
    for folder in out.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def _write_pages(
    conn: duckdb.DuckDBPyConnection,
    out: Path,
    todo: list[tuple[str, str, str]],
    href: str,
    languages: dict[str, Language],
) -> int:
    conn.execute("DELETE FROM _pages")  # created empty with `history_messages` (sql/history_view.sql)
    insert_rows(conn, "_pages", [(a, c, p, i // CHATS_PER_QUERY) for i, (a, c, p) in enumerate(todo)])
    written = 0
    try:
        for batch in range((len(todo) + CHATS_PER_QUERY - 1) // CHATS_PER_QUERY):
            written += _write_batch(conn, out, batch, href, languages)
    finally:
        conn.execute("RESET VARIABLE history_batch")  # `history_messages` holds every chat again
    return written


def _write_batch(
    conn: duckdb.DuckDBPyConnection, out: Path, batch: int, href: str, languages: dict[str, Language]
) -> int:
    """Write the pages of one batch of `_pages`; returns how many."""
    conn.execute(f"SET VARIABLE history_batch = {batch:d}")
    result = query(conn, "transcript_pages", {"batch": batch, "media_href": href})
    written = 0
    while rows := result.fetchmany(500):
        for page, account, chat, chat_type, messages, body in rows:
            lang = languages[account]
            text = _template("chat.html").substitute(
                lang=lang.code,
                fonts=html.escape(font_stack(lang), quote=False),
                title=html.escape(f"{chat} – {account}"),
                back=html.escape(lang.gettext("Chat list")),
                chat=html.escape(chat),
                account=html.escape(account),
                chat_type=html.escape(chat_type_label(lang, chat_type)),
                messages=html.escape(lang.ngettext("{count} message", "{count} messages", messages)),
                body=body,
            )
            write_file(out / page, text)
            written += 1
    return written


def _index(
    lang: Language, back: str, title: str, labels: tuple[str, ...], numbers: set[int], rows: list[list[str]]
) -> str:
    """An index page in `lang`: a table of `rows` (cells as HTML, the columns in `numbers` aligned as numbers)
    under `labels`; on a phone each row is a card whose cells name their column (`data-label`)."""
    shown = [html.escape(lang.gettext(label)) for label in labels]
    head = "".join(f"<th>{label}</th>" for label in shown)
    kinds = [f'data-label="{label}"' + (' class="n"' if i in numbers else "") for i, label in enumerate(shown)]
    lines = [
        "<tr>" + "".join(f"<td {kind}>{cell}</td>" for kind, cell in zip(kinds, cells, strict=True)) + "</tr>"
        for cells in rows
    ]
    return _template("index.html").substitute(
        lang=lang.code,
        fonts=html.escape(font_stack(lang), quote=False),
        filter=html.escape(lang.gettext("Filter")),
        back=back,
        title=title,
        head=head,
        rows="\n".join(lines),
    )


def _account_index(
    account: str, rows: list[tuple], pages: dict[str, dict[str, list[str]]], lang: Language, top: Language
) -> str:
    cells = []
    for _, stored, shown, chat_type, messages, first_at, last_at, tags, _ in rows:
        link = quote(pages[account][stored][0].rpartition("/")[2])
        cells.append(
            [
                f'<a href="{link}">{html.escape(shown)}</a>',
                html.escape(chat_type_label(lang, chat_type)),
                "".join(f'<span class="tag">{html.escape(t)}</span>' for t in tags),
                lang.number(messages),
                first_at[:16].replace("T", " "),
                last_at[:16].replace("T", " "),
            ]
        )
    up = top.gettext("All accounts")  # where the link leads: the index of every account, in its language
    back = f'<a href="../index.html" title="{html.escape(up)}">‹</a>'
    return _index(lang, back, html.escape(account), ACCOUNT_COLUMNS, {3}, cells)


def _top_index(by_account: dict[str, list[tuple]], pages: dict[str, dict[str, list[str]]], lang: Language) -> str:
    cells = [
        [
            f'<a href="{quote(pages[account][""][0])}/index.html">{html.escape(account)}</a>',
            lang.number(len(rows)),
            lang.number(sum(r[4] for r in rows)),
        ]
        for account, rows in sorted(by_account.items())
    ]
    title = html.escape(lang.gettext("LINE Official Account chat history"))
    return _index(lang, "", title, TOP_COLUMNS, {1, 2}, cells)
