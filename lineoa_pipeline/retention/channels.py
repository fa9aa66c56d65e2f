"""The push channels a digest goes to: the webhook (`alerts.Webhook`), a LINE Messaging API push to each
ID of `[alerts] line_to`, and e-mail over SMTP with STARTTLS to `[alerts] email_to`.

Secrets (the channel access token, the SMTP user and password) come only from the environment and never
appear in a problem these return: an error says its kind or status code, never the library's text (which
can quote a request or a server's answer).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage

from lineoa_pipeline.retention.alerts import Channel, Webhook
from lineoa_pipeline.retention.digest import TEXTS, AccountDigest, plain_text, title
from lineoa_pipeline.settings.config import WEBHOOK_ENV, Settings
from lineoa_pipeline.settings.language import ENGLISH, Language, operator_language

LINE_TOKEN_ENV = "LINEOA_LINE_CHANNEL_TOKEN"
SMTP_USER_ENV = "LINEOA_SMTP_USER"
SMTP_PASSWORD_ENV = "LINEOA_SMTP_PASSWORD"
LINE_TEXT_LIMIT = 5_000  # characters in one text message
LINE_MESSAGES_LIMIT = 5  # messages in one push
TIMEOUT = 10.0  # seconds a delivery may take


def push_channels(settings: Settings, environ: Mapping[str, str]) -> list[Channel]:
    """The channels configured: the webhook when `LINEOA_ALERT_WEBHOOK` is set, LINE per ID of `line_to`,
    e-mail when `email_to` names anyone; each in the operator's language (`language`, else the locale)."""
    masked = settings.alert_names == "masked"
    lang = operator_language(settings.language, environ)
    alerts = settings.alerts
    channels: list[Channel] = []
    if environ.get(WEBHOOK_ENV):
        channels.append(Webhook(environ[WEBHOOK_ENV], masked, lang))
    token = environ.get(LINE_TOKEN_ENV, "")
    channels += [LinePush(to, alerts.line_api, token, masked, lang) for to in alerts.line_to]
    if alerts.email_to:
        user = environ.get(SMTP_USER_ENV, "")
        channels.append(
            Email(
                alerts.email_to,
                alerts.email_from or user,
                alerts.smtp_host,
                alerts.smtp_port,
                user,
                environ.get(SMTP_PASSWORD_ENV, ""),
                masked,
                lang,
            )
        )
    return channels


def line_messages(text: str, lang: Language) -> list[str]:
    """`text` cut at line ends into at most LINE_MESSAGES_LIMIT texts of at most LINE_TEXT_LIMIT characters;
    what does not fit ends with a pointer to `lineoa status` (in `lang`)."""
    more = lang.gettext(TEXTS["push.more"])
    messages: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = line[: LINE_TEXT_LIMIT - len(more) - 1]
        if current and len(current) + 1 + len(line) > LINE_TEXT_LIMIT:
            messages.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    messages.append(current)
    if len(messages) > LINE_MESSAGES_LIMIT:
        messages = messages[:LINE_MESSAGES_LIMIT]
        last = messages[-1][: LINE_TEXT_LIMIT - len(more) - 1]
        messages[-1] = f"{last[: last.rfind(chr(10))] if chr(10) in last else last}\n{more}"
    return messages


@dataclass(frozen=True)
class LinePush:
    """A push through LINE's Messaging API (the official SDK) to one user or group ID."""

    to: str
    host: str
    token: str = field(repr=False)
    masked: bool = False
    lang: Language = ENGLISH

    @property
    def key(self) -> str:  # an outbox per recipient: one that fails never repeats to the others
        return f"line-{hashlib.sha256(self.to.encode()).hexdigest()[:12]}"

    @property
    def label(self) -> str:
        return f"LINE push to {self.to[:5]}…"

    def send(self, digests: list[AccountDigest]) -> str | None:
        if not self.token:
            return f"{LINE_TOKEN_ENV} is not set"
        # imported here: the SDK's models take over a second to import, and most runs send nothing
        from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, PushMessageRequest, TextMessage
        from linebot.v3.messaging.exceptions import ApiException

        texts = line_messages(plain_text(digests, self.lang, self.masked), self.lang)
        # The same digest retried carries the same key: LINE answers 409 to a push it has already accepted.
        retry_key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.to}\n" + "\n".join(texts)))
        request = PushMessageRequest(to=self.to, messages=[TextMessage(text=t) for t in texts])
        config = Configuration(host=self.host.rstrip("/"), access_token=self.token)
        try:
            with ApiClient(config) as client:
                MessagingApi(client).push_message(request, x_line_retry_key=retry_key, _request_timeout=TIMEOUT)
        except ApiException as exc:
            return None if exc.status == 409 else f"HTTP {exc.status}"
        except Exception as exc:  # its text may quote the request: only its kind is shown
            return f"unreachable ({type(exc).__name__})"
        return None


@dataclass(frozen=True)
class Email:
    """One e-mail to every address of `email_to`, over SMTP upgraded with STARTTLS (verified against the
    system's certificate authorities, or `SSL_CERT_FILE`), logged in when a user is set."""

    to: tuple[str, ...]
    sender: str
    host: str
    port: int
    user: str = field(repr=False)
    password: str = field(repr=False)
    masked: bool = False
    lang: Language = ENGLISH
    key: str = "email"
    label: str = "e-mail"

    def send(self, digests: list[AccountDigest]) -> str | None:
        message = EmailMessage()
        message["Subject"] = title(self.lang, digests)
        message["From"] = self.sender or f"lineoa@{self.host}"
        message["To"] = ", ".join(self.to)
        message.set_content(plain_text(digests, self.lang, self.masked))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT) as smtp:
                smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)  # an address refused among several is the server's to report
        except smtplib.SMTPNotSupportedError:
            return "the SMTP server offers no STARTTLS: nothing is sent in clear"
        except smtplib.SMTPRecipientsRefused:
            return "SMTP server refused every address"
        except smtplib.SMTPAuthenticationError as exc:
            return f"SMTP login refused ({exc.smtp_code})"
        except smtplib.SMTPResponseException as exc:
            return f"SMTP error {exc.smtp_code}"
        except Exception as exc:  # its text may quote the server or the user: only its kind is shown
            return f"unreachable ({type(exc).__name__})"
        return None
