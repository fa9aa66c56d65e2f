"""Retention rules of the spec: backup coverage of each month, alerts, and the status of media placeholders.

The work over messages is SQL (`sql/retention_*.sql`); Python resolves the settings per account and shapes
the rows per account and month. Placeholders can number hundreds of thousands, so they reach Python only as
counts or the few at risk; their alerts and `lineoa status --json` are text that DuckDB writes to a file.
Pure domain code: no Dagster.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Literal

import duckdb

from lineoa_pipeline.settings.config import CHAT_TYPES, MEDIA_KINDS, Settings
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, load_sql, statements

Coverage = Literal["complete", "partial", "missing"]
Level = Literal["ok", "at_risk", "lost"]
MediaState = Literal["saved", "pending", "at_risk", "lost"]
MEDIA_STATES: tuple[MediaState, ...] = ("at_risk", "lost", "pending", "saved")
# What a report lists of each account's placeholders at risk: the status shows ten, the asset twenty (a real
# account has tens of thousands at once, counted in full by media_counts).
SOONEST_AT_RISK = 20
# COPY of one text column written as it is, a line per row: lines of JSON built by the query
_LINES = "FORMAT csv, HEADER false, QUOTE '', ESCAPE ''"


@dataclass(frozen=True)
class AccountStatus:
    """When an account was last backed up in bulk, and by when it must be again (a past time: now)."""

    account_name: str
    zone: tzinfo  # the fixed UTC offset of the account's latest export
    last_bulk_backup_at: datetime | None
    next_backup_due_by: datetime | None


@dataclass(frozen=True)
class MonthStatus:
    """One local month of one account: what its bulk backups hold of it, and what LINE still keeps."""

    account_name: str
    month: date
    coverage: Coverage
    alert: Level
    cutoff_at: datetime  # LINE starts deleting the month's first day
    final_at: datetime  # LINE has deleted all of it


@dataclass(frozen=True)
class MediaStatus:
    """One photo, video, voice message or file placeholder, and when LINE deletes it."""

    account_name: str
    chat_name: str
    sent_at: datetime
    kind: str
    status: MediaState
    expires_at: datetime
    message_id: str  # two photos sent in one second are two placeholders


@dataclass(frozen=True)
class StatusReport:
    """What `lineoa status` shows, as of one instant; timestamps are in each account's zone."""

    as_of: datetime
    accounts: list[AccountStatus]
    months: list[MonthStatus]
    media_counts: dict[str, Counter[MediaState]]  # account -> placeholders per status
    media_at_risk: list[MediaStatus]  # the SOONEST_AT_RISK of each account (media_counts has them all), soonest first


def compute_status(conn: duckdb.DuckDBPyConnection, settings: Settings, as_of: datetime) -> StatusReport:
    """Coverage and alert of every month, backup due dates, media placeholders counted per status and the
    soonest at risk of each account: the placeholders in one scan."""
    accounts, months = _coverage(conn, settings, as_of)
    counts: dict[str, Counter[MediaState]] = {a.account_name: Counter() for a in accounts}
    soonest: list[tuple[Any, ...]] = []
    summary = _media_query(conn, settings, as_of, accounts, "retention_media_summary", soonest=SOONEST_AT_RISK)
    for account, status, n, at_risk in summary.fetchall():
        counts[account][status] = n
        soonest += [tuple(placeholder.values()) for placeholder in at_risk or []]
    at_risk = sorted(_statuses(soonest), key=lambda x: (x.expires_at, x.account_name, x.chat_name))
    return StatusReport(as_of, accounts, months, counts, at_risk)


def status_json(conn: duckdb.DuckDBPyConnection, settings: Settings, as_of: datetime, out: BinaryIO) -> None:
    """Write the document `lineoa status --json` prints (UTF-8): as_of, accounts, months, and every media
    placeholder."""
    accounts, months = _coverage(conn, settings, as_of)
    head = {
        "as_of": _iso(as_of),
        "accounts": [
            {
                "account_name": a.account_name,
                "last_bulk_backup_at": _iso(a.last_bulk_backup_at),
                "next_backup_due_by": _iso(a.next_backup_due_by),
            }
            for a in accounts
        ],
        "months": [
            {
                "account_name": m.account_name,
                "month": f"{m.month:%Y-%m}",
                "coverage": m.coverage,
                "alert": m.alert,
                "cutoff_at": _iso(m.cutoff_at),
                "final_at": _iso(m.final_at),
            }
            for m in months
        ],
        "media": [],
    }
    # Placeholders number hundreds of thousands: DuckDB writes them, an object per line, straight to a file,
    # and its bytes go out as the value of "media", the last key, a comma after each line but the last. No
    # Python object per placeholder.
    with tempfile.TemporaryDirectory(prefix="lineoa-status-") as scratch:
        media = Path(scratch) / "media.jsonl"
        _media_query(conn, settings, as_of, accounts, "retention_media_json", copy_to=media, copy_options=_LINES)
        out.write(json.dumps(head, ensure_ascii=False, separators=(",", ":"))[: -len("]}")].encode() + b"\n")
        with open(media, "rb") as lines:
            last = b""
            while chunk := lines.read(1 << 20):  # a line holds no line break: JSON escapes it
                out.write(last)
                last = chunk.replace(b"\n", b",\n")
        out.write(last[: -len(b",\n")] + b"\n]}\n" if last else b"]}\n")


