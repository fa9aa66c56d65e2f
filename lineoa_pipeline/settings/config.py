"""`lineoa.toml`: every setting with its default, validated so that a bad key or value names itself."""

from __future__ import annotations

import itertools
import os
import re
import tomllib
import urllib.parse
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lineoa_pipeline.line_export.formats import PLACEHOLDERS
from lineoa_pipeline.settings.hosts import is_loopback
from lineoa_pipeline.settings.language import AUTO, LANGUAGES, N_, Told, language_code
from lineoa_pipeline.settings.secrets import has_password, redact

DEFAULT_AUTO_REPLY_NAMES = (
    "応答メッセージ",
    "AI応答メッセージ",
    "Auto-response",
    "自動回應訊息",
    "AI 聊天機器人",
    "ข้อความตอบกลับอัตโนมัติ",
)
DEFAULT_API_SENDER_NAMES = ("Unknown",)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHAT_TYPES = ("one_to_one", "group")
# Placeholders of the files LINE deletes (retention.media and .file): saved by listing them in a manifest.
MEDIA_KINDS = ("photo", "video", "voice", "file")
MESSAGE_KINDS = (*MEDIA_KINDS, "sticker", "location", "unsent", "text")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
ALERT_NAMES = ("plain", "masked")
MAX_DAYS = 36_500  # a hundred years: beyond it a date overflows, and no plan keeps anything that long
MAX_SLA_MINUTES = 525_600  # a year
MAX_COUNT = 1_000_000  # chats a broadcast reaches, minutes of its window: beyond any account
MIN_TEXT_WARNING_DAYS = 7  # LINE lets an account create one bulk backup a week
_FIRST_YEAR = 2000  # before LINE existed: a typo, and each month is a partition


class SettingsError(Told, ValueError):
    """A setting in lineoa.toml that cannot be used; the message names the key (a catalog message)."""


@dataclass(frozen=True)
class Retention:
    """Days LINE keeps each kind of content in one chat type, and days of warning before each cutoff."""

    text: int
    media: int
    file: int
    warn_text: int
    warn_media: int
    warn_file: int

    def days(self, kind: str) -> tuple[int, int]:
        """(retention, warning) in days for a message kind: text, photo/video/voice, or file."""
        if kind == "file":
            return self.file, self.warn_file
        if kind in ("photo", "video", "voice"):
            return self.media, self.warn_media
        return self.text, self.warn_text


DEFAULT_RETENTION = {
    "one_to_one": Retention(365, 365, 365, 30, 30, 30),
    "group": Retention(365, 14, 7, 30, 3, 2),
}


@dataclass(frozen=True)
class AccountSettings:
    """The settings that may differ per account (`[accounts."name"]` overrides the top level)."""

    sla_minutes: int = 60
    auto_reply_names: tuple[str, ...] = DEFAULT_AUTO_REPLY_NAMES
    api_sender_names: tuple[str, ...] = DEFAULT_API_SENDER_NAMES
    placeholders: dict[str, str] = field(default_factory=lambda: dict(PLACEHOLDERS))
    retention: dict[str, Retention] = field(default_factory=lambda: dict(DEFAULT_RETENTION))
    # weekday index (0 = Monday) -> [(start_second, end_second)]; None means every hour counts
    business_hours: dict[int, list[tuple[int, int]]] | None = None
    holidays: tuple[date, ...] = ()
    chat_types: dict[str, str] = field(default_factory=dict)
    api_answers: bool = False  # `api` messages (not broadcasts) answer inquiries, as staff
    menu_texts: tuple[str, ...] = ()  # texts a rich-menu tap sends as the user
    broadcast_min_chats: int = 20  # an `api` message sent to this many chats ...
    broadcast_window_minutes: int = 10  # ... within this many minutes is a broadcast
    language: str | None = None  # its pages and exports; None: the UI language of its exports


@dataclass(frozen=True)
class LakeSettings:
    """`[warehouse]`: the warehouse as a DuckLake (catalog in PostgreSQL, data as Parquet under `data_path`,
    relative to the data directory when relative) instead of the embedded `warehouse.duckdb`."""

    catalog: str
    data_path: str
    writers: int = 2
    keep_snapshots_days: int = 30


