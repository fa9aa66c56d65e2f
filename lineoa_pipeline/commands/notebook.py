"""`lineoa notebook`: JupyterLab on `notebooks/`, whose `%%sql` cells (JupySQL) read one data directory.

JupyterLab and JupySQL are the optional dependency group `notebook`: the command installs it on first use
(asking first on a terminal), then becomes `jupyter lab` with `LINEOA_DATA_DIR` set, so that every kernel
it starts opens that data directory's read-only connection (`open_warehouse`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from lineoa_pipeline.settings.config import Settings, load_settings
from lineoa_pipeline.settings.datadir import DEMO_DIR, PROJECT_ROOT, DataDir
from lineoa_pipeline.settings.language import N_, Told
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect
from lineoa_pipeline.warehouse.sqlfiles import load_sql

NOTEBOOKS = PROJECT_ROOT / "notebooks"
INSTALL_ARGS = ("sync", "--frozen", "--inexact", "--group", "notebook")
GROUP_MODULES = ("jupyterlab", "sql")  # what the group installs: the server, and JupySQL's `%sql` magics
# JupySQL's library reports usage to its maker unless told not to: chat history stays on this machine.
NO_TELEMETRY = {"PLOOMBER_STATS_ENABLED": "false", "PLOOMBER_VERSION_CHECK_DISABLED": "true"}


class NotebookUnavailable(Told):
    """The notebook group is not installed and was not installed now: one line, what to run."""


def install_command() -> list[str]:
    """The project's own install of the group, from its lock file, keeping every package already there."""
    uv = Path(sys.executable).with_name("uv")
    return [str(uv) if uv.exists() else shutil.which("uv") or "uv", *INSTALL_ARGS]


def missing_group() -> bool:
    return any(importlib.util.find_spec(module) is None for module in GROUP_MODULES)


def ensure_group(ask: Callable[[str], bool]) -> None:
    """Install the `notebook` group when it is missing and `ask` agrees; else raise NotebookUnavailable."""
    if not missing_group():
        return
    command = " ".join(install_command())
    if not ask(f"JupyterLab and JupySQL are not installed; install them now ({command})?"):
        raise NotebookUnavailable(
            N_("the notebook needs JupyterLab and JupySQL: run `{command}` in {folder}"),
            command=command,
            folder=str(PROJECT_ROOT),
        )
    subprocess.run(install_command(), cwd=PROJECT_ROOT, check=True)
    importlib.invalidate_caches()
    if missing_group():
        raise NotebookUnavailable(N_("`{command}` did not install JupyterLab and JupySQL"), command=command)


def open_notebook(data_dir: DataDir) -> None:
    """Replace this process with JupyterLab on `notebooks/`, its kernels reading `data_dir` (never returns)."""
    env = {**os.environ, **NO_TELEMETRY, "LINEOA_DATA_DIR": str(data_dir.root)}
    jupyter = Path(sys.executable).with_name("jupyter")
    os.execve(jupyter, [str(jupyter), "lab", f"--ServerApp.root_dir={NOTEBOOKS}"], env)


def open_warehouse(
    previous: duckdb.DuckDBPyConnection | None = None,
) -> tuple[DataDir, Settings, duckdb.DuckDBPyConnection]:
    """A notebook's setup: the data directory (`LINEOA_DATA_DIR`, else `data/`; until that has a warehouse,
    `lineoa demo`'s), its settings and a read-only connection to its latest published run. `previous`, the
    connection a re-run setup cell held, is closed (it would keep showing the older run)."""
    os.environ.update(NO_TELEMETRY)
    if previous is not None:
        previous.close()
    data_dir = DataDir.resolve()
    try:
        conn = connect(data_dir.root)
    except NoWarehouseYet:
        demo = DataDir(DEMO_DIR)
        print(f"no warehouse in {data_dir.root} yet: showing the made-up accounts of `lineoa demo` in {demo.root}")
        data_dir, conn = demo, connect(demo.root)
    _name_for_cursors(conn)
    return data_dir, load_settings(data_dir.settings_file), conn


def _name_for_cursors(conn: duckdb.DuckDBPyConnection) -> None:
    """JupySQL runs each query on a new cursor of the connection, which starts in DuckDB's in-memory catalog,
    not in the warehouse `connect()` chose with USE, and in the machine's time zone: name every table and view
    of the warehouse in the in-memory catalog too, and make UTC every cursor's time zone."""
    conn.execute("SET GLOBAL TimeZone = 'UTC'")
    for database, name in conn.execute(load_sql("notebook_relations")).fetchall():
        target = f"{_quoted(database)}.main.{_quoted(name)}"
        conn.execute(f"CREATE OR REPLACE VIEW memory.main.{_quoted(name)} AS FROM {target}")


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
