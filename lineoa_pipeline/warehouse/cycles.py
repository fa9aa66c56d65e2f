"""Chains of reply cycles in one vectorised pass: the scan SQL cannot do without a recursion per cycle.

LINE's reply cycles chain: within a chat, the first ask opens a cycle and each next cycle opens with the first
ask after its predecessor's reach (`sql/views/line_reply_times.sql` says which messages ask and what the reach
is). A recursive query iterates once per cycle over the whole table, so a customer who writes every day for a
year costs a year of iterations. Here every ask's successor is found at once (a binary search), and which asks
the chains from each chat's first ask pass through by binary lifting: about 2 log2(longest chain) array
operations over all asks of every chat together, never a Python loop per message or per chat.
"""

from __future__ import annotations

from contextlib import suppress

import duckdb

FUNCTION = "_reply_cycle_starts"


def cycle_starts(chats: list[int], seconds: list[int], reaches: list[int]) -> list[int]:
    """The positions (0-based) of the asks that open a cycle, given every ask in order.

    Ask i belongs to chat `chats[i]` (asks of one chat together, at non-decreasing `seconds`); the cycle it
    opens spans up to `reaches[i]` (>= `seconds[i]`), and the next one opens with the chat's first ask after it.
    """
    import numpy as np  # here, not at the top: only a writer refreshing the views needs it (0.1 s to import)

    chat = np.asarray(chats, dtype=np.int64)
    n = len(chat)
    if n == 0:
        return []
    s = np.asarray(seconds, dtype=np.int64)
    reach = np.asarray(reaches, dtype=np.int64)
    # One sorted key over every chat: a chat's asks lie in a band of their own, so a search stays in it.
    base = s.min()
    band = int(max(reach.max(), s.max()) - base) + 1
    key = (chat - chat[0]) * band + (s - base)
    successor = np.searchsorted(key, (chat - chat[0]) * band + (reach - base), side="right")
    inside = successor < n
    inside[inside] = chat[successor[inside]] == chat[inside]
    index = np.int32 if n < 2**31 - 1 else np.int64
    jumps = [np.append(np.where(inside, successor, n), n).astype(index)]  # ask n: past every chain
    while (jumps[-1][:n] < n).any():
        jumps.append(jumps[-1][jumps[-1]])
    # From each chat's first ask, the furthest cycle start at or before each ask: the ask itself when it opens one.
    opens_chat = np.flatnonzero(np.r_[True, chat[1:] != chat[:-1]])
    at = np.repeat(opens_chat, np.diff(np.r_[opens_chat, n])).astype(index)
    position = np.arange(n, dtype=index)
    for jump in reversed(jumps):
        further = jump[at]
        at = np.where(further <= position, further, at)
    return np.flatnonzero(at == position).tolist()


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """Make `_reply_cycle_starts(chats, seconds, reaches)` callable in `conn`'s SQL, replacing an earlier
    registration on the same connection (asking `duckdb_functions()` whether there is one costs ~0.1 s)."""
    with suppress(duckdb.InvalidInputException):  # none registered on this connection yet
        conn.remove_function(FUNCTION)
    bigints = duckdb.list_type(duckdb.sqltype("BIGINT"))
    conn.create_function(FUNCTION, cycle_starts, [bigints, bigints, bigints], bigints, side_effects=False)
