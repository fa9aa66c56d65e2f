"""The language of each account's pages and exports, and the words they show in it.

An account's language is `--lang` when given, else its `[accounts."…"] language`, else the UI language of its
latest export (`_file_offsets.ui_language`, from the export's header), else the command line's. The words
(kinds of message, chat types, date lines with their weekday) go to SQL as the temp table `_account_labels`,
one row per account, so the pages and date lines are still drawn over whole tables.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from lineoa_pipeline.history.reader import query
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.language import N_, Language, command_language, language
from lineoa_pipeline.warehouse.sqlfiles import insert_rows, run_script

# What a media card or a note bubble says for each kind (the translators' source strings).
KIND_LABELS = {
    "photo": N_("Photo"),
    "video": N_("Video"),
    "voice": N_("Voice message"),
    "file": N_("File"),
    "sticker": N_("Sticker"),
    "location": N_("Location"),
    "unsent": N_("Unsent message"),
}
CHAT_TYPE_LABELS = {"one_to_one": N_("1:1 chat"), "group": N_("Group")}
# The fonts of each language's script first (Han characters look different in Japan and Taiwan), then the
# others', as names in any script may appear in any account's chats.
_FONTS = {
    "ja": '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans JP", "Noto Sans CJK JP", Meiryo',
    "zh-TW": '"PingFang TC", "Noto Sans TC", "Noto Sans CJK TC", "Microsoft JhengHei"',
    "th": '"Noto Sans Thai", Thonburi, "Leelawadee UI", Tahoma',
    "en": 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans"',
}


def font_stack(lang: Language) -> str:
    """The CSS font-family of a page in `lang`."""
    others = [fonts for code, fonts in _FONTS.items() if code != lang.code]
    return ", ".join([_FONTS[lang.code], *others, "sans-serif"])


def chat_type_label(lang: Language, chat_type: str) -> str:
    """`one_to_one` or `group` in words of `lang` (another value as it is)."""
    return lang.gettext(CHAT_TYPE_LABELS[chat_type]) if chat_type in CHAT_TYPE_LABELS else chat_type


def account_languages(
    conn: duckdb.DuckDBPyConnection, settings: Settings, forced: str | None = None
) -> dict[str, Language]:
    """Each account's language (see the module's docstring), for every account of the warehouse."""
    fallback = command_language(settings.language)
    return {
        account: language(forced or settings.for_account(account).language or detected or fallback)
        for account, detected in query(conn, "history_languages", {}).fetchall()
    }


def prepare_labels(conn: duckdb.DuckDBPyConnection, languages: dict[str, Language]) -> None:
    """Fill `_account_labels` (sql/history_labels.sql): each account's words, and its date lines' format."""
    run_script(conn, "history_labels")
    insert_rows(conn, "_account_labels", list(_label_rows(languages.items())))


def _label_rows(languages: Iterable[tuple[str, Language]]) -> Iterable[tuple]:
    for account, lang in languages:
        day_parts, weekdays = lang.day_parts()
        yield (
            account,
            lang.code,
            day_parts,
            weekdays,
            [lang.gettext(text) for text in KIND_LABELS.values()],
            list(KIND_LABELS),
            lang.gettext(N_("Not saved")),
            lang.gettext(N_("Not saved (LINE deletes it at {time})")),
        )


def common_language(languages: dict[str, Language], settings: Settings, forced: str | None = None) -> Language:
    """The language of a page about every account (the top index): theirs when they share one, else the
    command line's."""
    if forced:
        return language(forced)
    shared = {lang.code for lang in languages.values()}
    return language(shared.pop() if len(shared) == 1 else command_language(settings.language))
