"""`lineoa status`: the retention report of the published warehouse, as tables or as JSON."""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from lineoa_pipeline.history.labels import KIND_LABELS
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
from lineoa_pipeline.settings.language import N_, Language, language, operator_language
from lineoa_pipeline.warehouse.connection import connect

_AT_RISK_SHOWN = 10
_SEVERITY = {"lost": 0, "at_risk": 1, "ok": 2}
# The table's words for the JSON's values (in English, the values themselves, so that the two read alike)
_VALUES = {
    "complete": N_("complete"),
    "partial": N_("partial"),
    "missing": N_("missing"),
    "ok": N_("ok"),
    "at_risk": N_("at_risk"),
    "lost": N_("lost"),
}
_MEDIA_COUNTS = {
    "at_risk": N_("{count} at risk"),
    "lost": N_("{count} lost"),
    "pending": N_("{count} pending"),
    "saved": N_("{count} saved"),
}


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
            lang = operator_language(settings.language)
            out.write((printable_lines(render_table(compute_status(conn, settings, at), lang)) + "\n").encode())
    finally:
        conn.close()


def render_table(report: StatusReport, lang: Language | None = None) -> str:
    """A readable report in `lang` (default English), worst account first: its months at risk or lost, media
    about to expire, when to back up next and how long since the last bulk backup."""
    lang = lang or language("en")
    months: dict[str, list[MonthStatus]] = {a.account_name: [] for a in report.accounts}
    for m in report.months:
        months[m.account_name].append(m)
    at_risk: dict[str, list[MediaStatus]] = {a.account_name: [] for a in report.accounts}
    for x in report.media_at_risk:
        at_risk[x.account_name].append(x)

    def badness(a: AccountStatus) -> tuple[Any, ...]:
        alerts = Counter(m.alert for m in months[a.account_name])
        due = a.next_backup_due_by or datetime.max.replace(tzinfo=UTC)
        media = report.media_counts[a.account_name]["at_risk"]
        return (-alerts["lost"], -alerts["at_risk"], -media, due, a.account_name)

    at = f"{_local(report.as_of)} {offset_text(report.as_of.tzinfo)}"
    out = [lang.gettext("Retention status as of {time}", time=at)]
    if not report.accounts:
        out.append(lang.gettext("No exports yet: put LINE bulk backups (.zip) in inbox/ and run `lineoa run`."))
    for a in sorted(report.accounts, key=badness):
        name = a.account_name
        lines = _account_lines(lang, report.as_of, a, months[name], report.media_counts[name], at_risk[name])
        out += ["", *lines]
    return "\n".join(out)


def _account_lines(
    lang: Language,
    as_of: datetime,
    account: AccountStatus,
    months: list[MonthStatus],
    counts: Counter[MediaState],
    at_risk: list[MediaStatus],
) -> list[str]:
    _ = lang.gettext
    zone = f"UTC{offset_text(account.zone)}"
    lines = [_("{account}  (times in {zone})", account=account.account_name, zone=zone)]
    last, due = account.last_bulk_backup_at, account.next_backup_due_by
    if last:
        lines.append(
            "  " + _("Last bulk backup:        {time}, {span} ago", time=_local(last), span=_span(lang, as_of - last))
        )
    else:
        lines.append("  " + _("Last bulk backup:        never"))
    if due is None:
        lines.append("  " + _("Next bulk backup due by: nothing left that a backup could save"))
    elif due <= as_of:
        span = _span(lang, as_of - due)
        lines.append(
            "  " + _("Next bulk backup due by: {time}, overdue by {span}: back up now", time=_local(due), span=span)
        )
    else:
        lines.append(
            "  " + _("Next bulk backup due by: {time}, in {span}", time=_local(due), span=_span(lang, due - as_of))
        )
    lines.append("  " + _("Months, worst first:"))
    table = [(_("month"), _("coverage"), _("alert"), _("LINE starts deleting"), _("all gone by"))]
    table += [
        (f"{m.month:%Y-%m}", _(_VALUES[m.coverage]), _(_VALUES[m.alert]), _local(m.cutoff_at), _local(m.final_at))
        for m in sorted(months, key=lambda m: (_SEVERITY[m.alert], m.month))
    ]
    lines += columns(table, indent=4)
    if counts.total():
        summary = lang.join([_(_MEDIA_COUNTS[s], count=counts[s]) for s in MEDIA_STATES])
        lines.append("  " + _("Media placeholders: {summary}", summary=summary))
    else:
        lines.append("  " + _("Media placeholders: none"))
    if at_risk:
        table = [(_("deleted at"), _("kind"), _("sent"), _("chat"))]
        table += [
            (_local(x.expires_at), _(KIND_LABELS[x.kind]), _local(x.sent_at), x.chat_name)
            for x in at_risk[:_AT_RISK_SHOWN]
        ]
        lines += columns(table, indent=4)
        if counts["at_risk"] > _AT_RISK_SHOWN:
            more = counts["at_risk"] - _AT_RISK_SHOWN
            lines.append("    " + _("… and {count} more at risk (`lineoa status --json` lists all)", count=more))
    return lines


def columns(rows: list[tuple[str, ...]], indent: int) -> list[str]:
    """Left-aligned columns; East Asian wide characters count as two."""
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        " " * indent + "  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]


def _width(text: str) -> int:
    """Columns on a terminal: East Asian wide characters take two, combining marks (Thai vowels and tones
    above and below) none."""
    return sum(
        0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _span(lang: Language, span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds >= 2 * 86400:
        return lang.ngettext("{count} day", "{count} days", seconds // 86400)
    if seconds >= 2 * 3600:
        return lang.ngettext("{count} hour", "{count} hours", seconds // 3600)
    return lang.ngettext("{count} minute", "{count} minutes", seconds // 60)


def _local(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M}"
