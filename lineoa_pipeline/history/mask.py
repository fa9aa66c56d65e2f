"""`--mask`: exports to share outside the business, without the customers' names and contact details.

Phone numbers, e-mail addresses and URLs become `[電話]`, `[メール]`, `[URL]` (`sql/history_mask.sql`). Every
customer (a chat name, or a `User` sender's name; two spellings with one name key are one customer) becomes
顧客0001, 顧客0002, … numbered per account in order of their first message, wherever the name appears: as the
chat, as the sender, and inside the contents of their chats (as stored, and without white space or brackets).
"""

from __future__ import annotations

import duckdb

from lineoa_pipeline.line_export.names import name_key
from lineoa_pipeline.warehouse.sqlfiles import insert_rows, run_script, statements

ALIAS = "顧客{:04d}"
_SEPARATOR = "\x1f"  # between alias and name in a spelling (sql/history_mask.sql splits on chr(31))


def prepare_mask(conn: duckdb.DuckDBPyConnection, enabled: bool) -> None:
    """Create the masking macros and tables `history_messages` reads; fill them only when `enabled`."""
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
        aliases[key] = ALIAS.format(per_account[key[0]])
    insert_rows(
        conn,
        "_mask_names",
        sorted({(account, name, aliases[(account, name_key(name))]) for account, _chat, name, _ in names}),
    )
    spellings: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for account, chat, name, _ in names:
        alias = aliases[(account, name_key(name))]
        spellings.setdefault((account, chat), set()).update({(alias, name), (alias, name_key(name))})
    insert_rows(
        conn,
        "_mask_chats",
        [
            (
                account,
                chat,
                aliases[(account, name_key(chat))],
                [f"{alias}{_SEPARATOR}{name}" for alias, name in sorted(pairs, key=lambda p: (-len(p[1]), p)) if name],
            )
            for (account, chat), pairs in spellings.items()
        ],
    )
