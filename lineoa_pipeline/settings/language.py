"""The language a person reads: which one, its message catalog, and numbers, plurals and dates as it writes them.

Messages are gettext catalogs managed with Babel (`locale/<lang>/LC_MESSAGES/lineoa.po`, compiled to `.mo`
by the build); the source strings are English, which is also what a missing catalog falls back to. Named
placeholders (`{count}`) are filled after translation, so a translator may move them; whole numbers are
written as the language writes them.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal

LANGUAGES = ("ja", "zh-TW", "th", "en")
DEFAULT = "en"
AUTO = "auto"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "lineoa"
# The locale variables that choose the language of messages, in the order POSIX reads them: the first set wins.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
# Babel's locale for each language (plural rules, digits, weekday names), and its catalog's folder
_BABEL = {"ja": "ja", "zh-TW": "zh_Hant_TW", "th": "th", "en": "en"}
_CATALOG = {"ja": "ja", "zh-TW": "zh_TW", "th": "th", "en": "en"}
_TRADITIONAL = {"tw", "hant", "hk", "mo"}  # a Chinese locale written in traditional characters
DAY_SKELETON = "yMEd"  # a date line in a transcript: 2026/2/27(金), 2026/2/27（週五）, ศุกร์ 27/2/2026
FIELD_MARK = "\x01"  # starts a field among `day_parts` (SQL's `local_day` fills it in)
# CLDR date fields, by letter and width, as `local_day` (sql/history_macros.sql) names them
_FIELDS = {("y", 1): "y", ("y", 4): "y", ("M", 1): "M", ("M", 2): "MM", ("d", 1): "d", ("d", 2): "dd", ("E", 1): "E"}


def N_(message: str) -> str:  # the name gettext tools look for
    """Mark `message` for the catalogs where it is defined; it is translated where it is shown."""
    return message


def language_code(name: str) -> str | None:
    """`ja`, `zh-TW`, `th` or `en` for a language tag or a POSIX locale name (`ja_JP.UTF-8`, `zh-TW`,
    `zh_Hant_TW`, `th_TH@calendar=buddhist`, `C`); None for any other language."""
    base = name.split(".")[0].split("@")[0].replace("-", "_").strip()
    if base in ("C", "POSIX"):
        return "en"
    first, *rest = base.lower().split("_")
    if first == "zh":
        return "zh-TW" if _TRADITIONAL & set(rest) else None
    return first if first in _BABEL else None


def command_language(setting: str = AUTO, environ: Mapping[str, str] = os.environ) -> str:
    """The command line's and the alerts' language: the `language` setting, else the locale (the first of
    LC_ALL, LC_MESSAGES, LANG that is set), else English. A locale of another language means English."""
    if setting != AUTO:
        return setting
    for variable in LOCALE_VARIABLES:
        if environ.get(variable):
            return language_code(environ[variable]) or DEFAULT
    return DEFAULT


@dataclass(frozen=True)
class Language:
    """One language's messages (`gettext`, `ngettext`), numbers and dates."""

    code: str

    @cached_property
    def catalog(self) -> gettext.NullTranslations:
        """The compiled catalog (English: none, the source strings)."""
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_CATALOG[self.code]], fallback=True)

    @property
    def babel_locale(self) -> str:
        return _BABEL[self.code]

    def gettext(self, message: str, /, **values: object) -> str:
        """`message` in this language, its `{placeholders}` filled (whole numbers written as it writes them)."""
        return self._fill(self.catalog.gettext(message), values)

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        """The form of `singular`/`plural` this language uses for `count` (its plural rules), `{count}` and
        the other placeholders filled."""
        return self._fill(self.catalog.ngettext(singular, plural, count), {"count": count, **values})

    def number(self, value: int | float) -> str:
        """`value` as this language writes numbers."""
        return _decimal(value, self.babel_locale)

    def join(self, items: list[str]) -> str:
        """A list in a sentence, as the language joins one (`a, b, and c`; `a、b、c`)."""
        return format_list(items, locale=self.babel_locale)

    def day_parts(self) -> tuple[list[str], list[str]]:
        """A date line of the chat screen (CLDR's DAY_SKELETON: the date with its weekday), for SQL to write
        over a whole table (`local_day` in sql/history_macros.sql): its pattern as literal text and fields
        (FIELD_MARK + y, M, MM, d, dd or E), and the weekday names, Monday first."""
        # imported here: babel.dates finds the machine's time zone on import (~35 ms of every command)
        from babel.dates import match_skeleton, tokenize_pattern

        locale = Locale.parse(self.babel_locale)
        pattern = locale.datetime_skeletons[match_skeleton(DAY_SKELETON, locale.datetime_skeletons)].pattern
        parts = [
            value if kind == "chars" else FIELD_MARK + _FIELDS[value[0], value[1] if value[0] != "E" else 1]
            for kind, value in tokenize_pattern(pattern)
        ]
        names = locale.days["format"]["abbreviated"]
        return parts, [names[i] for i in range(7)]

    def _fill(self, text: str, values: Mapping[str, object]) -> str:
        if not values:
            return text
        shown = {k: self.number(v) if type(v) is int else v for k, v in values.items()}
        return text.format(**shown)


@lru_cache(maxsize=4096, typed=True)  # typed: 1 and 1.0 are remembered apart
def _decimal(value: int | float, locale: str) -> str:
    """Babel's decimal, remembered: it takes ~25 µs, and the 55,000 pages and index rows of a large account
    show a few hundred distinct counts."""
    return format_decimal(value, locale=locale)


@cache
def language(code: str) -> Language:
    """The `Language` of one of LANGUAGES (its catalog read once per process)."""
    if code not in _BABEL:
        raise ValueError(f"unknown language {code!r} (known: {', '.join(LANGUAGES)})")
    return Language(code)


ENGLISH = language(DEFAULT)  # the source strings: what a channel made without a language speaks


def operator_language(setting: str = AUTO, environ: Mapping[str, str] = os.environ) -> Language:
    """The `Language` of the command line and the alerts (`command_language`)."""
    return language(command_language(setting, environ))


class Told(Exception):
    """An error a person reads in one line: a catalog message (`N_`) and its named values. `str()` is the
    English line (logs, tests); `told(lang)` the line in a language."""

    def __init__(self, message: str, /, **values: object) -> None:
        self.message, self.values = message, values
        super().__init__(ENGLISH.gettext(message, **values))

    def told(self, lang: Language) -> str:
        return lang.gettext(self.message, **self.values)
