"""One digest per account and run: a 30,000-photo account's `lineoa run` prints a line per level and sends one
message to each channel (webhook, LINE, e-mail on loopback); the daily schedule's run sends it once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest

from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.retention.alerts import read_records
from lineoa_pipeline.retention.digest import compose, terminal_lines
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import ENGLISH, language
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.connection import publish_snapshot
from lineoa_pipeline_tests.helpers import IngestDir, jsonl, retention_tick
from lineoa_pipeline_tests.retention.channels import LINE_TOKEN, SMTP_PASSWORD, SMTP_USER, Hook, LineApi, SmtpServer

JST = timezone(timedelta(hours=9))
PHOTO = "写真を送信しました。"


@pytest.fixture
def receivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Hook, LineApi, SmtpServer]]:
    hook, line, smtp = Hook(), LineApi(), SmtpServer(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp.cert))
    monkeypatch.setenv("LINEOA_ALERT_WEBHOOK", hook.url)
    monkeypatch.setenv("LINEOA_LINE_CHANNEL_TOKEN", LINE_TOKEN)
    monkeypatch.setenv("LINEOA_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("LINEOA_SMTP_PASSWORD", SMTP_PASSWORD)
    yield hook, line, smtp
    hook.server.shutdown()
    line.close()
    smtp.close()


def with_channels(data_dir: DataDir, line: LineApi, smtp: SmtpServer) -> None:
    table = (
        f'[alerts]\nline_to = ["U0123456789abcdef0123456789abcdef"]\nline_api = "{line.url}"\n'
        f'email_to = ["owner@example.jp"]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
    )
    old = data_dir.settings_file.read_text(encoding="utf-8") if data_dir.settings_file.exists() else ""
    data_dir.settings_file.write_text(table + old, encoding="utf-8")  # [warehouse] (a lake) stays after it


def group_chat(chat: str, start: datetime, photos: int) -> bytes:
    """A group chat (two customers) of `photos` photos, one every 10 seconds from `start` (local time)."""
    messages = [
        ChatMessage("User", "佐藤" if n % 2 else "鈴木", start + timedelta(seconds=10 * n), PHOTO)
        for n in range(photos)
    ]
    return render_export("さくら整体院", messages, downloaded_at=start + timedelta(days=1))


@pytest.mark.slow
def test_a_30000_photo_account_gets_a_handful_of_lines_and_one_message_per_channel(
    pipeline_dir: DataDir, receivers: tuple[Hook, LineApi, SmtpServer]
) -> None:
    hook, line, smtp = receivers
    with_channels(pipeline_dir, line, smtp)
    now = datetime.now(JST).replace(tzinfo=None, microsecond=0)
    for n, chat in enumerate(("ヨガ教室火曜", "ヨガ教室木曜", "ピラティス")):
        pipeline_dir.inbox.joinpath(f"{chat}.csv").write_bytes(group_chat(chat, now - timedelta(days=60 + n), 10_000))
    pipeline_dir.inbox.joinpath("ストレッチ.csv").write_bytes(group_chat("ストレッチ", now - timedelta(days=12), 50))
    printed: list[str] = []
    assert run_pipeline(pipeline_dir, say=printed.append).ok
    records = read_records(pipeline_dir.alerts)
    assert sum(r["subject"] == "media" and r["level"] == "lost" for r in records) == 30_000
    assert sum(r["level"] == "at_risk" for r in records) == 50
    lines = [p for p in printed if "retention" in p]
    assert len(lines) == 2, lines  # lost and at risk: a line each, not one per photo
    assert "30,000 media (30,000 photos) in 3 chats" in lines[0] and "lineoa media pending" in lines[1]
    assert len(hook.bodies) == 1 and len(line.pushes) == 1 and len(smtp.mailbox.messages) == 1
    assert len(line.pushes[0]["messages"]) == 1 and len(hook.bodies[0]["blocks"]) <= 3
    assert not list(pipeline_dir.root.glob(".*-outbox.jsonl"))

    printed.clear()
    assert run_pipeline(pipeline_dir, say=printed.append).ok  # nothing new: nothing printed, nothing sent
    assert [p for p in printed if "retention" in p] == []
    assert len(hook.bodies) == 1 and len(line.pushes) == 1 and len(smtp.mailbox.messages) == 1


def test_the_daily_schedules_run_sends_the_digest_once(
    ingest_dir: IngestDir, receivers: tuple[Hook, LineApi, SmtpServer], dagster_home: Path
) -> None:
    hook, line, smtp = receivers
    data_dir = ingest_dir.data_dir
    with_channels(data_dir, line, smtp)
    now = datetime.now(JST).replace(tzinfo=None, microsecond=0)
    ingest_dir.drop("ヨガ教室.csv", group_chat("ヨガ教室", now - timedelta(days=30), 20))
    ingest_dir.ingest()
    if lake.configured(data_dir) is None:
        publish_snapshot(data_dir)
    defs = build_defs(data_dir)
    schedule = defs.resolve_schedule_def("daily_retention_schedule")
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime.now(JST))
        request = schedule.evaluate_tick(context).run_requests
        assert request and len(request) == 1
        job = defs.resolve_job_def(schedule.job_name)
        for _ in range(2):  # the same schedule on the next day: nothing new, nothing sent
            result = job.execute_in_process(instance=instance, tags=request[0].tags, run_config=request[0].run_config)
            assert result.success
    assert len(hook.bodies) == 1 and len(line.pushes) == 1 and len(smtp.mailbox.messages) == 1
    assert retention_tick(data_dir).run_requests == []  # the sensor finds the same alerts raised: none sent again
    assert len(hook.bodies) == 1
    checks = {e.check_name: e.metadata for e in result.get_asset_check_evaluations()}
    assert checks["media_not_at_risk"]["per_account"].value == [
        {"account_name": "さくら整体院", "at_risk": 0, "lost": 20}
    ]
    digest = terminal_lines(compose(data_dir.alerts), ENGLISH)
    assert len(digest) == 1 and "20 media (20 photos) in 1 chat (ヨガ教室 20)" in digest[0]


def test_months_are_counted_with_their_range(tmp_path: Path) -> None:
    record = {
        "account_name": "a",
        "subject": "month",
        "month": "2025-01",
        "level": "at_risk",
        "cutoff_at": "2026-01-01T00:00:00+09:00",
        "final_at": "2026-01-31T00:00:00+09:00",
    }
    (account,) = compose(jsonl(tmp_path / "alerts.jsonl", [record, {**record, "month": "2025-02"}]))
    assert [(level.level, level.months) for level in account.levels] == [("at_risk", ["2025-01", "2025-02"])]
    assert "2 months (2025-01 to 2025-02)" in terminal_lines([account], ENGLISH)[0]
    (japanese,) = terminal_lines([account], language("ja"))
    assert "2か月分（2025-01〜2025-02）" in japanese and "削除間近" in japanese