def write_new_alerts(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    as_of: datetime,
    out: Path,
    raised: Path,
    lost_since: datetime | None = None,
    ingested_after: datetime | None = None,
) -> int:
    """Write to `out` the lines `alerts.jsonl` gets for the alerts at `as_of` not in `raised` (that file,
    JSON lines) at their level, raised at `as_of`, worst first; return how many.

    Every month and placeholder at risk, and those lost: every lost month (months are few, and one raised
    before is in `raised`); with `lost_since` (say, the previous check), a lost placeholder only if it was
    lost at or after it, or its export was ingested after `ingested_after` (default: `lost_since`), so a
    long-lost photo is not listed again at every check, but one in an old export added since is, once.
    DuckDB builds, filters and writes the placeholders' lines: none becomes a Python object.
    """
    accounts, months = _coverage(conn, settings, as_of)
    flagged = [m for m in months if m.alert != "ok"]
    for statement in statements("retention_alert_macros"):
        conn.execute(statement)
    row = _media_query(
        conn,
        settings,
        as_of,
        accounts,
        "retention_alerts_new",
        copy_to=out,
        copy_options=_LINES,  # spaced as json.dumps spaces them
        lost_since=lost_since,
        ingested_after=ingested_after or lost_since,
        raised=str(raised),
        at=json.dumps(as_of.isoformat()),
        month_accounts=[m.account_name for m in flagged],
        month_keys=[f"{m.month:%Y-%m}" for m in flagged],
        month_levels=[m.alert for m in flagged],
        month_cutoffs=[m.cutoff_at for m in flagged],
        month_lines=[json.dumps(_month_record(m, as_of), ensure_ascii=False) for m in flagged],
    ).fetchone()
    return int(row[0]) if row else 0


def _month_record(m: MonthStatus, at: datetime) -> dict[str, Any]:
    """A month's alert as a record of `alerts.jsonl`, raised at `at`."""
    return {
        "at": _iso(at),
        "account_name": m.account_name,
        "subject": "month",
        "month": f"{m.month:%Y-%m}",
        "level": m.alert,
        "cutoff_at": _iso(m.cutoff_at),
        "final_at": _iso(m.final_at),
        "message": _month_message(m),
    }


