"""Property: whatever customers of several scripts write about themselves and each other (names with or
without a space, in any width, phone numbers of Japan, Taiwan and Thailand in any format and width, e-mail
addresses), no name, number or address survives a masked export in any format: not in a page, a cell, a
tag or a file name."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineoa_pipeline.history.export import export
from lineoa_pipeline.history.reader import Filters
from lineoa_pipeline.line_export.render import ChatMessage
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.history.sample import refresh, write_chat

ACCOUNT = "さくら整体院"
NAMES = [  # (family, given) in the scripts LINE's markets write
    ("山田", "花子"),
    ("鈴木", "一郎"),
    ("佐々木", "美咲"),
    ("陳", "怡君"),
    ("林", "志明"),
    ("สมชาย", "ใจดี"),
    ("วิไล", "ศรีสุข"),
    ("Somchai", "Jaidee"),
    ("Maria", "Santos"),
]
PHONE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
FORMATS = (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
SENTENCES = ("{}", "お電話は{}までお願いします", "請打{}聯絡我", "โทร {} ค่ะ", "mail: {} です", "{}さんの紹介です")
_SEPARATORS = re.compile(r"[\s\-−.()/+]")


def _width(text: str, wide: bool) -> str:
    """`text` in full width (every ASCII character's full-width form) when `wide`."""
    return "".join(chr(ord(c) + 0xFEE0) if wide and "!" <= c <= "~" else c for c in text)


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, its national digits): an example number of JP, TW or TH, formatted and written variously."""
    region = draw(st.sampled_from(("JP", "TW", "TH")))
    number = phonenumbers.example_number_for_type(region, draw(st.sampled_from(PHONE_TYPES)))
    written = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    written = written.replace("-", draw(st.sampled_from(("-", "−", ".", " ", "-"))))
    return _width(written, draw(st.booleans())), str(number.national_number)


@st.composite
def corpora(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]], list[str], list[str], str]:
    """(customer names, chat -> texts, phones' national digits, e-mail addresses, a tag)."""
    people = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
    names = [f"{family} {given}" if draw(st.booleans()) else family + given for family, given in people]
    digits, mails, chats = [], [], {}
    for name in names:
        texts = []
        for _ in range(draw(st.integers(1, 4))):
            what = draw(st.sampled_from(("phone", "mail", "name")))
            if what == "phone":
                value, national = draw(phones())
                digits.append(national)
            elif what == "mail":
                value = draw(st.from_regex(r"[a-z][a-z0-9._]{2,8}@(example|mail)\.(com|co\.jp|tw)", fullmatch=True))
                mails.append(value)
                value = _width(value, draw(st.booleans()))
            else:  # another customer, with or without the space, in any width and case
                family, given = people[draw(st.integers(0, len(people) - 1))]
                value = _width(draw(st.sampled_from((family + given, f"{family} {given}", f"{family}　{given}"))), True)
                value = value.upper() if draw(st.booleans()) else value
            texts.append(draw(st.sampled_from(SENTENCES)).format(value))
        chats[name] = texts
    phone, national = draw(phones())
    digits.append(national)
    return names, chats, digits, mails, f"VIP {names[-1]} {phone}"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _everything(folder: Path) -> str:
    """Every text a masked export holds: file names, pages, CSV and every workbook cell."""
    texts = [str(path.relative_to(folder)) for path in folder.rglob("*")]
    for path in folder.rglob("*"):
        if path.suffix in (".html", ".csv"):
            texts.append(path.read_text(encoding="utf-8-sig"))
            if path.suffix == ".csv":
                texts += [cell for row in csv.reader(io.StringIO(texts[-1])) for cell in row]
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            texts += [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v]
    return _fold("\n".join(texts))


@pytest.mark.slow
@settings(max_examples=25)  # each example a real ingest and three exports (~2 s)
@given(corpus=corpora())
def test_nothing_personal_survives_a_masked_export(tmp_path_factory: pytest.TempPathFactory, corpus: tuple) -> None:
    names, chats, digits, mails, tag = corpus
    tmp = tmp_path_factory.mktemp("corpus")
    data_dir = DataDir(tmp / "data")
    data_dir.create()
    start = datetime(2026, 1, 5, 9)
    for n, (name, texts) in enumerate(chats.items()):
        messages = [ChatMessage("User", name, start + timedelta(hours=n, minutes=i), t) for i, t in enumerate(texts)]
        write_chat(data_dir, ACCOUNT, name, messages, "2026-03-02 18:05")
    (data_dir.tags / "tags.csv").write_text(f"account_name,chat_name,tag\n{ACCOUNT},{names[0]},{tag}\n")
    refresh(data_dir)
    for fmt in ("html", "xlsx", "csv"):
        export(data_dir, tmp / fmt, fmt, Filters(), mask=True, settings=Settings())
        found = _everything(tmp / fmt)
        bare, digits_only = re.sub(r"\s", "", found), _SEPARATORS.sub("", found)
        for name in names:
            assert re.sub(r"\s", "", _fold(name)) not in bare, (fmt, name)
        for number in digits:
            assert number not in digits_only, (fmt, number)
        for mail in mails:
            assert mail not in found and mail.split("@")[0] + "@" not in found, (fmt, mail)
