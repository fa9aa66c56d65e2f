"""Which language a person reads, and the catalogs: every source string translated in ja, zh_TW and th with the
same placeholders, the template in step with the code, and the compiled catalogs in step with the sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lineoa_pipeline.settings.config import SettingsError, parse_settings
from lineoa_pipeline.settings.language import LOCALE_DIR, command_language, language, language_code
from lineoa_pipeline_tests.helpers import ROOT

CATALOGS = ("ja", "zh_TW", "th")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[sr]|%[sr]")  # named fields, and argparse's own


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ja_JP.UTF-8", "ja"),
        ("ja", "ja"),
        ("zh_TW.UTF-8", "zh-TW"),
        ("zh-TW", "zh-TW"),
        ("zh_Hant_HK", "zh-TW"),
        ("zh_CN.UTF-8", None),
        ("th_TH.TIS-620", "th"),
        ("th_TH@calendar=buddhist", "th"),
        ("en_US.UTF-8", "en"),
        ("C", "en"),
        ("C.UTF-8", "en"),
        ("POSIX", "en"),
        ("fr_FR.UTF-8", None),
    ],
)
def test_language_codes_of_locale_names(name: str, code: str | None) -> None:
    assert language_code(name) == code


@pytest.mark.parametrize(
    ("setting", "environ", "code"),
    [
        ("auto", {"LANG": "ja_JP.UTF-8"}, "ja"),
        ("auto", {"LANG": "th_TH.UTF-8"}, "th"),
        ("auto", {"LANG": "zh_TW.UTF-8"}, "zh-TW"),
        ("auto", {"LANG": "C"}, "en"),
        ("auto", {}, "en"),
        ("auto", {"LC_ALL": "th_TH.UTF-8", "LC_MESSAGES": "ja_JP.UTF-8", "LANG": "zh_TW.UTF-8"}, "th"),
        ("auto", {"LC_ALL": "", "LC_MESSAGES": "ja_JP.UTF-8", "LANG": "zh_TW.UTF-8"}, "ja"),
        ("auto", {"LANG": "fr_FR.UTF-8"}, "en"),  # a language we do not speak: English, not the next variable
        ("zh-TW", {"LANG": "ja_JP.UTF-8"}, "zh-TW"),  # the setting wins over the locale
    ],
)
def test_the_command_lines_language(setting: str, environ: dict[str, str], code: str) -> None:
    assert command_language(setting, environ) == code


def test_the_language_setting_is_checked_and_read_as_a_language() -> None:
    assert parse_settings({}).language == "auto"
    assert parse_settings({"language": "zh_TW"}).language == "zh-TW"
    settings = parse_settings({"language": "ja", "accounts": {"Bangkok Spa": {"language": "th-TH"}}})
    assert settings.for_account("Bangkok Spa").language == "th"
    assert settings.for_account("other").language is None  # the top-level language is the command line's only
    for raw, key in [
        ({"language": "fr"}, "language"),
        ({"language": 1}, "language"),
        ({"accounts": {"Shop": {"language": "zh_CN"}}}, "accounts.Shop.language"),
    ]:
        with pytest.raises(SettingsError, match=rf"^{re.escape(key)}:"):
            parse_settings(raw)


def test_plurals_and_numbers_follow_the_language() -> None:
    en, ja, th = language("en"), language("ja"), language("th")
    assert en.ngettext("{count} message", "{count} messages", 1) == "1 message"
    assert en.ngettext("{count} message", "{count} messages", 12345) == "12,345 messages"
    assert ja.ngettext("{count} message", "{count} messages", 1) == "1件"
    assert th.ngettext("{count} message", "{count} messages", 2) == "2 ข้อความ"


def _source_messages() -> dict[str, tuple[str, ...]]:
    """Every string the package marks for translation (as `pybabel extract -F babel.cfg` finds them)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map):
        forms = message if isinstance(message, tuple) else (message,)
        found[forms[0]] = forms
    return found


def _catalog(path: Path, locale: str | None = None):
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def test_the_template_holds_every_string_of_the_code() -> None:
    source = _source_messages()
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(LOCALE_DIR / "lineoa.pot") if m.id}
    assert template == set(source), "run pybabel extract and update (README, Development)"


@pytest.mark.parametrize("lang", CATALOGS)
def test_every_string_is_translated_with_the_same_placeholders(lang: str) -> None:
    source = _source_messages()
    catalog = _catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "lineoa.po", lang)
    translated = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
    assert set(source) - set(translated) == set(), "strings missing from the catalog"
    assert set(translated) - set(source) == set(), "strings the code no longer has"
    for msgid, forms in source.items():
        message = translated[msgid]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert "fuzzy" not in message.flags, msgid
        assert all(strings), f"untranslated: {msgid!r}"
        wanted = {frozenset(PLACEHOLDER.findall(form)) for form in forms}
        for text in strings:
            assert frozenset(PLACEHOLDER.findall(text)) in wanted, f"{lang}: {text!r} for {msgid!r}"


def _plain(value: str | list[str] | tuple[str, ...]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


@pytest.mark.parametrize("lang", CATALOGS)
def test_the_compiled_catalog_is_the_source(lang: str) -> None:
    """The build compiles each .po; `uv sync` builds again when one changes (pyproject's cache-keys)."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    with (folder / "lineoa.mo").open("rb") as compiled:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(compiled) if m.id}
    po = {_plain(m.id): _plain(m.string) for m in _catalog(folder / "lineoa.po", lang) if m.id}
    assert mo == po, "the .mo is older than its .po: run uv sync"
