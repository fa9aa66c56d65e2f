"""`lineoa export --mask`: every everyday form of a phone number, e-mail address, LINE link or handle, in
Japanese, Chinese and Thai sentences, and every customer's name wherever it stands (another chat, a tag, a
name written with a space or in full width), read back from real masked exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from lineoa_pipeline.history.export import export
from lineoa_pipeline.history.reader import Filters
from lineoa_pipeline.line_export.render import ChatMessage
from lineoa_pipeline.settings.config import Settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.history.sample import refresh, write_chat

ACCOUNT = "さくら整体院"
FORMS = {  # as customers write them -> what the masked export shows
    "０９０－１２３４－５６７８": "[電話]",  # full width
    "090−1234−5678": "[電話]",  # U+2212 minus signs
    "(03)1234-5678": "[電話]",
    "090(1234)5678": "[電話]",
    "090.1234.5678": "[電話]",
    "+886 912 345 678": "[電話]",
    "+66 81 234 5678": "[電話]",
    "0912-345-678": "[電話]",  # a Taiwanese mobile, written domestically
    "081-234-5678": "[電話]",  # a Thai mobile, written domestically
    "ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ": "[メール]",  # full width
    "hanako.y+line@example.co.jp": "[メール]",
    "https://line.me/ti/p/~yamada_h": "[URL]",
    "line.me/ti/p/AbCdEfGh12": "[URL]",
    "ｌｉｎｅ．ｍｅ／ｔｉ／ｐ／～ｙａｍａｄａ": "[URL]",
    "@yamada_h": "[URL]",
    "www.example.com/shop?id=7": "[URL]",
}
SENTENCES = {  # the three scripts the accounts write in, the value right against the words
    "ja": "ご連絡は{}までお願いします",
    "zh": "請打{}聯絡我，謝謝",
    "th": "ติดต่อได้ที่ {} ค่ะ",
}
# Customers, and what they write about each other: names in another chat, with a space, in another width.
HANAKO, ICHIRO, SOMCHAI = "山田花子", "鈴木一郎", "Somchai Jaidee"
NAMED = {
    "山田花子さんの紹介で来ました": "顧客0001さんの紹介で来ました",
    "山田 花子さんと一緒に伺います": "顧客0001さんと一緒に伺います",
    "友人のＳＯＭＣＨＡＩ　ＪＡＩＤＥＥも": "友人の顧客0003も",
    "somchaijaidee said hi": "顧客0003 said hi",
    "Somchai Jaideeland is a place": "Somchai Jaideeland is a place",  # not the name: it runs on
    "予約は2026-04-28 14:00、注文番号12345678": "予約は2026-04-28 14:00、注文番号12345678",
}
TAG = f"VIP {HANAKO} 090-1111-2222"


def _messages(texts: list[str], sender: str, start: datetime) -> list[ChatMessage]:
    return [ChatMessage("User", sender, start + timedelta(minutes=i), text) for i, text in enumerate(texts)]


@pytest.fixture(scope="module")
def masked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clinic whose three customers write every form and each other's names, exported masked three ways."""
    tmp = tmp_path_factory.mktemp("mask")
    data_dir = DataDir(tmp / "data")
    data_dir.create()
    forms = [sentence.format(form) for form in FORMS for sentence in SENTENCES.values()]
    chats = {
        HANAKO: _messages(["初めまして"], HANAKO, datetime(2026, 1, 1, 9)),
        ICHIRO: _messages([*forms, *NAMED], ICHIRO, datetime(2026, 1, 2, 9)),
        SOMCHAI: _messages(["hello"], SOMCHAI, datetime(2026, 1, 3, 9)),
    }
    for chat, messages in chats.items():
        write_chat(data_dir, ACCOUNT, chat, messages, "2026-03-02 18:05")
    (data_dir.tags / "tags.csv").write_text(f"account_name,chat_name,tag\n{ACCOUNT},{HANAKO},{TAG}\n")
    refresh(data_dir)
    for fmt in ("csv", "html", "xlsx"):
        export(data_dir, tmp / fmt, fmt, Filters(), mask=True, settings=Settings())
    for lang in ("th", "zh-TW", "en"):  # the same account's export in another language
        export(data_dir, tmp / f"csv-{lang}", "csv", Filters(), mask=True, settings=Settings(), lang=lang)
    return tmp


def _contents(masked: Path, folder: str = "csv") -> list[str]:
    (path,) = (masked / folder).glob("*.csv")
    return [row[6] for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))][1:]


@pytest.mark.parametrize("script", SENTENCES)
@pytest.mark.parametrize("form", FORMS)
def test_every_form_is_masked_in_every_script(masked: Path, form: str, script: str) -> None:
    assert SENTENCES[script].format(FORMS[form]) in _contents(masked)


@pytest.mark.parametrize("text", NAMED)
def test_customers_are_masked_in_every_chat(masked: Path, text: str) -> None:
    assert NAMED[text] in _contents(masked)


def test_tags_are_masked_in_the_index_and_the_workbook(masked: Path) -> None:
    (index,) = (masked / "html").glob("*/index.html")
    page = index.read_text(encoding="utf-8")
    assert "VIP 顧客0001 [電話]" in page and HANAKO not in page and "1111" not in page
    book = openpyxl.load_workbook(next((masked / "xlsx").glob("*.xlsx")), read_only=True)
    tags = {row[3] for row in book["チャット"].iter_rows(min_row=2, values_only=True)}  # a Japanese account's sheet
    assert "VIP 顧客0001 [電話]" in tags and not any(HANAKO in str(tag) for tag in tags)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("th", ["ลูกค้า0001", "[เบอร์โทร]", "[อีเมล]", "[ลิงก์]"]),
        ("zh-TW", ["客戶0001", "[電話]", "[電子郵件]", "[網址]"]),
        ("en", ["Customer0001", "[Phone]", "[E-mail]", "[URL]"]),
    ],
)
def test_aliases_and_tokens_are_in_the_pages_language(masked: Path, lang: str, words: list[str]) -> None:
    text = "\n".join(_contents(masked, f"csv-{lang}"))
    assert all(word in text for word in words), [word for word in words if word not in text]
    japanese = ["顧客", "[メール]", *(["[電話]"] if lang != "zh-TW" else [])]  # Chinese writes 電話 alike
    assert not any(word in text for word in japanese)
