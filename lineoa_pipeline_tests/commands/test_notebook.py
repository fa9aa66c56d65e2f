"""`lineoa notebook` and the notebooks: JupyterLab on `notebooks/` for one data directory, and both notebooks
run top to bottom on the demo data, as `jupyter nbconvert --execute` runs them.

Executing them needs the `notebook` dependency group (JupySQL): the tests skip without it, except in CI
(`CI` set), whose `.ci/run` installs it: there a missing group is a failure."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lineoa_pipeline.commands import notebook
from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import ROOT, demo_data_dir, lineoa_command, lineoa_env, run_in_group
from lineoa_pipeline_tests.processes import free_port, stop_group

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
JUPYTER = ROOT / ".venv" / "bin" / "jupyter"
needs_group = pytest.mark.skipif(
    importlib.util.find_spec("sql") is None and not os.environ.get("CI"),
    reason="the notebook group is not installed (uv sync --frozen --inexact --group notebook)",
)
# What each notebook must show on the demo data: its plots, and texts from its tables and the settings.
WEEKDAY = r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b"  # any weekday the operator notebook names
SHOWN = {
    "analyst.ipynb": (
        6,  # coverage per month, monthly response times, response buckets, weekday x hour, reply times, tags
        (
            "complete",  # the coverage table
            "within_sla",  # response stats
            "line_mean_minutes",  # LINE's reply time next to ours
            "business_hours",  # the backlog
            "予約する",  # frequent texts: the demo's rich-menu tap
            "矯正",  # a demo tag
            "**Bayside Yoga**: LINE deletes each day's messages 180 days after it",  # retention from the settings
            "at risk 21 days before",
            "**みどり歯科クリニック**: LINE deletes each day's messages 365 days after it",
        ),
    ),
    "operator.ipynb": (
        3,  # waiting past the SLA, inquiries by hour, the most frequent questions
        # the busiest weekday and hour: which weekday depends on the day the demo is written (its clock)
        ("business_hours_waited", "sla_minutes", "median_minutes", "p90_minutes", WEEKDAY, "みどり歯科クリニック"),
    ),
}


def test_every_notebook_is_tested_and_committed_without_outputs() -> None:
    assert {path.name for path in NOTEBOOKS} == SHOWN.keys()
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, f"clear {path.name}'s outputs"


def test_without_the_group_and_without_a_yes_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebook, "GROUP_MODULES", ("lineoa_no_such_module",))
    questions: list[str] = []
    with pytest.raises(notebook.NotebookUnavailable, match="sync --frozen --inexact --group notebook"):
        notebook.ensure_group(lambda question: questions.append(question) or False)
    assert questions and "JupyterLab and JupySQL" in questions[0]


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """The demo data directory after a run, one for the module's notebooks."""
    # the notebook's text follows these settings
    retention = '\n[accounts."Bayside Yoga".retention.one_to_one]\ntext = 180\nwarn = { text = 21 }\n'
    data = demo_data_dir(tmp_path_factory.mktemp("notebooks") / "data", then=retention)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINEOA_DATA_DIR", str(data.root))  # the definitions' resource reads it
        patch.delenv("DAGSTER_HOME", raising=False)
        assert run_pipeline(data).ok
    return data


@pytest.mark.slow
@needs_group
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_notebook_runs_on_the_demo_data(path: Path, demo_data: DataDir, tmp_path: Path) -> None:
    assert JUPYTER.exists(), f"no {JUPYTER}: set up the project's .venv first"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    env["LINEOA_DATA_DIR"] = str(demo_data.root)
    argv = [str(JUPYTER), "nbconvert", "--to", "notebook", "--execute", str(path), *_output(tmp_path / "executed")]
    done = run_in_group(argv, cwd=path.parent, env=env, timeout=600, stderr=subprocess.STDOUT)
    assert done.returncode == 0, done.stdout

    executed = json.loads((tmp_path / "executed.ipynb").read_text(encoding="utf-8"))
    cells = [cell for cell in executed["cells"] if cell["cell_type"] == "code"]
    assert sum("".join(cell["source"]).startswith("%%sql") for cell in cells) >= 3, "the queries are %%sql cells"
    outputs = [o for cell in cells for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    warned = ["".join(o["text"]) for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    assert not warned, f"the notebook's outputs hold warnings: {warned}"
    plots, shown = SHOWN[path.name]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= plots, f"expected {plots} plots, got {len(images)}"
    text = "".join(
        "".join(o.get("data", {}).get(kind, "")) for o in outputs for kind in ("text/plain", "text/markdown")
    )
    text += "".join("".join(o.get("text", "")) for o in outputs)
    for expected in shown:
        assert re.search(expected, text) if expected is WEEKDAY else expected in text, f"{expected!r} not in the output"


@pytest.mark.slow
@needs_group
def test_lineoa_notebook_serves_the_notebooks_for_its_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "jupyter"
    config.mkdir()
    port, token = free_port(), "lineoa-test-token"
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "open_browser": False,
                    "port": port,
                    "port_retries": 0,
                    "allow_root": True,
                },  # CI runs as root
                "IdentityProvider": {"token": token},
            }
        )
    )
    env = {**lineoa_env(), "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    proc = subprocess.Popen(
        lineoa_command("notebook", "--data-dir", str(data)),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        listing = _contents(port, token, deadline=time.monotonic() + 120)
        assert {item["name"] for item in listing["content"]} >= {"analyst.ipynb", "operator.ipynb"}
        # the command became JupyterLab (same process), whose kernels inherit the data directory
        environ = dict(
            entry.split("=", 1) for entry in Path(f"/proc/{proc.pid}/environ").read_text().split("\0") if "=" in entry
        )
        assert environ["LINEOA_DATA_DIR"] == str(data.resolve())
        assert environ["PLOOMBER_STATS_ENABLED"] == "false"
    finally:
        stop_group(proc, grace=10)


def _output(path: Path) -> list[str]:
    return ["--output-dir", str(path.parent), "--output", path.name, "--ExecutePreprocessor.timeout=300"]


def _contents(port: int, token: str, deadline: float) -> dict:
    """The server's listing of its root folder, once it answers."""
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as reply:
                return json.load(reply)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
