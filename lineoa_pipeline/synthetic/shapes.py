"""Messages in chats of a chosen shape, straight into a warehouse: what the views cost whatever the chats' shapes.

Two accounts, `clinic` (+09:00, business hours and holidays) and `studio` (+07:00, none), each chat its own
export, senders mixed user/staff/auto_reply/api (the api messages broadcasts: one text to every chat within five
minutes), 5% of user messages a menu text, a tenth of the chats tagged. Stored as staging stores them (user or
staff, text): `write_months` classifies them by `SHAPE_SETTINGS`.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from lineoa_pipeline.warehouse.sqlfiles import statements

# shape: (messages per chat, None for all in one; seconds between a chat's messages, on average)
SHAPES: dict[str, tuple[int | None, int]] = {
    "spread": (50, 720_000),
    "daily": (800, 40_000),
    "one_chat": (None, 150),
    "bursts": (50, 60),
    "singletons": (1, 720_000),
}
SHAPE_SETTINGS = {
    "accounts": {
        "clinic": {
            "sla_minutes": 30,
            "menu_texts": ["menu"],
            "business_hours": {
                "mon": ["09:00-12:00", "13:00-18:00"],
                "tue": ["09:00-18:00"],
                "wed": ["09:00-18:00"],
                "thu": ["09:00-18:00"],
                "fri": ["09:00-18:00"],
                "sat": ["10:00-14:00"],
                "holidays": ["2025-01-01", "2025-05-05", "2026-01-01"],
            },
        }
    }
}

DOWNLOADED_AT = datetime(2026, 3, 1)


def synthesise_shape(conn: duckdb.DuckDBPyConnection, shape: str, messages: int) -> None:
    """Insert `messages` messages in chats of `shape` (a key of `SHAPES`) into `conn`'s empty warehouse."""
    per_chat, slot = SHAPES[shape]
    params = {"messages": messages, "per_chat": per_chat or messages, "slot": slot, "downloaded": DOWNLOADED_AT}
    for statement in statements("synthetic_shapes"):
        conn.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
