"""`dagster dev` (or `dg dev`, `lineoa ui`) in a real process on 127.0.0.1, driven through its GraphQL API as
the UI drives it: the UI tests of commands/ share it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lineoa_pipeline_tests.helpers import ROOT
from lineoa_pipeline_tests.processes import free_port, stop_group

STARTUP_TIMEOUT = 180.0


UNFINISHED = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, never through a proxy


class GraphQLError(AssertionError):
    pass


@dataclass
class DagsterDev:
    """One `dagster dev` process group and its GraphQL endpoint."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    location: str = ""
    repository: str = ""

    def query(self, text: str, variables: dict[str, Any] | None = None, timeout: float = 60.0) -> dict[str, Any]:
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with _DIRECT.open(request, timeout=timeout) as response:
            answer = json.load(response)
        if answer.get("errors"):
            raise GraphQLError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            pytest.fail(f"dagster dev exited with {self.proc.returncode}:\n{self.log_tail()}")

    @property
    def selector(self) -> dict[str, str]:
        return {"repositoryLocationName": self.location, "repositoryName": self.repository}


@contextmanager
def serve(
    tmp_path: Path,
    data_dir: Path,
    command: list[str],
    extra_env: dict[str, str] | None = None,
    own_instance: bool = True,
) -> Iterator[DagsterDev]:
    """Run `command` (a `dagster dev`, `dg dev` or `lineoa ui`, without host and port) from the project root
    with the given data directory and its own instance (or, without `own_instance`, the one `lineoa` picks);
    wait until its code location loads; always end its process group."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "LINEOA_"))}
    env |= {"LINEOA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    if own_instance:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        env["DAGSTER_HOME"] = str(home)
    env |= extra_env or {}
    port = free_port()
    log = tmp_path / "dagster_dev.log"
    lineoa = Path(command[0]).name == "lineoa"
    address = ["--host", "127.0.0.1", "--port", str(port)] if lineoa else ["-h", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, *address],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DagsterDev(proc, f"http://127.0.0.1:{port}/graphql", log)
    try:
        wait_loaded(server)
        yield server
    finally:
        stop_group(proc)


def wait_loaded(server: DagsterDev) -> None:
    """Until the webserver answers and the code location has loaded its repository."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            data = server.query(
                """{ repositoriesOrError { __typename
                     ... on RepositoryConnection { nodes { name location { name } } }
                     ... on PythonError { message } } }""",
                timeout=10,
            )
            nodes = data["repositoriesOrError"].get("nodes") or []
            if nodes:
                server.location, server.repository = nodes[0]["location"]["name"], nodes[0]["name"]
                return
            last = GraphQLError(str(data))
        except (urllib.error.URLError, ConnectionError, TimeoutError, GraphQLError) as exc:
            last = exc
        time.sleep(1)
    pytest.fail(f"dagster dev did not load within {STARTUP_TIMEOUT:.0f} s ({last}):\n{server.log_tail()}")


def repository(server: DagsterDev) -> dict[str, Any]:
    data = server.query(
        """query ($selector: RepositorySelector!) { repositoryOrError(repositorySelector: $selector) {
             __typename
             ... on Repository {
               jobs { name description }
               sensors { name description sensorState { id status } }
               schedules { name description scheduleState { id status } } }
             ... on PythonError { message } } }""",
        {"selector": server.selector},
    )
    repository = data["repositoryOrError"]
    assert repository["__typename"] == "Repository", repository
    return repository
