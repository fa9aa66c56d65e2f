"""Passwords in PostgreSQL connection strings: found in every form libpq reads, and redacted from any text
(an error, a log line) before it is printed or stored, so that none reaches a log or Dagster's run history."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote, urlsplit

# libpq's keyword form: `password=PW` or `password = 'P W'` (any case), at the start or after a space.
_KEYWORD = re.compile(r"(?i)(^|[\s:])(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")
# A URI's user information (`postgresql://user:PW@host`) and its query (`?password=PW&…`).
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)([^@/?#\s]*)(@)")
_QUERY = re.compile(r"(?i)([?&]password=)([^&#\s]*)")
_URI = re.compile(r"(?i)\bpostgres(?:ql)?://\S*")
REDACTED = "***"


def has_password(conninfo: str) -> bool:
    """Whether a libpq connection string (keywords or a URI, after an optional `postgres:`) holds a password:
    a `password=` keyword, a URI's `user:password@` or its `?password=` parameter."""
    if _KEYWORD.search(conninfo):
        return True
    for uri in _URI.findall(conninfo):
        parts = urlsplit(uri)
        if parts.password is not None or any(
            unquote(key).strip().lower() == "password" for key, _ in parse_qsl(parts.query, keep_blank_values=True)
        ):
            return True
    return False


def redact(text: str) -> str:
    """`text` with every password of a connection string in it, and the value of `PGPASSWORD`, replaced by
    `***`."""
    text = _KEYWORD.sub(lambda m: m[1] + m[2] + REDACTED, text)
    text = _USERINFO.sub(lambda m: m[1] + REDACTED + m[3], text)
    text = _QUERY.sub(lambda m: m[1] + REDACTED, text)
    password = os.environ.get("PGPASSWORD")
    return text.replace(password, REDACTED) if password else text
