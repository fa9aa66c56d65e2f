"""LINE and e-mail alert channels against real receivers on loopback: LINE's push endpoint answered by an
HTTP listener (the SDK's host is a setting), and an aiosmtpd server with STARTTLS and login."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineoa_pipeline.retention.alerts import deliver, read_records
from lineoa_pipeline.retention.channels import (
    LINE_MESSAGES_LIMIT,
    LINE_TEXT_LIMIT,
    Email,
    LinePush,
    line_messages,
    push_channels,
)
from lineoa_pipeline.retention.digest import AccountDigest, compose, plain_text, pseudonym
from lineoa_pipeline.settings.config import SettingsError, parse_settings
from lineoa_pipeline.settings.language import ENGLISH
from lineoa_pipeline_tests.helpers import jsonl
from lineoa_pipeline_tests.retention.channels import (
    LINE_TOKEN,
    SMTP_PASSWORD,
    SMTP_USER,
    LineApi,
    SmtpServer,
)


@pytest.fixture
def line_api() -> Iterator[LineApi]:
    api = LineApi()
    yield api
    api.close()


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))  # the client verifies the server, as in production
    yield server
    server.close()


def photo(account: str, chat: str, n: int, level: str = "lost") -> dict[str, Any]:
    """An alert record of a photo, as `alerts.jsonl` holds it."""
    sent = f"2026-01-{1 + n % 28:02d}T10:{n % 60:02d}:00+09:00"
    expires = f"2026-01-{15 + n % 14:02d}T10:{n % 60:02d}:00+09:00"
    return {
        "at": "2026-02-01T00:00:00+00:00",
        "account_name": account,
        "subject": "media",
        "chat_name": chat,
        "sent_at": sent,
        "message_id": f"{account}-{chat}-{n}",
        "kind": "photo",
        "level": level,
        "cutoff_at": expires,
        "final_at": expires,
        "message": f"{account}: the photo sent in {chat} at {sent} …",
    }


def channels(line_url: str, smtp_port: int, masked: bool = False, locale: str | None = None) -> dict[str, Any]:
    settings = parse_settings(
        {
            "alert_names": "masked" if masked else "plain",
            "alerts": {
                "line_to": ["U0123456789abcdef0123456789abcdef", "C0123456789abcdef0123456789abcdef"],
                "line_api": line_url,
                "email_to": ["owner@example.jp", "staff@example.jp"],
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
            },
        }
    )
    env = {
        "LINEOA_LINE_CHANNEL_TOKEN": LINE_TOKEN,
        "LINEOA_SMTP_USER": SMTP_USER,
        "LINEOA_SMTP_PASSWORD": SMTP_PASSWORD,
        **({"LANG": locale} if locale else {}),
    }
    return {c.key: c for c in push_channels(settings, env)}


def test_line_and_email_each_get_one_digest(line_api: LineApi, smtp: SmtpServer, tmp_path: Path) -> None:
    records = [photo("さくら整体院", "ヨガ教室", n) for n in range(600)]
    records.append(photo("みどり歯科", "山田花子", 1, "at_risk"))
    found = channels(line_api.url, smtp.port)
    assert len(found) == 3  # two LINE recipients, one e-mail
    for key, channel in found.items():
        assert deliver(tmp_path / f"{key}.jsonl", jsonl(tmp_path / "new.jsonl", records), channel) == (
            len(records),
            None,
        )
    assert [p["to"] for p in line_api.pushes] == [
        "U0123456789abcdef0123456789abcdef",
        "C0123456789abcdef0123456789abcdef",
    ]
    assert all(len(p["messages"]) == 1 for p in line_api.pushes)  # 601 alerts: one short message
    text = line_api.pushes[0]["messages"][0]["text"]
    assert "600 media (600 photos) in 1 chat (ヨガ教室 600)" in text and "みどり歯科" in text
    assert "lineoa media pending" in text and text.count("\n  - ") == 4  # the first few items, not 601
    assert len(smtp.mailbox.messages) == 1 and smtp.mailbox.logins == [SMTP_USER]
    mail = smtp.mailbox.messages[0]
    assert mail["To"] == "owner@example.jp, staff@example.jp" and mail["Subject"].startswith("LINE history")
    assert mail.get_content().replace("\r\n", "\n").strip() == plain_text(
        compose(jsonl(tmp_path / "digest.jsonl", records)), ENGLISH, masked=False
    )


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("th_TH.UTF-8", ["ประวัติแชท LINE", "สื่อ 3 รายการ (รูปภาพ 3 รายการ)", "ใกล้ถูกลบ", "จะเริ่มลบเมื่อ"]),
        ("zh_TW.UTF-8", ["LINE 聊天紀錄", "3 個媒體檔案（3 張照片）", "即將刪除", "開始刪除"]),
        ("ja_JP.UTF-8", ["LINEのチャット履歴", "メディア3件（写真3件）", "削除間近", "削除を始めます"]),
    ],
)
def test_the_digest_speaks_the_operators_language(
    line_api: LineApi, smtp: SmtpServer, tmp_path: Path, locale: str, words: list[str]
) -> None:
    records = [photo("さくら整体院", "ヨガ教室", n, "at_risk") for n in range(3)]
    for key, channel in channels(line_api.url, smtp.port, locale=locale).items():
        assert deliver(tmp_path / f"{key}.jsonl", jsonl(tmp_path / "new.jsonl", records), channel) == (
            len(records),
            None,
        )
    mail = smtp.mailbox.messages[0]
    for text in (line_api.pushes[0]["messages"][0]["text"], f"{mail['Subject']}\n{mail.get_content()}"):
        assert all(word in text for word in words), [word for word in words if word not in text]
        assert "LINE starts deleting" not in text and "photos" not in text


def test_a_failed_channel_is_retried_without_repeating_the_others(
    line_api: LineApi, smtp: SmtpServer, tmp_path: Path
) -> None:
    found = channels(line_api.url, smtp.port)
    line = next(c for c in found.values() if isinstance(c, LinePush))
    email = found["email"]
    first = [photo("さくら整体院", "ヨガ教室", 1)]
    line_api.status = 500
    assert deliver(tmp_path / "line.jsonl", jsonl(tmp_path / "new.jsonl", first), line) == (0, "HTTP 500")
    assert deliver(tmp_path / "email.jsonl", jsonl(tmp_path / "new.jsonl", first), email) == (1, None)
    assert read_records(tmp_path / "line.jsonl") == first and not (tmp_path / "email.jsonl").exists()

    line_api.status = 200
    second = [photo("さくら整体院", "ヨガ教室", 2)]
    assert deliver(tmp_path / "line.jsonl", jsonl(tmp_path / "new.jsonl", second), line) == (
        2,
        None,
    )  # what waited and what is new
    assert deliver(tmp_path / "email.jsonl", None, email) == (0, None)  # e-mail took the first already
    assert len(line_api.pushes) == 1 and len(smtp.mailbox.messages) == 1
    assert "2 media (2 photos)" in line_api.texts()[0]


def test_secrets_never_reach_a_problem(line_api: LineApi, smtp: SmtpServer, tmp_path: Path) -> None:
    records = [photo("a", "b", 1)]
    wrong_token = LinePush("U1", line_api.url, "WRONG-TOKEN-SECRET")
    assert deliver(tmp_path / "line.jsonl", jsonl(tmp_path / "new.jsonl", records), wrong_token) == (0, "HTTP 401")
    no_token = LinePush("U1", line_api.url, "")
    assert deliver(tmp_path / "line.jsonl", None, no_token) == (0, "LINEOA_LINE_CHANNEL_TOKEN is not set")
    wrong_password = Email(("o@example.jp",), SMTP_USER, "127.0.0.1", smtp.port, SMTP_USER, "WRONG-PASSWORD-SECRET")
    delivered, problem = deliver(tmp_path / "email.jsonl", jsonl(tmp_path / "new.jsonl", records), wrong_password)
    assert delivered == 0 and problem and problem.startswith("SMTP login refused")
    assert "SECRET" not in problem and "WRONG" not in repr(wrong_password) + repr(wrong_token)
    assert smtp.mailbox.messages == [] and read_records(tmp_path / "email.jsonl") == records
    unreachable = LinePush("U1", "http://127.0.0.1:9", LINE_TOKEN)
    delivered, problem = deliver(tmp_path / "line.jsonl", None, unreachable)
    assert problem and problem.startswith("unreachable") and LINE_TOKEN not in problem


def test_email_is_never_sent_in_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = SmtpServer(tmp_path, tls=False)
    try:
        email = Email(("o@example.jp",), SMTP_USER, "127.0.0.1", server.port, SMTP_USER, SMTP_PASSWORD)
        delivered, problem = deliver(
            tmp_path / "email.jsonl", jsonl(tmp_path / "new.jsonl", [photo("a", "b", 1)]), email
        )
    finally:
        server.close()
    assert delivered == 0 and problem and "STARTTLS" in problem
    assert server.mailbox.messages == [] and server.mailbox.logins == []


def test_masked_names_cover_line_and_email(line_api: LineApi, smtp: SmtpServer, tmp_path: Path) -> None:
    records = [photo("さくら整体院", "山田花子", n) for n in range(3)]
    for key, channel in channels(line_api.url, smtp.port, masked=True).items():
        assert deliver(tmp_path / f"{key}.jsonl", jsonl(tmp_path / "new.jsonl", records), channel)[1] is None
    sent = json.dumps(line_api.pushes, ensure_ascii=False) + smtp.mailbox.messages[0].get_content()
    assert "山田花子" not in sent and pseudonym("さくら整体院", "山田花子") in sent


def test_a_line_push_stays_within_lines_limits(line_api: LineApi, tmp_path: Path) -> None:
    # 400 accounts with long names: far more than 5 messages of 5,000 characters.
    records = [photo(f"店舗{n:04d}" + "あ" * 200, "ヨガ教室", n) for n in range(400)]
    texts = line_messages(
        plain_text(compose(jsonl(tmp_path / "digest.jsonl", records)), ENGLISH, masked=False), ENGLISH
    )
    assert len(texts) == LINE_MESSAGES_LIMIT and all(len(t) <= LINE_TEXT_LIMIT for t in texts)
    assert texts[-1].endswith("`lineoa status` on the pipeline's machine")
    line = LinePush("U1", line_api.url, LINE_TOKEN)
    assert deliver(tmp_path / "line.jsonl", jsonl(tmp_path / "new.jsonl", records), line) == (400, None)
    assert [len(p["messages"]) for p in line_api.pushes] == [LINE_MESSAGES_LIMIT]


def test_alert_settings_are_checked() -> None:
    assert parse_settings({}).alerts.line_to == ()
    for raw, key in (
        ({"alerts": {"line_api": "http://api.example.com"}}, "alerts.line_api"),
        ({"alerts": {"email_to": ["o@example.jp"]}}, "alerts.smtp_host"),
        ({"alerts": {"smtp_port": 70000}}, "alerts.smtp_port"),
        ({"alerts": {"line_token": "x"}}, "alerts.line_token"),
    ):
        with pytest.raises(SettingsError, match=key):
            parse_settings(raw)


def test_a_damaged_outbox_line_is_skipped_and_said(tmp_path: Path) -> None:
    records = [photo("さくら整体院", "ヨガ教室", n) for n in range(3)]
    outbox = jsonl(tmp_path / "line.jsonl", records[:2])
    with open(outbox, "ab") as out:
        out.write(b'{"account_name": "x", "sub\n' + json.dumps(records[2]).encode() + b'\n{"half": ')
    got: list[list[AccountDigest]] = []

    class Refusing:
        key, label = "line", "LINE"

        def send(self, digests: list[AccountDigest]) -> str | None:
            got.append(digests)
            return "HTTP 500"

    logged: list[str] = []
    assert deliver(outbox, None, Refusing(), logged.append) == (0, "HTTP 500")
    assert logged == [
        "line.jsonl: removed a half-written last line (an interrupted write)",
        "line.jsonl: line 3 is damaged and was skipped",
    ]
    assert [level.count for level in got[0][0].levels] == [3] and read_records(outbox) == records


def test_loading_the_definitions_leaves_the_line_sdk_unimported() -> None:
    """The SDK's models take over a second to import: every `lineoa` command and code location would pay it,
    though only a LINE push needs it (which the tests above make, through the SDK)."""
    code = "import sys, lineoa_pipeline.definitions, lineoa_pipeline.commands.run; print('linebot' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
