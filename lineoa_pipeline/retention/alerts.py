"""Raising retention alerts: once per subject and level in `alerts.jsonl`, then one digest per check to
each push channel (the Slack-compatible webhook here, LINE and e-mail in `channels.py`).

Each channel has its own outbox (`.<channel>-outbox.jsonl`): what it has not accepted waits there and goes
out again, in the next check's digest, without repeating what the other channels took. The webhook URL is
a secret: it never appears in a log line, an error or a file.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from lineoa_pipeline.retention.digest import TEXTS, AccountDigest, item_line, summary_line, tally, title
from lineoa_pipeline.retention.status import write_new_alerts
from lineoa_pipeline.settings.config import Settings, WebhookError, webhook_url
from lineoa_pipeline.settings.language import ENGLISH, Language
from lineoa_pipeline.warehouse.sqlfiles import execute_with_literals, load_sql

MAX_ACCOUNTS = 24  # two blocks an account, a header and a last line: Slack accepts 50 blocks a message


def alert_key(record: dict[str, Any]) -> tuple[str, str, str, str]:
    """Account, subject, which month or placeholder, and level: what is raised only once."""
    where = record.get("month") or record.get("message_id") or f"{record.get('chat_name')}|{record.get('sent_at')}"
    return (record["account_name"], record["subject"], str(where), record["level"])


def read_records(path: Path, log: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """The records of a JSON-lines file, one Python dict each (for small files and for naming the damaged
    lines of a large one). A last line a crash left half-written is cut off the file (`repair`); a damaged
    line in the middle is skipped and said in `log`."""
    if not repair(path, log):
        return []
    records = []
    # lines end at "\n" only, as DuckDB reads them: a name may hold U+2028, which str.splitlines would cut at
    for number, line in enumerate(path.read_bytes().decode("utf-8", errors="replace").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if log:
                log(f"{path.name}: line {number} is damaged and was skipped")
    return records


def repair(path: Path, log: Callable[[str], None] | None = None) -> bool:
    """Cut off the last line of a JSON-lines file if a crash left it half-written (and say so in `log`),
    so that one interrupted append never stops every later check; False if there is no such file."""
    if not path.exists():
        return False
    with open(path, "r+b") as out:
        size = out.seek(0, os.SEEK_END)
        end = size
        while end > 0:  # back from the end, a block at a time, to the last line break
            start = max(0, end - 65_536)
            out.seek(start)
            block = out.read(end - start)
            if b"\n" in block:
                end = start + block.rindex(b"\n") + 1
                break
            end = start
        if end < size:
            out.truncate(end)
            os.fsync(out.fileno())
            if log:
                log(f"{path.name}: removed a half-written last line (an interrupted write)")
    return True


def _say_damaged(conn: duckdb.DuckDBPyConnection, path: Path, log: Callable[[str], None] | None) -> None:
    """Name in `log` the damaged lines of `path` (which every reader skips), if DuckDB finds any."""
    if log is None:
        return
    row = execute_with_literals(conn, load_sql("retention_alerts_damaged"), {"path": str(path)}).fetchone()
    if row and row[0]:
        read_records(path, log)  # rare: the line-by-line reader says which


def _append(path: Path, lines: Path) -> None:
    """Append the bytes of `lines` (whole JSON lines) to `path`, on disk before this returns."""
    with open(path, "ab") as out, open(lines, "rb") as source:
        shutil.copyfileobj(source, out)
        out.flush()
        os.fsync(out.fileno())


def raise_new(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    at: datetime,
    path: Path,
    out: Path,
    lost_since: datetime | None = None,
    ingested_after: datetime | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    """Write to `out` the alerts of the warehouse of `conn` at `at` not raised before at their level in
    `alerts.jsonl` (`path`), worst first, and append them to it; return how many (`write_new_alerts`)."""
    if repair(path, log):
        _say_damaged(conn, path, log)
        raised = path
    else:
        raised = out.with_name(f"{out.stem}-none.jsonl")  # nothing raised yet: an empty file to read
        raised.touch()
    count = write_new_alerts(conn, settings, at, out, raised, lost_since, ingested_after)
    if count:
        _append(path, out)
    return count


def _mrkdwn(text: str) -> str:
    """Text shown as is in Slack mrkdwn: `<!channel>` in a chat name must not notify anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(digests: list[AccountDigest], lang: Language, masked: bool = False) -> dict[str, Any]:
    """A Slack-compatible message in `lang`: `text` for notifications, a header, then per account a section
    with a line per level and a context with its first items. `masked`: chat names go out as their pseudonyms."""
    text = title(lang, digests)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": text[:150]}}]
    for account in digests[:MAX_ACCOUNTS]:
        lines = "\n".join(_mrkdwn(summary_line(account, level, lang, masked)) for level in account.levels)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": lines[:3000]}})
        items = [_mrkdwn(item_line(item, lang, masked)) for level in account.levels for item in level.items]
        if items:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(items)[:3000]}]})
    if len(digests) > MAX_ACCOUNTS:
        more = lang.gettext(TEXTS["push.more"])
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


class Channel(Protocol):
    """A push channel: where a digest goes, and the name of the outbox that keeps what it has not accepted."""

    key: str  # the outbox's name: `.<key>-outbox.jsonl`
    label: str  # what logs and the terminal call it (never a secret)

    def send(self, digests: list[AccountDigest]) -> str | None:
        """Deliver one message (or a LINE push of a few); None when accepted, else why not, with no secret."""
        ...


@dataclass(frozen=True)
class Webhook:
    """The Slack-compatible webhook of `LINEOA_ALERT_WEBHOOK` (the raw value: checked at each delivery)."""

    url: str
    masked: bool = False
    lang: Language = ENGLISH
    timeout: float = 10.0
    key: str = "webhook"
    label: str = "alert webhook"

    def send(self, digests: list[AccountDigest]) -> str | None:
        try:
            usable = webhook_url(self.url)
        except WebhookError as exc:
            return str(exc)
        assert usable is not None
        return post_webhook(usable, slack_payload(digests, self.lang, self.masked), timeout=self.timeout)


def deliver(
    outbox: Path, new: Path | None, channel: Channel, log: Callable[[str], None] | None = None
) -> tuple[int, str | None]:
    """Send what waits in the channel's outbox plus the records of `new` (a JSON-lines file), as one
    digest; keep it there if the channel refuses, for the next check. Returns (alerts delivered, problem or
    None)."""
    if new is not None:
        _append(outbox, new)
    if not repair(outbox, log):
        return 0, None
    conn = duckdb.connect()
    try:
        _say_damaged(conn, outbox, log)
        digests, waiting = tally(outbox, conn)
    finally:
        conn.close()
    if not waiting:
        return 0, None
    problem = channel.send(digests)
    if problem is None:
        outbox.unlink(missing_ok=True)
        return waiting, None
    return 0, problem
