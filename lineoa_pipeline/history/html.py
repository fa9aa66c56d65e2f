"""HTML that reads like the LINE chat screen: per account a folder with `index.html` and a page per chat.

The pages are self-contained (inline CSS, no script, a Content-Security-Policy that allows no request) and
open from disk. The bubbles are drawn in SQL (`sql/transcript_pages.sql`, every text escaped there), a batch
of chats per query; Python only fills the templates and writes files. With a manifest (the data directory's
`transcripts/`), only the chats whose fingerprint changed are written again.
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

from lineoa_pipeline.history.reader import query
from lineoa_pipeline.warehouse.sqlfiles import SQL_DIR, insert_rows

TEMPLATES = Path(__file__).parent / "templates"
MANIFEST = ".manifest.json"
CHATS_PER_QUERY = 2_000  # one scan of `messages` per batch; a batch's pages are in memory together (~100 MB at 5M)
CHAT_TYPES = {"one_to_one": "1:1トーク", "group": "グループ"}
# What a file name must not hold here: separators, dots (no `..`), white space, controls, and what shells,
# URLs or Windows read specially. Letters of any script, with their combining marks, stay.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|\s.#%&{}$!'@+`=\[\]^~;,]+")


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


@cache
def _layout_version() -> str:
    """Changes whenever a template or the page SQL changes, so that every page is written again."""
    parts = [p.read_bytes() for p in (*sorted(TEMPLATES.glob("*.html")), SQL_DIR / "transcript_pages.sql")]
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
    conn: duckdb.DuckDBPyConnection, out: Path, media_root: Path, *, masked: bool, incremental: bool
) -> HtmlReport:
    """Write the pages of `history_messages` (see `transcript.select_messages`) under `out`; `incremental`
    keeps a manifest in `out` and writes only what changed since it."""
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
            pages[stored] = [page, fingerprint]
            if old_chats.get(account, {}).get(stored) != [page, fingerprint]:
                todo.append((account, stored, page))
    href = quote(os.path.relpath(media_root, out / "account").replace(os.sep, "/")) + "/"
    report.pages_written = _write_pages(conn, out, todo, href)

    changed_accounts = {account for account, _, _ in todo}
    for account, pages in old_chats.items():
        for stored, (page, _) in pages.items():
            if stored and new_chats.get(account, {}).get(stored, [None])[0] != page:
                (out / page).unlink(missing_ok=True)
                report.pages_removed += 1
                changed_accounts.add(account)
    for account in changed_accounts & by_account.keys():
        _write(out / new_chats[account][""][0] / "index.html", _account_index(account, by_account[account], new_chats))
        report.indexes_written += 1
    if changed_accounts or set(old_chats) != set(new_chats):
        _write(out / "index.html", _top_index(by_account, new_chats))
        report.indexes_written += 1
    if incremental:
        if not old or old_chats.keys() - new_chats.keys():
            report.pages_removed += _sweep(out, new_chats)
        _write(manifest_path, json.dumps({"version": version, "accounts": new_chats}, ensure_ascii=False))
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


def _write_pages(conn: duckdb.DuckDBPyConnection, out: Path, todo: list[tuple[str, str, str]], href: str) -> int:
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _pages (account_name VARCHAR, chat_name VARCHAR, page VARCHAR, batch INTEGER)"
    )
    insert_rows(conn, "_pages", [(a, c, p, i // CHATS_PER_QUERY) for i, (a, c, p) in enumerate(todo)])
    written = 0
    for batch in range((len(todo) + CHATS_PER_QUERY - 1) // CHATS_PER_QUERY):
        result = query(conn, "transcript_pages", {"batch": batch, "media_href": href})
        while rows := result.fetchmany(500):
            for page, account, chat, chat_type, messages, body in rows:
                text = _template("chat.html").substitute(
                    title=html.escape(f"{chat} – {account}"),
                    chat=html.escape(chat),
                    account=html.escape(account),
                    chat_type=CHAT_TYPES.get(chat_type, html.escape(chat_type)),
                    messages=f"{messages:,}件",
                    body=body,
                )
                _write(out / page, text)
                written += 1
    return written


def _account_index(account: str, rows: list[tuple], pages: dict[str, dict[str, list[str]]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("トーク", "種類", "タグ", "メッセージ", "最初", "最後"))
    lines = []
    for _, stored, shown, chat_type, messages, first_at, last_at, tags, _ in rows:
        link = quote(Path(pages[account][stored][0]).name)
        tag_html = "".join(f'<span class="tag">{html.escape(t)}</span>' for t in tags)
        lines.append(
            f'<tr><td><a href="{link}">{html.escape(shown)}</a></td><td>{CHAT_TYPES.get(chat_type, "")}</td>'
            f'<td>{tag_html}</td><td class="n">{messages:,}</td><td>{first_at[:16].replace("T", " ")}</td>'
            f"<td>{last_at[:16].replace('T', ' ')}</td></tr>"
        )
    return _template("index.html").substitute(
        back='<a href="../index.html" title="accounts">‹</a>',
        title=html.escape(account),
        head=head,
        rows="\n".join(lines),
    )


def _top_index(by_account: dict[str, list[tuple]], pages: dict[str, dict[str, list[str]]]) -> str:
    head = "<th>アカウント</th><th>トーク</th><th>メッセージ</th>"
    lines = [
        f'<tr><td><a href="{quote(pages[account][""][0])}/index.html">{html.escape(account)}</a></td>'
        f'<td class="n">{len(rows):,}</td><td class="n">{sum(r[4] for r in rows):,}</td></tr>'
        for account, rows in sorted(by_account.items())
    ]
    return _template("index.html").substitute(
        back="", title="LINE公式アカウント トーク履歴", head=head, rows="\n".join(lines)
    )


def _write(path: Path, text: str) -> None:
    """Write beside, then rename: a browser open on the page never reads half of it. Chat history is
    personal data: folders 0700, files 0600, whatever the umask."""
    private_folder(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def private_folder(folder: Path) -> None:
    """`folder` and the parents it needs, created 0700."""
    if not folder.is_dir():
        private_folder(folder.parent)
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
