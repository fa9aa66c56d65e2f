"""`lineoa ui`: what `dagster dev` starts (a code server, the daemon, the webserver), with the webserver served
in this process by uvicorn behind the guard (`ui_guard.py`), on a socket bound before anything starts."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import uvicorn
import yaml
from dagster._cli.proxy_server_manager import ProxyServerManager
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._utils.log import configure_loggers
from dagster_shared.ipc import get_ipc_shutdown_pipe, open_ipc_subprocess, send_ipc_shutdown_message
from dagster_shared.serdes import serialize_value
from dagster_webserver.app import create_app_from_workspace_process_context
from dagster_webserver.version import __version__ as webserver_version

from lineoa_pipeline.commands.instance import instance_home, open_instance, record_months_held
from lineoa_pipeline.commands.ui_guard import WILDCARD_HOSTS, UIGuard, allowed_host_names
from lineoa_pipeline.settings.datadir import PROJECT_ROOT, DataDir

WORKSPACE = PROJECT_ROOT / "workspace.yaml"
_LOG_LEVEL = "warning"  # the code server's and uvicorn's; Dagster's own services log at info, as under dagster dev
_DAEMON_STOP_SECONDS = 60


class Stopped(Exception):
    """Ctrl-C or SIGTERM: the UI ended, after its daemon and code server."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def serve_ui(
    listener: socket.socket, host: str, data_dir: DataDir, *, read_only: bool, allowed_hosts: tuple[str, ...] = ()
) -> None:
    """Serve the UI on `listener` (bound to `host` by `listen`) until Ctrl-C or SIGTERM, raised as `Stopped`
    once the daemon and the code server have stopped: the data directory, its instance, its sensors and
    schedules (the daemon), and the guard in front of the webserver."""
    for signum in (signal.SIGINT, signal.SIGTERM):  # uvicorn stops gracefully, then raises it again: here
        signal.signal(signum, _stop)
    port = listener.getsockname()[1]
    with open_instance(data_dir) as instance:
        reported = record_months_held(instance, data_dir)
    if reported:
        print(f"recorded {len(reported)} months the warehouse holds as materialised ({reported[0][:7]} ..)")
    os.environ |= {
        "DAGSTER_HOME": str(instance_home(data_dir)),
        "LINEOA_DATA_DIR": str(data_dir.root),
        "DAGSTER_IS_DEV_CLI": "1",  # as under dagster dev: the code server reloads from the UI
    }
    os.chdir(PROJECT_ROOT)  # workspace.yaml loads the code location from the project root
    configure_loggers(log_level="INFO")
    shown = host if host not in WILDCARD_HOSTS else "127.0.0.1"
    names = allowed_host_names(host, allowed_hosts)
    with ExitStack() as stack, listener:
        instance = stack.enter_context(open_instance(data_dir))
        code_servers = stack.enter_context(
            ProxyServerManager(instance, WorkspaceFileTarget(paths=[str(WORKSPACE)]), _LOG_LEVEL)
        )
        workspace = stack.enter_context(_workspace_file(code_servers))
        stack.enter_context(_daemon(instance, workspace))
        context = stack.enter_context(
            WorkspaceProcessContext(
                instance,
                version=webserver_version,
                read_only=read_only,
                workspace_load_target=WorkspaceFileTarget(paths=[str(workspace)]),
                code_server_log_level=_LOG_LEVEL,
            )
        )
        app = UIGuard(create_app_from_workspace_process_context(context, "", 2000), names)
        mode = "read-only" if read_only else "launches and wipes allowed"
        print(f"lineoa ui: http://{_url_host(shown)}:{port} ({mode}; answers Host {', '.join(sorted(names))})")
        if host in WILDCARD_HOSTS:
            print("lineoa ui: other machines reach it by a name listed in ui_allowed_hosts (lineoa.toml)")
        sys.stdout.flush()
        uvicorn.Server(uvicorn.Config(app, log_level=_LOG_LEVEL)).run(sockets=[listener])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextmanager
def _workspace_file(code_servers: ProxyServerManager) -> Iterator[Path]:
    """A workspace file naming the running code server, for the webserver and the daemon to share."""
    with tempfile.TemporaryDirectory(prefix="lineoa-ui-") as folder:
        path = Path(folder) / "workspace.yaml"
        path.write_text(yaml.safe_dump({"load_from": list(code_servers.get_code_server_specs())}))
        yield path


@contextmanager
def _daemon(instance: dg.DagsterInstance, workspace: Path) -> Iterator[None]:
    """`dagster-daemon run` (sensors, schedules, backfills, the run queue) for as long as the UI runs."""
    read_fd, write_fd = get_ipc_shutdown_pipe()
    command = [sys.executable, "-m", "dagster._daemon", "run", "--log-level", "info", "--shutdown-pipe", str(read_fd)]
    command += ["--instance-ref", serialize_value(instance.get_ref()), "--workspace", str(workspace)]
    process = open_ipc_subprocess(command, pass_fds=[read_fd])
    try:
        yield
    finally:
        send_ipc_shutdown_message(write_fd)
        try:
            process.wait(timeout=_DAEMON_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            logging.getLogger("dagster").warning("the daemon did not stop in time: ending it")
            process.kill()