def latest_ingest(conn: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the warehouse last took in an export (None: never), for `write_new_alerts(ingested_after=)`."""
    row = conn.execute(load_sql("retention_latest_ingest")).fetchone()
    return row[0] if row else None


def _coverage(
    conn: duckdb.DuckDBPyConnection, settings: Settings, as_of: datetime
) -> tuple[list[AccountStatus], list[MonthStatus]]:
    """Every account and its months; the next backup is due by the earliest cutoff of a month not complete
    and not yet lost."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    rows = execute_with_literals(conn, load_sql("retention_accounts"), {"as_of": as_of}).fetchall()
    if not rows:
        return [], []
    names = [r[0] for r in rows]
    text = [settings.for_account(n).retention["one_to_one"].days("text") for n in names]
    params = {
        "as_of": as_of,
        "accounts": names,
        "offsets": [r[1] for r in rows],
        "days": [t[0] for t in text],
        "warns": [t[1] for t in text],
    }
    months = [
        MonthStatus(name, month, coverage, alert, cutoff.astimezone(_zone(off)), final.astimezone(_zone(off)))
        for name, month, off, coverage, alert, cutoff, final in execute_with_literals(
            conn, load_sql("retention_months"), params
        ).fetchall()
    ]
    accounts = []
    for name, offset, last in rows:
        due = [m.cutoff_at for m in months if m.account_name == name and m.coverage != "complete" and m.alert != "lost"]
        zone = _zone(offset)
        accounts.append(AccountStatus(name, zone, last.astimezone(zone) if last else None, min(due, default=None)))
    return accounts, months


def pending_media(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    as_of: datetime,
    account: str | None = None,
    within: timedelta | None = None,
) -> list[MediaStatus]:
    """Every placeholder not saved (of `account`, whose deadline is `within` of `as_of`), soonest deadline
    first: what `lineoa media pending` lists."""
    accounts, _ = _coverage(conn, settings, as_of)
    until = as_of + within if within is not None else None
    query = _media_query(conn, settings, as_of, accounts, "retention_media_pending", account=account, until=until)
    return _statuses(query.fetchall())


def placeholders_at(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    as_of: datetime,
    account: str,
    chat_key: str,
    local_from: datetime,
    local_to: datetime,
) -> list[MediaStatus]:
    """The placeholders of one chat (by its name key) sent in [local_from, local_to), naive local times of
    the account, in message order (`saved` ones included)."""
    accounts = [a for a in _coverage(conn, settings, as_of)[0] if a.account_name == account]
    params = {"account": account, "chat_key": chat_key, "local_from": f"{local_from}", "local_to": f"{local_to}"}
    if not accounts:
        return []
    return _statuses(_media_query(conn, settings, as_of, accounts, "retention_media_at", **params).fetchall())


def _statuses(rows: list[tuple[Any, ...]]) -> list[MediaStatus]:
    """MediaStatus of each row (message_id, account, chat, kind, status, offset, local sent, local expiry)."""
    found = []
    for message_id, account, chat, kind, status, offset, local_sent_at, local_expires_at in rows:
        zone = _zone(offset)
        sent, expires = local_sent_at.replace(tzinfo=zone), local_expires_at.replace(tzinfo=zone)
        found.append(MediaStatus(account, chat, sent, kind, status, expires, message_id))
    return found


def _media_query(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    as_of: datetime,
    accounts: list[AccountStatus],
    query: str,
    copy_to: Path | None = None,
    copy_options: str = "FORMAT json, ARRAY true",
    **extra: Any,
) -> duckdb.DuckDBPyConnection:
    """Run `sql/<query>.sql` over `media`: the placeholders sent by `as_of` with their status
    (`retention_media.sql`); with `copy_to`, its rows go to that file instead (a JSON array, unless
    `copy_options` say otherwise) and the result is their number."""
    cfg = [
        (
            a.account_name,
            chat_type,
            kind,
            *settings.for_account(a.account_name).retention[chat_type].days(kind),
        )
        for a in accounts
        for chat_type in CHAT_TYPES
        for kind in MEDIA_KINDS
    ]
    offsets = {a.account_name: _offset_minutes(a.zone) for a in accounts}
    params = {
        "as_of": as_of,
        "accounts": [c[0] for c in cfg],
        "chat_types": [c[1] for c in cfg],
        "kinds": [c[2] for c in cfg],
        "media_kinds": list(MEDIA_KINDS),
        "days": [c[3] for c in cfg],
        "warns": [c[4] for c in cfg],
        "offsets": [offsets[c[0]] for c in cfg],
        "offset_texts": [offset_text(_zone(offsets[c[0]])) for c in cfg],
        **extra,
    }
    for statement in statements("history_macros"):  # name_is: an account filter a NUL cannot cut short
        conn.execute(statement)
    sql = f"WITH media AS (\n{load_sql('retention_media')}\n)\n{load_sql(query)}"
    if copy_to:
        sql, params["copy_to"] = f"COPY ({sql}) TO $copy_to ({copy_options})", str(copy_to)
    return execute_with_literals(conn, sql, params)


def _month_message(m: MonthStatus) -> str:
    held = "only partly in a bulk backup" if m.coverage == "partial" else "in no bulk backup"
    if m.alert == "lost":
        return (
            f"{m.account_name}: {m.month:%Y-%m} is {held}, and LINE deleted the last of it at "
            f"{_short(m.final_at)}; what no backup holds is gone."
        )
    return (
        f"{m.account_name}: {m.month:%Y-%m} is {held}; LINE starts deleting it at {_short(m.cutoff_at)} "
        f"and has deleted all of it by {_short(m.final_at)}. Download a bulk backup now."
    )


def _short(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} {offset_text(when.tzinfo)}"


def offset_text(zone: tzinfo | None) -> str:
    """`+09:00`, as `datetime.isoformat` writes it."""
    return datetime(2000, 1, 1, tzinfo=zone).isoformat()[-6:]


def _offset_minutes(zone: tzinfo) -> int:
    offset = zone.utcoffset(None)
    assert offset is not None
    return int(offset.total_seconds()) // 60


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@cache
def _zone(offset_minutes: int) -> tzinfo:
    return timezone(timedelta(minutes=offset_minutes))