@dataclass(frozen=True)
class AlertSettings:
    """`[alerts]`: the push channels besides the webhook. Their secrets come from the environment only."""

    line_to: tuple[str, ...] = ()  # LINE user or group IDs; token from LINEOA_LINE_CHANNEL_TOKEN
    line_api: str = "https://api.line.me"  # the Messaging API's host (https; plain http only to this machine)
    email_to: tuple[str, ...] = ()  # SMTP with STARTTLS; user and password from LINEOA_SMTP_USER/_PASSWORD
    email_from: str = ""  # the sender's address; empty: LINEOA_SMTP_USER
    smtp_host: str = ""
    smtp_port: int = 587


@dataclass(frozen=True)
class Settings:
    """Everything `lineoa.toml` can set, with the spec's defaults."""

    timezone: str = "Asia/Tokyo"
    first_month: date | None = None  # None ("auto"): the first month with data
    defaults: AccountSettings = field(default_factory=AccountSettings)
    accounts: dict[str, AccountSettings] = field(default_factory=dict)
    alert_names: str = "plain"  # "masked": chat names reach every push channel as stable pseudonyms
    warnings: tuple[str, ...] = ()  # settings that work but are probably not what was meant
    warehouse: LakeSettings | None = None  # None: the embedded warehouse.duckdb
    language: str = AUTO  # the command line's and the alerts': one of LANGUAGES, or auto (the locale)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    ui_allowed_hosts: tuple[str, ...] = ()  # host names `lineoa ui` answers besides loopback and its --host

    def for_account(self, account_name: str) -> AccountSettings:
        return self.accounts.get(account_name, self.defaults)


_ACCOUNT_KEYS = {
    "sla_minutes",
    "auto_reply_names",
    "api_sender_names",
    "placeholders",
    "retention",
    "business_hours",
    "chat_types",
    "api_answers",
    "menu_texts",
    "broadcast_min_chats",
    "broadcast_window_minutes",
}
# `language` at the top is the command line's; under [accounts."…"], that account's pages and exports
_TOP_KEYS = _ACCOUNT_KEYS | {
    "timezone",
    "first_month",
    "accounts",
    "alert_names",
    "warehouse",
    "language",
    "alerts",
    "ui_allowed_hosts",
}
_LAKE_KEYS = {"catalog", "data_path", "writers", "keep_snapshots_days"}
_ALERT_KEYS = {"line_to", "line_api", "email_to", "email_from", "smtp_host", "smtp_port"}
MAX_PORT = 65_535
# A host name or address as a browser writes it in `Host` (no scheme, port, path or wildcard).
_HOST_NAME = re.compile(r"^(\[[0-9a-f:.]+\]|[0-9a-z_]([0-9a-z_.-]*[0-9a-z_])?)\.?$", re.IGNORECASE)


def setting_warnings(settings: Settings, accounts: set[str]) -> list[str]:
    """What a run should say about settings that work but are probably not meant: a short warning window,
    and an `[accounts."…"]` section naming none of the warehouse's `accounts` (a typo applies nothing)."""
    unmatched = [
        f'[accounts."{name}"] matches no account in the warehouse (known: {", ".join(sorted(accounts))}); '
        "the name must equal the export's account name exactly"
        for name in sorted(settings.accounts)
        if accounts and name not in accounts
    ]
    return [*settings.warnings, *unmatched]


