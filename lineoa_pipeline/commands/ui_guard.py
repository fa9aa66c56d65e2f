"""The guard in front of `lineoa ui`'s webserver: an ASGI middleware, so that no web page the operator visits
(or a DNS-rebinding site) can drive the UI. Dagster's UI has no login and runs GraphQL mutations sent by GET;
the guard refuses, before Dagster sees it:

- a `Host` other than loopback names, the `--host` given and `ui_allowed_hosts` (DNS rebinding);
- a request whose `Origin` is not the UI's own, or whose `Sec-Fetch-Site` is `cross-site` (a page of another
  site: its forms, scripts and WebSockets);
- a GraphQL operation other than a query in the URL (a mutation sent by GET, or by a form's POST that Dagster
  reads from the URL).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

from lineoa_pipeline.settings.hosts import is_loopback
from lineoa_pipeline.settings.language import N_, Told

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# Addresses that listen on every interface: never a name a browser puts in `Host`.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


class PortInUse(Told):
    """Another program (another `lineoa ui`) listens on the port: one line, exit status 1."""


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound now: a port in use ends the command at once, before any process starts."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise PortInUse(
            N_("cannot listen on {host}:{port}: {reason}"), host=host, port=str(port), reason=exc.strerror or str(exc)
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port left in TIME_WAIT is free
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                N_("port {port} on {host} is in use (another lineoa ui?): stop it or give --port"),
                port=str(port),
                host=host,
            ) from None
        raise PortInUse(
            N_("cannot listen on {host}:{port}: {reason}"), host=host, port=str(port), reason=exc.strerror or str(exc)
        ) from None
    return sock


def refuse_remote_host(host: str, read_only: bool, allow_remote_control: bool) -> str | None:
    """Why a `--host` must not be used as asked, or None. Dagster's UI has no login: whoever reaches a port
    other machines can reach may launch runs, wipe history and stop sensors."""
    if is_loopback(host_name(host)) or read_only or allow_remote_control:
        return None
    return (
        f"--host {host} lets other machines reach the UI, which has no login (anyone could launch runs and wipe "
        "history): keep the default 127.0.0.1 and look from elsewhere through an SSH tunnel "
        "(ssh -L 3000:127.0.0.1:3000 this-machine) or a proxy that authenticates; or add --read-only "
        "(no launches, no wipes) or, on purpose, --allow-remote-control"
    )


def host_name(value: str) -> str:
    """The name of a `Host` header, an `--host` or a listed host: lower case, without port, brackets or the
    final dot."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:3000
        return value[1:].partition("]")[0]
    if value.count(":") == 1:  # name:port (a bare IPv6 address has several colons)
        value = value.partition(":")[0]
    return value.rstrip(".")


def allowed_host_names(host: str, listed: Iterable[str]) -> frozenset[str]:
    """The `Host` names the UI answers: loopback, the `--host` it listens on (unless a wildcard) and
    `ui_allowed_hosts`."""
    names = {host_name(h) for h in (host, *listed)} - WILDCARD_HOSTS
    return frozenset(LOOPBACK_NAMES | names)


class UIGuard:
    """ASGI middleware: a request the module's docstring lists is answered 403 (405 for an operation in the
    URL) with one line saying why, and never reaches the app."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
        else:
            status, reason = refused
            body = f"lineoa ui: refused: {reason}\n".encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, reason) when the request must not reach the UI, else None."""
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        host = headers.get("host", "")
        if host_name(host) not in self.allowed_hosts:
            return 403, "this Host is not one the UI answers (list it in ui_allowed_hosts in lineoa.toml)"
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.strip().lower():
            return 403, "a request from another site's page"
        if headers.get("sec-fetch-site") == "cross-site":
            return 403, "a request from another site's page"
        if not _only_queries(scope.get("query_string", b"")):
            return 405, "a GraphQL mutation in the URL (send it by POST from the UI)"
        return None


def _only_queries(query_string: bytes) -> bool:
    """Whether every GraphQL document in the URL's `query` parameters reads only (queries and subscriptions);
    a document that does not parse may hold anything, so it does not."""
    texts = parse_qs(query_string.decode("latin-1"), encoding="utf-8", errors="replace").get("query", [])
    for text in texts:
        try:
            document = parse(text)
        except GraphQLError:
            return False
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.operation is OperationType.MUTATION:
                return False
    return True
