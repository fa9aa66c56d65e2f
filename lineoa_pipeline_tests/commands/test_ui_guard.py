"""`lineoa ui` is never an open door: a host other machines reach is refused without `--read-only` or
`--allow-remote-control`, a second UI on a port in use ends at once, and (slow: a real `lineoa ui` on
127.0.0.1, real HTTP requests) the guard in front of the webserver refuses what a web page could send."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline_tests.dagster_dev import DagsterDev, repository, serve
from lineoa_pipeline_tests.helpers import lineoa_command, lineoa_env

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
LISTED = "lineoa.example.internal"
STOP_SENSOR = (
    'mutation { stopSensor(id: "%s") { __typename ... on StopSensorMutationResult { instigationState { status } } } }'
)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "lineoa.example.internal"])
def test_a_host_other_machines_reach_is_refused(tmp_path: Path, host: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ui", "--data-dir", str(tmp_path), "--host", host]) == 2
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert out == "" and line.startswith(f"lineoa: --host {host} ")
    assert "SSH tunnel" in line and "a proxy that authenticates" in line and "--read-only" in line


def test_a_second_ui_on_a_port_in_use_ends_at_once(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            lineoa_command("ui", "--data-dir", str(tmp_path), "--port", str(port)),
            capture_output=True,
            text=True,
            timeout=120,
            env=lineoa_env(),
            check=False,
        )
    print(f"second lineoa ui ended after {time.monotonic() - started:.1f} s")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"lineoa: port {port} on 127.0.0.1 is in use (another lineoa ui?): stop it or give --port"
    ]
    assert not (tmp_path / ".dagster").exists()  # nothing started: no instance made


# --- a real lineoa ui ----------------------------------------------------------------------------------------


def _request(
    server: DagsterDev, body: dict[str, Any] | None = None, query: str = "", headers: dict[str, str] | None = None
) -> tuple[int, str]:
    url = server.url + (f"?{urllib.parse.urlencode({'query': query})}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with _DIRECT.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sensor_status(server: DagsterDev) -> dict[str, tuple[str, str]]:
    return {s["name"]: (s["sensorState"]["id"], s["sensorState"]["status"]) for s in repository(server)["sensors"]}


def _websocket_handshake(server: DagsterDev, origin: str) -> str:
    """The status line a WebSocket handshake to /graphql gets, sent from `origin`."""
    host, port = server.url.split("/")[2].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: graphql-ws\r\nOrigin: {origin}\r\n\r\n"
            ).encode()
        )
        return sock.recv(4096).decode("latin-1").splitlines()[0]


@pytest.mark.slow
def test_the_guard_refuses_what_a_web_page_could_send(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "lineoa.toml").write_text(f'ui_allowed_hosts = ["{LISTED}"]\n', encoding="utf-8")
    with serve(tmp_path, data_dir, lineoa_command("ui", "--data-dir", str(data_dir))) as server:
        own = server.url.removesuffix("/graphql")
        sensors = _sensor_status(server)
        sensor_id, status = sensors["inbox_sensor"]
        assert status == "RUNNING"
        stop = STOP_SENSOR % sensor_id
        refused = [
            # the reproduction: a mutation by GET (`curl -G`) carrying another site's Origin
            _request(server, query=stop, headers={"Origin": "http://evil.example"}),
            _request(server, query=stop),  # a mutation by GET, whatever sends it
            _request(server, query="mutation {"),  # cannot be parsed: may hold anything
            _request(server, {"query": stop}, headers={"Origin": "http://evil.example"}),
            _request(server, {"query": stop}, headers={"Origin": "null"}),  # a sandboxed frame, a file:// page
            _request(server, {"query": stop}, headers={"Sec-Fetch-Site": "cross-site"}),
            _request(server, {"query": stop}, headers={"Host": "evil.example"}),  # DNS rebinding
            _request(server, {"query": stop}, headers={"Host": f"{LISTED}.evil.example"}),
        ]
        assert [status for status, _ in refused] == [403, 405, 405, 403, 403, 403, 403, 403], refused
        assert all(text.startswith("lineoa ui: refused: ") and text[-1] == "\n" for _, text in refused)
        assert _sensor_status(server)["inbox_sensor"] == (sensor_id, "RUNNING")
        assert _websocket_handshake(server, "http://evil.example").split()[1] == "403"
        assert _websocket_handshake(server, own).split()[1] == "101"

        # what the UI itself sends still works: queries by GET, the page, and a mutation from its own origin
        status, text = _request(server, query="{ version }")
        assert status == 200 and json.loads(text)["data"]["version"]
        page = urllib.request.Request(own + "/", headers={"Accept": "text/html", "Sec-Fetch-Site": "none"})
        with _DIRECT.open(page, timeout=60) as response:
            assert response.status == 200 and b"<html" in response.read().lower()
        for headers in (
            {"Host": f"{LISTED}:{own.rsplit(':', 1)[1]}", "Origin": f"http://{LISTED}:{own.rsplit(':', 1)[1]}"},
            {"Origin": own, "Sec-Fetch-Site": "same-origin"},
        ):
            status, text = _request(server, {"query": stop}, headers=headers)
            assert status == 200, text
            assert json.loads(text)["data"]["stopSensor"]["instigationState"]["status"] == "STOPPED"
        assert _sensor_status(server)["inbox_sensor"] == (sensor_id, "STOPPED")


@pytest.mark.slow
def test_read_only_ui_launches_and_wipes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    command = lineoa_command("ui", "--data-dir", str(data_dir), "--read-only")
    with serve(tmp_path, data_dir, command) as server:
        sensor_id, status = _sensor_status(server)["inbox_sensor"]
        status_code, text = _request(
            server, {"query": STOP_SENSOR % sensor_id}, headers={"Origin": server.url.removesuffix("/graphql")}
        )
        assert status_code == 200
        assert json.loads(text)["data"]["stopSensor"]["__typename"] == "UnauthorizedError"
        assert _sensor_status(server)["inbox_sensor"] == (sensor_id, status)
        log = server.log.read_text(encoding="utf-8")
        assert "read-only" in log
        assert "BetaWarning" not in log and "SupersessionWarning" not in log  # dagster dev's, and code references'
