"""`lineoa status`: the retention report of the published warehouse, as tables or as JSON."""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from lineoa_pipeline.history.terminal import printable_lines
from lineoa_pipeline.retention.status import (
    MEDIA_STATES,
    AccountStatus,
    MediaState,
    MediaStatus,
    MonthStatus,
    StatusReport,
    compute_status,
    offset_text,
    status_json,
)
from lineoa_pipeline.settings.config import load_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.connection import connect

_AT_RISK_SHOWN = 10
_SEVERITY = {"lost": 0, "at_risk": 1, "ok": 2}


def run_status(data_dir: DataDir, as_of: datetime | None, as_json: bool, out: BinaryIO) -> None:
    """Write the report (UTF-8) as of `as_of` (default now; a naive time is in the settings' time zone), read
    through `connect()` so that it never waits for a run nor disturbs one. Raises NoWarehouseYet before any run."""
    settings = load_settings(data_dir.settings_file)
    zone = ZoneInfo(settings.timezone)
    at = datetime.now(zone) if as_of is None else as_of if as_of.tzinfo else as_of.replace(tzinfo=zone)
    conn = connect(data_dir.root)
    try:
        if as_json:
            status_json(conn, settings, at, out)
        else:
            out.write((printable_lines(render_table(compute_status(conn, settings, at))) + "\n").encode())
    finally:
        conn.close()


def render_table(report: StatusReport) -> str:
    """A readable report, worst account first: its months at risk or lost, media about to expire, when to
    back up next and how long since the last bulk backup."""
    months: dict[str, list[MonthStatus]] = {a.account_name: [] for a in report.accounts}
    for m in report.months:
        months[m.account_name].append(m)
    at_risk: dict[str, list[MediaStatus]] = {a.account_name: [] for a in report.accounts}
    for x in report.media_at_risk:
        at_risk[x.account_name].append(x)

    def badness(a: AccountStatus) -> tuple[Any, ...]:
        alerts = Counter(m.alert for m in months[a.account_name])
        due = a.next_backup_due_by or datetime.max.replace(tzinfo=UTC)
        return (-alerts["lost"], -alerts["at_risk"], -len(at_risk[a.account_name]), due, a.account_name)

    out = [f"Retention status as of {_local(report.as_of)} {offset_text(report.as_of.tzinfo)}"]
    if not report.accounts:
        out.append("No exports yet: put LINE bulk backups (.zip) in inbox/ and run `lineoa run`.")
    for a in sorted(report.accounts, key=badness):
        name = a.account_name
        out += ["", *_account_lines(report.as_of, a, months[name], report.media_counts[name], at_risk[name])]
    return "\n".join(out)


def _account_lines(
    as_of: datetime,
    account: AccountStatus,
    months: list[MonthStatus],
    counts: Counter[MediaState],
    at_risk: list[MediaStatus],
) -> list[str]:
    lines = [f"{account.account_name}  (times in UTC{offset_text(account.zone)})"]
    last, due = account.last_bulk_backup_at, account.next_backup_due_by
    lines.append(f"  Last bulk backup:        {f'{_local(last)}, {_span(as_of - last)} ago' if last else 'never'}")
    if due is None:
        lines.append("  Next bulk backup due by: nothing left that a backup could save")
    elif due <= as_of:
        lines.append(f"  Next bulk backup due by: {_local(due)}, overdue by {_span(as_of - due)}: back up now")
    else:
        lines.append(f"  Next bulk backup due by: {_local(due)}, in {_span(due - as_of)}")
    lines.append("  Months, worst first:")
    table = [("month", "coverage", "alert", "LINE starts deleting", "all gone by")]
    table += [
        (f"{m.month:%Y-%m}", m.coverage, m.alert, _local(m.cutoff_at), _local(m.final_at))
        for m in sorted(months, key=lambda m: (_SEVERITY[m.alert], m.month))
    ]
    lines += _columns(table, indent=4)
    summary = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in MEDIA_STATES)
    lines.append(f"  Media placeholders: {summary if counts.total() else 'none'}")
    if at_risk:
        table = [("deleted at", "kind", "sent", "chat")]
        table += [(_local(x.expires_at), x.kind, _local(x.sent_at), x.chat_name) for x in at_risk[:_AT_RISK_SHOWN]]
        lines += _columns(table, indent=4)
        if len(at_risk) > _AT_RISK_SHOWN:
            lines.append(f"    … and {len(at_risk) - _AT_RISK_SHOWN} more at risk (`lineoa status --json` lists all)")
    return lines


def _columns(rows: list[tuple[str, ...]], indent: int) -> list[str]:
    """Left-aligned columns; East Asian wide characters count as two."""
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        " " * indent + "  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"


def _local(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M}"
