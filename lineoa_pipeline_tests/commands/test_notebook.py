"""The analyst's notebook runs top to bottom on the demo data, as `jupyter nbconvert --execute` runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import ROOT
from lineoa_pipeline_tests.processes import stop_group

NOTEBOOK = ROOT / "notebooks" / "analyst.ipynb"
JUPYTER = ROOT / ".venv" / "bin" / "jupyter"
# coverage per month, monthly response times, response buckets, weekday x hour, LINE's reply time and ours, tags
PLOTS = 6


def test_the_committed_notebook_has_no_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, "clear the notebook's outputs"


def test_the_notebook_runs_on_the_demo_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = DataDir(tmp_path / "data")
    monkeypatch.setenv("LINEOA_DATA_DIR", str(data.root))  # the definitions' resource reads it
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    write_demo_data(data.root)
    with data.settings_file.open("a", encoding="utf-8") as settings:  # the text follows the settings
        settings.write('\n[accounts."Bayside Yoga".retention.one_to_one]\ntext = 180\nwarn = { text = 21 }\n')
    assert run_pipeline(data).ok

    assert JUPYTER.exists(), f"no {JUPYTER}: set up the project's .venv first"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    env["LINEOA_DATA_DIR"] = str(data.root)
    proc = subprocess.Popen(
        [
            str(JUPYTER),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            str(NOTEBOOK),
            "--output-dir",
            str(tmp_path),
            "--output",
            "executed",
            "--ExecutePreprocessor.timeout=300",
        ],
        cwd=NOTEBOOK.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        log, _ = proc.communicate(timeout=600)
    finally:
        stop_group(proc, grace=5)
    assert proc.returncode == 0, log

    executed = json.loads((tmp_path / "executed.ipynb").read_text(encoding="utf-8"))
    outputs = [o for cell in executed["cells"] if cell["cell_type"] == "code" for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    warned = ["".join(o["text"]) for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    assert not warned, f"the notebook's outputs hold warnings: {warned}"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= PLOTS, f"expected {PLOTS} plots, got {len(images)}"
    text = "".join("".join(o.get("data", {}).get("text/plain", "")) + "".join(o.get("text", "")) for o in outputs)
    text += "".join("".join(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    shown = (
        "complete",  # the coverage table
        "within_sla",  # response stats
        "line_mean_minutes",  # LINE's reply time next to ours
        "business_hours",  # the backlog
        "予約する",  # frequent texts: the demo's rich-menu tap
        "矯正",  # a demo tag
        "**Bayside Yoga**: LINE deletes each day's messages 180 days after it",  # retention from the settings
        "at risk 21 days before",
        "**みどり歯科クリニック**: LINE deletes each day's messages 365 days after it",
    )
    for expected in shown:
        assert expected in text, f"{expected!r} not in the notebook's output"
