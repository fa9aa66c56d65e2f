"""A real PostgreSQL on a loopback port, for the lake's catalog: started by the tests' `postgres` fixture and
by the lake benchmark, from Debian's `postgresql` package (initdb and pg_ctl on a temporary directory)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lineoa_pipeline_tests.processes import free_port


class NoPostgres(RuntimeError):
    """PostgreSQL's server programs are not installed here."""


@dataclass(frozen=True)
class Postgres:
    """A running server with password authentication (the password is in PGPASSWORD while it runs, as a
    deployment sets it)."""

    bin: Path
    port: int
    user: str
    password: str

    def new_database(self) -> str:
        name = "lake_" + secrets.token_hex(6)
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name],
            check=True,
            env={**os.environ, "PGPASSWORD": self.password},
        )
        return name

    def catalog(self, database: str, port: int | None = None) -> str:
        return f"postgres:dbname={database} host=127.0.0.1 port={port or self.port} user={self.user}"


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A new PostgreSQL server, stopped and deleted afterwards; raises NoPostgres where none is installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise NoPostgres("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    bin_dir = found[-1].parent
    root = Path(tempfile.mkdtemp(prefix="lineoa-pg-"))
    password = "pw-" + secrets.token_hex(8)
    server = Postgres(bin_dir, free_port(), "lineoa", password)
    saved = os.environ.get("PGPASSWORD")
    try:
        (root / "pw").write_text(password)
        if os.geteuid() == 0:  # private files (the commands' umask, once a test ran one) stay readable to it
            for path in (root, root / "pw"):
                shutil.chown(path, "postgres")
        initdb = [str(bin_dir / "initdb"), "-D", str(root / "db"), "-U", server.user, "-A", "scram-sha-256"]
        subprocess.run(
            _as_postgres([*initdb, "--pwfile", str(root / "pw"), "--no-sync"]), check=True, capture_output=True
        )
        options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            _as_postgres(
                [str(bin_dir / "pg_ctl"), "-D", str(root / "db"), "-o", options, "-w", "-l", str(root / "log"), "start"]
            ),
            check=True,
            capture_output=True,
        )
        os.environ["PGPASSWORD"] = password
        yield server
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(root / "db"), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
        )
        if saved is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = saved
        shutil.rmtree(root, ignore_errors=True)