def load_settings(path: Path) -> Settings:
    """Read `lineoa.toml` (defaults when absent); raise SettingsError naming a bad key."""
    if not path.exists():
        return Settings()
    if not path.is_file():
        raise SettingsError(
            N_("{file} is a folder or a special file, not a settings file: remove or rename it"), file=path.name
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(N_("{file}: not valid TOML: {reason}"), file=path.name, reason=str(exc)) from exc
    except OSError as exc:
        raise SettingsError(N_("{file}: cannot be read ({reason})"), file=path.name, reason=str(exc.strerror)) from exc
    return parse_settings(raw)


def parse_settings(raw: dict[str, Any]) -> Settings:
    _no_unknown(raw, _TOP_KEYS, "")
    timezone = raw.get("timezone", Settings.timezone)
    try:
        ZoneInfo(_expect(timezone, str, "timezone"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(N_("timezone: unknown time zone {zone}"), zone=repr(timezone)) from exc
    first = _expect(raw.get("first_month", "auto"), str, "first_month")
    if first != "auto" and (
        not re.fullmatch(r"\d{4}-\d{2}", first) or not 1 <= int(first[5:]) <= 12 or int(first[:4]) < _FIRST_YEAR
    ):
        raise SettingsError(
            N_('first_month: expected "auto" or a month written YYYY-MM, from {year}-01 on, got {value}'),
            year=str(_FIRST_YEAR),
            value=repr(first),
        )
    alert_names = raw.get("alert_names", "plain")
    if alert_names not in ALERT_NAMES:
        raise SettingsError(N_('alert_names: expected "plain" or "masked", got {value}'), value=repr(alert_names))
    defaults = _account(raw, AccountSettings(), "")
    accounts = {}
    for name, table in _expect(raw.get("accounts", {}), dict, "accounts").items():
        _no_unknown(_expect(table, dict, f"accounts.{name}"), _ACCOUNT_KEYS | {"language"}, f"accounts.{name}.")
        accounts[name] = _account(table, defaults, f"accounts.{name}.")
        if "language" in table:
            accounts[name] = replace(accounts[name], language=_language(table["language"], f"accounts.{name}.language"))
    warnings = tuple(
        f"{prefix}retention.{chat_type}.warn.text = {r.warn_text}: under {MIN_TEXT_WARNING_DAYS} days, a warning "
        "may come too late, as LINE allows one bulk backup a week"
        for prefix, s in [("", defaults), *((f"accounts.{n}.", a) for n, a in accounts.items())]
        for chat_type, r in s.retention.items()
        if r.warn_text < MIN_TEXT_WARNING_DAYS and (prefix == "" or r != defaults.retention[chat_type])
    )
    start = None if first == "auto" else date(int(first[:4]), int(first[5:]), 1)
    warehouse = _lake(raw["warehouse"]) if "warehouse" in raw else None
    language = _language(raw.get("language", AUTO), "language")
    alerts = _alerts(raw.get("alerts", {}))
    hosts = tuple(_host(h) for h in _expect(raw.get("ui_allowed_hosts", []), list, "ui_allowed_hosts"))
    return Settings(
        timezone, start, defaults, accounts, alert_names, warnings, warehouse, language or AUTO, alerts, hosts
    )


def _language(value: Any, key: str) -> str | None:
    """One of LANGUAGES (a locale name such as `zh_TW` or `ja-JP` is read as its language); None for auto."""
    text = _expect(value, str, key)
    if text == AUTO:
        return None
    code = language_code(text)
    if code is None:
        raise SettingsError(ONE_OF, key=key, choices=", ".join((*LANGUAGES, AUTO)), value=repr(text))
    return code


WEBHOOK_ENV = "LINEOA_ALERT_WEBHOOK"  # the alerts' webhook URL (a secret): never in lineoa.toml


def private_url(value: str) -> bool:
    """Whether a secret may travel to `value`: https to a host, or plain http only to this machine (a test
    receiver). A malformed URL (a bad port) is not one."""
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a malformed port raises here, not in the middle of a delivery
    except ValueError:
        return False
    return (parts.scheme == "https" and bool(host)) or (parts.scheme == "http" and is_loopback(host))


class WebhookError(ValueError):
    """`LINEOA_ALERT_WEBHOOK` cannot be used; the message never holds the URL (it is a secret)."""


def webhook_url(value: str | None) -> str | None:
    """The webhook URL when set and usable: https, or http only to this machine (a test receiver).

    Anything else (no scheme, another scheme, plain http over the network, which would send the secret
    in clear) raises WebhookError with a message that names the variable, never its value."""
    if not value:
        return None
    if private_url(value):
        return value
    raise WebhookError(
        f"{WEBHOOK_ENV} must be an https:// URL (plain http only to this machine, for tests); "
        "the alerts wait in .webhook-outbox.jsonl until it is"
    )


def _alerts(raw: Any) -> AlertSettings:
    _no_unknown(_expect(raw, dict, "alerts"), _ALERT_KEYS, "alerts.")
    lists = {
        key: tuple(_expect(v, str, f"alerts.{key}") for v in _expect(raw.get(key, []), list, f"alerts.{key}"))
        for key in ("line_to", "email_to")
    }
    texts = {
        key: _expect(raw.get(key, getattr(AlertSettings, key)), str, f"alerts.{key}")
        for key in ("line_api", "email_from", "smtp_host")
    }
    if not private_url(texts["line_api"]):
        raise SettingsError(
            N_("alerts.line_api: expected an https:// URL (plain http only to this machine), got {value}"),
            value=repr(texts["line_api"]),
        )
    if lists["email_to"] and not texts["smtp_host"]:
        raise SettingsError(N_("alerts.smtp_host: required with alerts.email_to (the SMTP server that sends them)"))
    port = _at_least(raw.get("smtp_port", AlertSettings.smtp_port), 1, "alerts.smtp_port", MAX_PORT)
    return AlertSettings(
        lists["line_to"], texts["line_api"], lists["email_to"], texts["email_from"], texts["smtp_host"], port
    )


def _host(value: Any) -> str:
    if not _HOST_NAME.fullmatch(_expect(value, str, "ui_allowed_hosts")) or value in ("0.0.0.0", "[::]"):
        raise SettingsError(
            N_("ui_allowed_hosts: expected a host name such as 'lineoa.example.internal', got {value}"),
            value=repr(value),
        )
    return value.lower()


def _lake(raw: Any) -> LakeSettings:
    _no_unknown(_expect(raw, dict, "warehouse"), _LAKE_KEYS, "warehouse.")
    for key in ("catalog", "data_path"):
        if key not in raw:
            raise SettingsError(N_("warehouse.{key}: required with [warehouse]"), key=key)
    catalog = _expect(raw["catalog"], str, "warehouse.catalog")
    if has_password(catalog):  # a password in lineoa.toml would reach logs and backups: never echo it
        raise SettingsError(
            N_(
                "warehouse.catalog: a password (password=, user:password@ or ?password= in a URI) is refused here; "
                "set PGPASSWORD, or use a PostgreSQL service or password file (~/.pgpass)"
            )
        )
    if not catalog.startswith("postgres:"):
        raise SettingsError(
            N_("warehouse.catalog: expected a PostgreSQL catalog 'postgres:dbname=…', got {value}"),
            value=repr(redact(catalog)),
        )
    return LakeSettings(
        catalog,
        _data_path(_expect(raw["data_path"], str, "warehouse.data_path")),
        _at_least(raw.get("writers", 2), 1, "warehouse.writers"),
        _non_negative(raw.get("keep_snapshots_days", 30), "warehouse.keep_snapshots_days", MAX_DAYS),
    )


def _data_path(path: str) -> str:
    """`data_path` as given, when it cannot be a slip: the lake's maintenance deletes files under it, so a
    folder outside the data directory must be written as an absolute path, and never the root."""
    if "://" in path:  # object storage
        return path
    normal = os.path.normpath(os.path.expanduser(path)) if path.strip() else ""
    if not normal or Path(normal) == Path(normal).parent:
        raise SettingsError(
            N_("warehouse.data_path: {path} is the root or nothing: name the lake's own folder"), path=repr(path)
        )
    if not os.path.isabs(normal) and normal.split(os.sep)[0] == os.pardir:
        raise SettingsError(
            N_("warehouse.data_path: {path} leaves the data directory: write a folder outside it as an absolute path"),
            path=repr(path),
        )
    return path


def _account(raw: dict[str, Any], base: AccountSettings, prefix: str) -> AccountSettings:
    out = base
    if "sla_minutes" in raw:
        minutes = _non_negative(raw["sla_minutes"], prefix + "sla_minutes", MAX_SLA_MINUTES)
        out = replace(out, sla_minutes=minutes)
    for key in ("auto_reply_names", "api_sender_names", "menu_texts"):
        if key in raw:
            names = _expect(raw[key], list, prefix + key)
            out = replace(out, **{key: tuple(_expect(n, str, prefix + key) for n in names)})
    if "api_answers" in raw:
        out = replace(out, api_answers=_expect(raw["api_answers"], bool, prefix + "api_answers"))
    if "broadcast_min_chats" in raw:
        out = replace(out, broadcast_min_chats=_at_least(raw["broadcast_min_chats"], 2, prefix + "broadcast_min_chats"))
    if "broadcast_window_minutes" in raw:
        key = prefix + "broadcast_window_minutes"
        out = replace(out, broadcast_window_minutes=_at_least(raw["broadcast_window_minutes"], 1, key))
    if "placeholders" in raw:
        extra = _expect(raw["placeholders"], dict, prefix + "placeholders")
        for text, kind in extra.items():
            if kind not in MESSAGE_KINDS:
                raise SettingsError(
                    N_("{key}: unknown kind {kind}"), key=f"{prefix}placeholders.{text}", kind=repr(kind)
                )
        out = replace(out, placeholders={**base.placeholders, **extra})
    if "retention" in raw:
        out = replace(out, retention=_retention(raw["retention"], base.retention, prefix + "retention"))
    if "business_hours" in raw:
        # merged key by key with the global table: a weekday (or `holidays`) the account sets replaces it
        table = raw["business_hours"]
        hours, holidays = _business_hours(table, prefix + "business_hours")
        kept = {day: ranges for day, ranges in (base.business_hours or {}).items() if WEEKDAYS[day] not in table}
        out = replace(
            out,
            business_hours=dict(sorted({**kept, **hours}.items())),
            holidays=holidays if "holidays" in table else base.holidays,
        )
    if "chat_types" in raw:
        types = _expect(raw["chat_types"], dict, prefix + "chat_types")
        for chat, kind in types.items():
            if kind not in CHAT_TYPES:
                raise SettingsError(
                    ONE_OF, key=f"{prefix}chat_types.{chat}", choices=", ".join(CHAT_TYPES), value=repr(kind)
                )
        out = replace(out, chat_types={**base.chat_types, **types})
    return out


def _retention(raw: Any, base: dict[str, Retention], key: str) -> dict[str, Retention]:
    _no_unknown(_expect(raw, dict, key), set(CHAT_TYPES), key + ".")
    out = dict(base)
    for chat_type, table in raw.items():
        here = f"{key}.{chat_type}"
        _no_unknown(_expect(table, dict, here), {"text", "media", "file", "warn"}, here + ".")
        warn = _expect(table.get("warn", {}), dict, here + ".warn")
        _no_unknown(warn, {"text", "media", "file"}, here + ".warn.")
        old = base[chat_type]
        out[chat_type] = Retention(
            *(_non_negative(table.get(k, getattr(old, k)), f"{here}.{k}", MAX_DAYS) for k in ("text", "media", "file")),
            *(
                _non_negative(warn.get(k, getattr(old, "warn_" + k)), f"{here}.warn.{k}", MAX_DAYS)
                for k in ("text", "media", "file")
            ),
        )
    return out


def _business_hours(raw: Any, key: str) -> tuple[dict[int, list[tuple[int, int]]], tuple[date, ...]]:
    _no_unknown(_expect(raw, dict, key), {*WEEKDAYS, "holidays"}, key + ".")
    hours: dict[int, list[tuple[int, int]]] = {}
    for index, day in enumerate(WEEKDAYS):
        ranges = []
        for text in _expect(raw.get(day, []), list, f"{key}.{day}"):
            match = _RANGE.match(_expect(text, str, f"{key}.{day}"))
            if not match:
                raise SettingsError(
                    N_("{key}: malformed range {value} (expected HH:MM-HH:MM)"), key=f"{key}.{day}", value=repr(text)
                )
            h1, m1, h2, m2 = map(int, match.groups())
            start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
            if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or end > 86400 or start >= end:
                raise SettingsError(N_("{key}: malformed range {value}"), key=f"{key}.{day}", value=repr(text))
            ranges.append((start, end))
        ranges.sort()
        if any(a[1] > b[0] for a, b in itertools.pairwise(ranges)):
            raise SettingsError(N_("{key}: overlapping ranges {value}"), key=f"{key}.{day}", value=repr(raw[day]))
        if ranges:
            hours[index] = ranges
    holidays = []
    for text in _expect(raw.get("holidays", []), list, f"{key}.holidays"):
        if type(text) is date:  # a TOML date written bare (2026-01-01) means the same as "2026-01-01"
            holidays.append(text)
            continue
        try:
            holidays.append(date.fromisoformat(_expect(text, str, f"{key}.holidays")))
        except ValueError as exc:
            raise SettingsError(
                N_("{key}: not a date {value} (expected YYYY-MM-DD)"), key=f"{key}.holidays", value=repr(text)
            ) from exc
    return hours, tuple(sorted(holidays))


def _no_unknown(raw: dict[str, Any], known: set[str], prefix: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(
            N_("{key}: unknown setting (known: {known})"), key=f"{prefix}{unknown[0]}", known=", ".join(sorted(known))
        )


ONE_OF = N_("{key}: expected one of {choices}, got {value}")
# What a key of each type must hold, said whole (no fragment glued into a sentence)
_EXPECTED = {
    dict: N_("{key}: expected a table (key = value pairs), got {value}"),
    list: N_("{key}: expected a list [...], got {value}"),
    str: N_("{key}: expected text in quotes, got {value}"),
    int: N_("{key}: expected a whole number, got {value}"),
    bool: N_("{key}: expected true or false, got {value}"),
}


def _expect(value: Any, kind: type, key: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(_EXPECTED[kind], key=key, value=repr(value))
    return value


def _non_negative(value: Any, key: str, most: int) -> int:
    return _at_least(value, 0, key, most)


def _at_least(value: Any, least: int, key: str, most: int = MAX_COUNT) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise SettingsError(
            N_("{key}: expected a whole number from {least} to {most}, got {value}"),
            key=key,
            least=least,
            most=most,
            value=repr(value),
        )
    return value
