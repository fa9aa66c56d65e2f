"""Real receivers on loopback for the push channels: LINE's push endpoint over HTTP, and an SMTP server
(aiosmtpd) that offers STARTTLS with a self-signed certificate the test's client trusts via SSL_CERT_FILE."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LINE_TOKEN = "LINE-TOKEN-WEBHOOK_SECRET-0001"
SMTP_USER = "alerts@example.jp"
SMTP_PASSWORD = "SMTP-PASSWORD-WEBHOOK_SECRET-0002"


class LineApi:
    """LINE's push endpoint as documented: POST /v2/bot/message/push with a bearer token and a JSON body
    `{to, messages}`; 200 with `sentMessages`, 401 for a wrong token, or `status` when a test sets it."""

    def __init__(self) -> None:
        self.status = 200
        self.pushes: list[dict[str, Any]] = []
        self.retry_keys: list[str | None] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/v2/bot/message/push" or self.headers["Authorization"] != f"Bearer {LINE_TOKEN}":
                    self._answer(401 if self.path == "/v2/bot/message/push" else 404, {"message": "no"})
                    return
                if api.status != 200:
                    self._answer(api.status, {"message": "The request was refused"})
                    return
                api.pushes.append(body)
                api.retry_keys.append(self.headers.get("X-Line-Retry-Key"))
                sent = [{"id": str(i), "quoteToken": f"q{i}"} for i, _ in enumerate(body["messages"])]
                self._answer(200, {"sentMessages": sent})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [m["text"] for push in self.pushes for m in push["messages"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class Mailbox:
    """What the SMTP server accepted, and the logins it saw."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        data = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append(message_from_bytes(data, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        self.logins.append(data.login.decode() if isinstance(data, LoginPassword) else "?")
        return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 535 itself


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with STARTTLS required (or not offered, `tls=False`), and login after it."""

    def __init__(self, folder: Path, tls: bool = True) -> None:
        self.cert, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.mailbox = Mailbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        options: dict[str, Any] = {"tls_context": context, "require_starttls": True} if tls else {}
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.mailbox.authenticate,
            auth_require_tls=True,
            **options,
        )
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


class Hook:
    """A webhook receiver: answers with `status` (a redirect to /moved, which accepts a GET), or sleeps
    `delay` seconds first, or sends its headers a line every `drip` seconds."""

    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.drip = 0.0
        self.bodies: list[dict] = []
        self.gets: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(hook.delay)
                hook.bodies.append(json.loads(body))
                self.send_response(hook.status)
                if 300 <= hook.status < 400:
                    self.send_header("Location", "/moved")
                for _ in range(20 if hook.drip else 0):
                    self.send_header("X-Slow", "1")
                    self.wfile.flush()
                    time.sleep(hook.drip)
                self.end_headers()

            def do_GET(self) -> None:
                hook.gets.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{WEBHOOK_SECRET}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


WEBHOOK_SECRET = "T000-SECRET-TOKEN"
