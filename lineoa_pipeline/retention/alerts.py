"""Raising retention alerts: once per subject and level in `alerts.jsonl`, and to a Slack-compatible webhook.

The webhook URL is a secret: it never appears in a log line, an error or a file. Alerts the webhook has
not accepted wait in `.webhook-outbox.jsonl` and go out again on the next check, so none is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from lineoa_pipeline.retention.status import Alert
from lineoa_pipeline.settings.hosts import is_loopback

WEBHOOK_ENV = "LINEOA_ALERT_WEBHOOK"
MAX_BLOCKS = 40  # Slack accepts 50 blocks a message


class WebhookError(ValueError):
    """`LINEOA_ALERT_WEBHOOK` cannot be used; the message never holds the URL (it is a secret)."""


def webhook_url(value: str | None) -> str | None:
    """The webhook URL when set and usable: https, or http only to this machine (a test receiver).

    Anything else (no scheme, another scheme, plain http over the network, which would send the secret
    in clear) raises WebhookError with a message that names the variable, never its value."""
    if not value:
        return None
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a malformed port raises here, not in the middle of a delivery
    except ValueError:
        raise WebhookError(f"{WEBHOOK_ENV} is not a URL (expected https://…)") from None
    if parts.scheme == "https" and host:
        return value
    if parts.scheme == "http" and is_loopback(host):
        return value
    raise WebhookError(
        f"{WEBHOOK_ENV} must be an https:// URL (plain http only to this machine, for tests); "
        "the alerts wait in .webhook-outbox.jsonl until it is"
    )


def alert_key(record: dict[str, Any]) -> tuple[str, str, str, str]:
    """Account, subject, which month or placeholder, and level: what is raised only once."""
    where = record.get("month") or record.get("message_id") or f"{record.get('chat_name')}|{record.get('sent_at')}"
    return (record["account_name"], record["subject"], str(where), record["level"])


def read_records(path: Path, log: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """The records of a JSON-lines file. A last line a crash left half-written is cut off the file (and
    said in `log`), so that one interrupted append never stops every later check; a damaged line in the
    middle is skipped and said."""
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with open(path, "r+b") as out:
            out.truncate(complete)
            os.fsync(out.fileno())
        if log:
            log(f"{path.name}: removed a half-written last line (an interrupted write)")
    records = []
    for number, line in enumerate(data[:complete].decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if log:
                log(f"{path.name}: line {number} is damaged and was skipped")
    return records


def _append(path: Path, records: Iterable[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())


def raise_new(
    path: Path, alerts: Iterable[Alert], at: datetime, log: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Append to `alerts.jsonl` the alerts not raised before at their level; return those records."""
    raised = {alert_key(r) for r in read_records(path, log)}
    new = []
    for alert in alerts:
        record = alert.record(at)
        if alert_key(record) not in raised:
            raised.add(alert_key(record))
            new.append(record)
    if new:
        _append(path, new)
    return new


def pseudonym(account_name: str, chat_name: str) -> str:
    """A chat's stable stand-in name: the same chat always gets the same one, and it does not show the name."""
    digest = hashlib.sha256(f"{account_name}\x00{chat_name}".encode()).hexdigest()
    return f"chat-{digest[:10]}"


def _mrkdwn(text: str) -> str:
    """Text shown as is in Slack mrkdwn: `<!channel>` in a chat name must not notify anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _shown(record: dict[str, Any], masked: bool) -> str:
    message = str(record["message"])
    chat = record.get("chat_name")
    if masked and chat:
        account = f"{record['account_name']}: "
        head, rest = (account, message[len(account) :]) if message.startswith(account) else ("", message)
        message = head + rest.replace(chat, pseudonym(record["account_name"], chat))
    return _mrkdwn(message)


def slack_payload(records: list[dict[str, Any]], masked: bool = False) -> dict[str, Any]:
    """A Slack-compatible message: `text` for notifications, `blocks` with one section per alert.
    `masked`: chat names go out as their pseudonyms."""
    lost = sum(r["level"] == "lost" for r in records)
    text = f"LINE history: {len(records)} new retention alert(s), {lost} lost, {len(records) - lost} at risk"
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": text[:150]}}]
    for record in records[:MAX_BLOCKS]:
        icon = ":red_circle:" if record["level"] == "lost" else ":warning:"
        shown = f"{icon} {_shown(record, masked)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": shown[:3000]}})
    if len(records) > MAX_BLOCKS:
        more = f"… and {len(records) - MAX_BLOCKS} more: run `lineoa status`"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": text, "blocks": blocks}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would follow a 301/302 with a GET, and the alerts would be lost."""

    def redirect_request(self, *args: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post_once(url: str, body: bytes, timeout: float) -> str | None:
    try:
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
        with _OPENER.open(request, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}" + (" (a redirect: not followed)" if 300 <= exc.code < 400 else "")
    except Exception as exc:  # any failure is a retry on the next check; its text may hold the URL: not shown
        reason = getattr(exc, "reason", exc)
        return f"unreachable ({type(reason).__name__})"


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0, attempts: int = 2) -> str | None:
    """POST `payload` as JSON; None when accepted, else why not (never the URL). All attempts together
    take at most `timeout` seconds: a receiver that sends its answer a byte at a time cannot hold a check."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    outcome: list[str | None] = []

    def attempt() -> None:
        for _ in range(attempts):
            outcome[:] = [_post_once(url, body, timeout)]
            if outcome[0] is None:
                return

    # A daemon thread with a deadline: socket timeouts bound each read, not a whole slow answer.
    worker = threading.Thread(target=attempt, name="alert-webhook", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return f"no answer within {timeout:g} s"
    return outcome[0] if outcome else "not sent"


def deliver(
    outbox: Path,
    new: list[dict[str, Any]],
    url: str | None,
    timeout: float = 10.0,
    masked: bool = False,
    log: Callable[[str], None] | None = None,
) -> tuple[int, str | None]:
    """Send what waits in the outbox plus `new` in one message; keep it there if the webhook refuses.

    `url` is the raw setting (checked here: a bad one keeps the alerts waiting and says why, never the URL).
    Returns (alerts delivered, problem or None). Without a URL nothing is queued.
    """
    if not url:
        return 0, None
    if new:
        _append(outbox, new)
    try:
        usable = webhook_url(url)
    except WebhookError as exc:
        return 0, str(exc)
    waiting = read_records(outbox, log)
    if not waiting or usable is None:
        return 0, None
    problem = post_webhook(usable, slack_payload(waiting, masked), timeout=timeout)
    if problem is None:
        outbox.unlink(missing_ok=True)
        return len(waiting), None
    return 0, problem
