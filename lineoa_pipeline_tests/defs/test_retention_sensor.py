"""The retention sensor against a real demo warehouse and a real webhook server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.retention.alerts import Webhook, deliver, read_records, slack_payload
from lineoa_pipeline.retention.digest import compose, pseudonym
from lineoa_pipeline.settings.config import WebhookError, webhook_url
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import ENGLISH
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.connection import publish_snapshot
from lineoa_pipeline_tests.helpers import IngestDir, jsonl, retention_tick
from lineoa_pipeline_tests.retention.channels import WEBHOOK_SECRET, Hook


@pytest.fixture
def data_dir(demo_warehouse: DataDir) -> Iterator[DataDir]:
    """The demo warehouse with no alert raised yet (each test starts from the same published snapshot)."""

    def clear() -> None:
        for path in (demo_warehouse.alerts, demo_warehouse.webhook_outbox):
            path.unlink(missing_ok=True)

    clear()
    yield demo_warehouse
    clear()  # other tests read the same demo warehouse


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.server.shutdown()


def test_each_alert_is_raised_once(data_dir: DataDir) -> None:
    first = retention_tick(data_dir)
    records = read_records(data_dir.alerts)
    assert records and len(first.run_requests) == 1
    assert {"at", "account_name", "subject", "level", "cutoff_at", "final_at", "message"} <= set(records[0])
    months = {(r["account_name"], r["month"], r["level"]) for r in records if r["subject"] == "month"}
    assert len(months) == len([r for r in records if r["subject"] == "month"])  # one line per month and level

    second = retention_tick(data_dir, first.cursor)
    assert second.run_requests == [] and second.skip_reason is not None
    assert read_records(data_dir.alerts) == records


def test_an_old_export_added_later_raises_its_lost_alerts_once(ingest_dir: IngestDir) -> None:
    # The sensor runs on the real clock: a chat from last week, then one from 800 days ago (a month and a
    # photo long lost) that a run stages before a check but publishes only after it.
    jst = timezone(timedelta(hours=9))
    today = datetime.now(jst).replace(tzinfo=None, microsecond=0)
    old = today - timedelta(days=800)

    def export(when: datetime, *contents: str) -> bytes:
        messages = [ChatMessage("User", "佐藤", when, content) for content in contents]
        return render_export("さくら整体院", messages, downloaded_at=when + timedelta(days=1))

    data_dir = ingest_dir.data_dir
    if lake.configured(data_dir) is not None:
        pytest.skip("a lake has no unpublished state: the sensor sees each commit")
    ingest_dir.drop("山田花子.csv", export(today - timedelta(days=7), "予約したいです"))
    ingest_dir.ingest()
    publish_snapshot(data_dir)
    first = retention_tick(data_dir)
    assert read_records(data_dir.alerts) == []

    ingest_dir.drop("佐藤.csv", export(old, "予約したいです", "写真を送信しました。"))
    ingest_dir.ingest()
    second = retention_tick(data_dir, first.cursor)  # still the snapshot without it
    assert second.run_requests == [] and read_records(data_dir.alerts) == []

    publish_snapshot(data_dir)
    third = retention_tick(data_dir, second.cursor)
    records = read_records(data_dir.alerts)
    lost = [r for r in records if r["level"] == "lost"]
    assert len(third.run_requests) == 1
    assert [(r["chat_name"], r["sent_at"]) for r in lost if r["subject"] == "media"] == [
        ("佐藤", old.replace(tzinfo=jst).isoformat())
    ]
    assert f"{old:%Y-%m}" in [r["month"] for r in lost if r["subject"] == "month"]
    keys = [(r["subject"], r.get("month") or r["message_id"], r["level"]) for r in records]
    assert len(keys) == len(set(keys))

    fourth = retention_tick(data_dir, third.cursor)
    assert fourth.run_requests == [] and read_records(data_dir.alerts) == records


def test_webhook_gets_text_and_blocks_and_never_leaks_its_url(
    data_dir: DataDir,
    hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", hook.url)
    retention_tick(data_dir)
    assert WEBHOOK_SECRET not in capfd.readouterr().err  # Dagster's log goes to stderr
    assert len(hook.bodies) == 1
    assert hook.bodies[0]["text"].startswith("LINE history:") and hook.bodies[0]["blocks"]
    assert len(hook.bodies[0]["blocks"]) <= 1 + 2 * len({r["account_name"] for r in read_records(data_dir.alerts)})
    assert not data_dir.webhook_outbox.exists()
    assert WEBHOOK_SECRET not in caplog.text and WEBHOOK_SECRET not in data_dir.alerts.read_text(encoding="utf-8")


def test_a_failing_webhook_is_retried_on_the_next_tick(
    data_dir: DataDir,
    hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", hook.url)
    hook.status = 500
    first = retention_tick(data_dir)
    assert "HTTP 500" in (logged := capfd.readouterr().err) and WEBHOOK_SECRET not in logged
    assert hook.bodies and first.run_requests  # the pipeline goes on: alerts are raised regardless
    assert read_records(data_dir.webhook_outbox) == read_records(data_dir.alerts)
    assert WEBHOOK_SECRET not in caplog.text and WEBHOOK_SECRET not in data_dir.webhook_outbox.read_text(
        encoding="utf-8"
    )
    waiting = slack_payload(compose(data_dir.webhook_outbox), ENGLISH)["blocks"]

    hook.status, hook.bodies = 200, []
    retention_tick(data_dir, first.cursor)
    assert len(hook.bodies) == 1 and not data_dir.webhook_outbox.exists()
    assert hook.bodies[0]["blocks"] == waiting  # the digest of all that waited


def test_a_hanging_webhook_times_out_and_keeps_the_alerts(hook: Hook, tmp_path: Path) -> None:
    hook.delay = 3.0
    record = RECORD
    started = time.monotonic()
    delivered, problem = deliver(
        tmp_path / "outbox.jsonl", jsonl(tmp_path / "new.jsonl", [record]), Webhook(hook.url, timeout=0.5)
    )
    assert delivered == 0 and problem and WEBHOOK_SECRET not in problem
    assert time.monotonic() - started < 2.9
    assert read_records(tmp_path / "outbox.jsonl") == [record]


# --- the webhook never leaks, never crashes a check, never loses an alert -------------------------------------

RECORD = {
    "account_name": "a",
    "subject": "month",
    "month": "2025-01",
    "level": "lost",
    "cutoff_at": "2026-01-01T00:00:00+09:00",
    "final_at": "2026-01-31T00:00:00+09:00",
    "message": "m",
}


@pytest.mark.parametrize(
    "url",
    [
        f"hooks.example.com/services/{WEBHOOK_SECRET}",
        f"http://hooks.example.com/{WEBHOOK_SECRET}",
        f"ftp://x/{WEBHOOK_SECRET}",
        "https://x:y/",
    ],
)
def test_an_unusable_webhook_url_is_refused_without_showing_it(
    data_dir: DataDir, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], url: str
) -> None:
    with pytest.raises(WebhookError) as refused:
        webhook_url(url)
    assert "LINEOA_ALERT_WEBHOOK" in str(refused.value) and WEBHOOK_SECRET not in str(refused.value)
    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", url)
    result = retention_tick(data_dir)  # a URL without a scheme used to raise, with the whole URL in the sensor's error
    logged = capfd.readouterr().err
    assert result.run_requests and "LINEOA_ALERT_WEBHOOK" in logged and WEBHOOK_SECRET not in logged
    assert read_records(data_dir.webhook_outbox) == read_records(data_dir.alerts)  # kept until the URL is fixed


def test_https_and_loopback_http_are_accepted() -> None:
    for url in (
        "https://hooks.slack.com/services/T/B/x",
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://[::1]/",
    ):
        assert webhook_url(url) == url
    assert webhook_url("") is None and webhook_url(None) is None


def test_the_command_line_refuses_an_unusable_webhook_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lineoa_pipeline.commands import cli

    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", f"hooks.example.com/{WEBHOOK_SECRET}")
    assert cli.main(["status", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "LINEOA_ALERT_WEBHOOK" in err and WEBHOOK_SECRET not in err and len(err.strip().splitlines()) == 1


def test_a_redirect_is_a_failure_and_keeps_the_alerts(hook: Hook, tmp_path: Path) -> None:
    hook.status = 301  # urllib would follow it with a GET, which /moved accepts: the alerts were lost
    delivered, problem = deliver(
        tmp_path / "outbox.jsonl", jsonl(tmp_path / "new.jsonl", [RECORD]), Webhook(hook.url, timeout=5)
    )
    assert delivered == 0 and problem and "301" in problem and WEBHOOK_SECRET not in problem
    assert hook.gets == [] and read_records(tmp_path / "outbox.jsonl") == [RECORD]


def test_a_delivery_takes_at_most_its_timeout_even_from_a_slow_receiver(hook: Hook, tmp_path: Path) -> None:
    hook.drip = 0.2  # every read gets a byte well within the timeout, the whole answer takes 4 s
    started = time.monotonic()
    delivered, problem = deliver(
        tmp_path / "outbox.jsonl", jsonl(tmp_path / "new.jsonl", [RECORD]), Webhook(hook.url, timeout=1.0)
    )
    assert time.monotonic() - started < 2.0
    assert delivered == 0 and problem and WEBHOOK_SECRET not in problem
    assert read_records(tmp_path / "outbox.jsonl") == [RECORD]


def test_names_from_an_export_cannot_ping_a_channel(tmp_path: Path) -> None:
    record = {
        **RECORD,
        "subject": "media",
        "account_name": "<!channel> & co",
        "chat_name": "<@U123>",
        "sent_at": "2025-12-01T10:00:00+09:00",
        "kind": "photo",
        "message": "<!channel> & co: the photo sent in <@U123> at 2026-01-01 10:00 is not saved",
    }
    payload = json.dumps(slack_payload(compose(jsonl(tmp_path / "alerts.jsonl", [record])), ENGLISH))
    assert "<!channel>" not in payload and "<@U123>" not in payload
    assert "&lt;!channel&gt; &amp; co" in payload and "&lt;@U123&gt;" in payload


def test_masked_names_reach_the_webhook_as_stable_pseudonyms(
    data_dir: DataDir, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", hook.url)
    settings = data_dir.settings_file.read_text(encoding="utf-8")
    data_dir.settings_file.write_text('alert_names = "masked"\n' + settings, encoding="utf-8")
    try:
        retention_tick(data_dir)
    finally:
        data_dir.settings_file.write_text(settings, encoding="utf-8")
    media = [r for r in read_records(data_dir.alerts) if r["subject"] == "media"]
    assert media and all(r["chat_name"] in r["message"] for r in media)  # alerts.jsonl keeps the names
    sent = json.dumps(hook.bodies, ensure_ascii=False)
    for record in media:
        assert record["chat_name"] not in sent
        assert pseudonym(record["account_name"], record["chat_name"]) in sent
    assert pseudonym("a", "b") == pseudonym("a", "b") != pseudonym("a", "c")


def test_a_half_written_last_alert_line_is_repaired_not_fatal(
    data_dir: DataDir, capfd: pytest.CaptureFixture[str]
) -> None:
    first = retention_tick(data_dir)
    whole = data_dir.alerts.read_bytes()
    data_dir.alerts.write_bytes(whole + b'{"at": "2026-01-0')  # a crash in the middle of an append
    second = retention_tick(data_dir)  # used to fail on every tick from here on
    assert second.run_requests == [] and second.skip_reason is not None
    assert "alerts.jsonl: removed a half-written last line" in capfd.readouterr().err
    assert data_dir.alerts.read_bytes() == whole
    assert first.run_requests


def test_alerts_carry_no_message_text(data_dir: DataDir, hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", hook.url)
    retention_tick(data_dir)
    with duckdb.connect(str(data_dir.snapshot), read_only=True) as conn:
        texts = {r[0] for r in conn.execute("SELECT DISTINCT content FROM messages WHERE kind = 'text'").fetchall()}
    raised = data_dir.alerts.read_text(encoding="utf-8") + json.dumps(hook.bodies, ensure_ascii=False)
    assert len(texts) > 50 and hook.bodies
    assert [t for t in texts if len(t) >= 4 and t in raised] == []


def test_lineoa_run_raises_the_sensors_alerts_once_to_the_file_and_the_webhook(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As from cron: `lineoa run` and never the UI. The demo holds months at risk and a photo LINE deletes soon.
    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", hook.url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    data_dir = DataDir(tmp_path / "demo")
    write_demo_data(data_dir.root)
    assert cli.main(["run", "--data-dir", str(data_dir.root)]) == 0
    out = capsys.readouterr().out
    printed = [line for line in out.splitlines() if line.startswith("retention alert")]
    records = read_records(data_dir.alerts)
    assert {r["subject"] for r in records} == {"month", "media"}
    levels = {(r["account_name"], r["level"]) for r in records}
    assert len(printed) == len(levels)  # a line per account and level, not one per alert
    assert " is lost" not in out and " is at_risk" not in out  # the months' states stay in `lineoa status`
    assert len(hook.bodies) == 1 and WEBHOOK_SECRET not in out

    # The sensor, on the same warehouse, finds nothing new to raise: one code, one record per alert.
    assert retention_tick(data_dir).run_requests == []
    assert cli.main(["run", "--data-dir", str(data_dir.root)]) == 0
    assert "retention alert (" not in capsys.readouterr().out
    assert read_records(data_dir.alerts) == records and len(hook.bodies) == 1
