"""Raising retention alerts: once per subject and level in `alerts.jsonl`, and to a Slack-compatible webhook.

The webhook URL is a secret: it never appears in a log line, an error or a file. Alerts the webhook has
not accepted wait in `.webhook-outbox.jsonl` and go out again on the next check, so none is lost.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from lineoa_pipeline.retention import Alert

WEBHOOK_ENV = "LINEOA_ALERT_WEBHOOK"
MAX_BLOCKS = 40  # Slack accepts 50 blocks a message


def alert_key(record: dict[str, Any]) -> tuple[str, str, str, str]:
    """Account, subject, which month or placeholder, and level: what is raised only once."""
    where = record.get("month") or record.get("message_id") or f"{record.get('chat_name')}|{record.get('sent_at')}"
    return (record["account_name"], record["subject"], str(where), record["level"])


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _append(path: Path, records: Iterable[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())


def raise_new(path: Path, alerts: Iterable[Alert], at: datetime) -> list[dict[str, Any]]:
    """Append to `alerts.jsonl` the alerts not raised before at their level; return those records."""
    raised = {alert_key(r) for r in read_records(path)}
    new = []
    for alert in alerts:
        record = alert.record(at)
        if alert_key(record) not in raised:
            raised.add(alert_key(record))
            new.append(record)
    if new:
        _append(path, new)
    return new


def slack_payload(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A Slack-compatible message: `text` for notifications, `blocks` with one section per alert."""
    lost = sum(r["level"] == "lost" for r in records)
    text = f"LINE history: {len(records)} new retention alert(s), {lost} lost, {len(records) - lost} at risk"
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": text[:150]}}]
    for record in records[:MAX_BLOCKS]:
        icon = ":red_circle:" if record["level"] == "lost" else ":warning:"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} {record['message']}"[:3000]}})
    if len(records) > MAX_BLOCKS:
        more = f"… and {len(records) - MAX_BLOCKS} more: run `lineoa status`"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": text, "blocks": blocks}


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0, attempts: int = 2) -> str | None:
    """POST `payload` as JSON; None when accepted, else why not (never the URL)."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    problem = "not sent"
    for _ in range(attempts):
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return None
                problem = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            problem = f"unreachable ({type(reason).__name__})"
    return problem


def deliver(outbox: Path, new: list[dict[str, Any]], url: str | None, timeout: float = 10.0) -> tuple[int, str | None]:
    """Send what waits in the outbox plus `new` in one message; keep it there if the webhook refuses.

    Returns (alerts delivered, problem or None). Without a URL nothing is queued.
    """
    if not url:
        return 0, None
    if new:
        _append(outbox, new)
    waiting = read_records(outbox)
    if not waiting:
        return 0, None
    problem = post_webhook(url, slack_payload(waiting), timeout=timeout)
    if problem is None:
        outbox.unlink(missing_ok=True)
        return len(waiting), None
    return 0, problem
