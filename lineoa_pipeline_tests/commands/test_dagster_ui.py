"""A real `dagster dev` on 127.0.0.1, driven through its GraphQL API as the UI drives it.

The instance is a temporary DAGSTER_HOME holding a copy of the project's dagster.yaml (the pool limit), and
the data directory is the demo's. Wall times are printed (`pytest -s` shows them), never asserted: this
machine is shared and noisy.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lineoa_pipeline.defs.partitions import range_tags
from lineoa_pipeline.synthetic.scale import write_scale_inbox
from lineoa_pipeline.warehouse.connection import connect
from lineoa_pipeline.warehouse.views import VIEW_SPECS
from lineoa_pipeline_tests.dagster_dev import UNFINISHED, DagsterDev, repository, serve
from lineoa_pipeline_tests.helpers import RUN_TIMEOUT, demo_data_dir, lineoa_command, run_lineoa

pytestmark = pytest.mark.slow

# 24 months of history for one more account: about 180,000 messages in 1,500 chats, one bulk backup.
HISTORY_CHATS = 1_500
HISTORY_MESSAGES_PER_CHAT = 120
HISTORY_DAYS = 730


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    # every month since 2019 a partition before any run (the default, "auto", starts at the first month with
    # data, which a UI opened before the first run cannot know): the backfills below cover them all
    return demo_data_dir(tmp_path / "data", first='first_month = "2019-01"\n').root


@pytest.fixture
def dagster_dev(tmp_path: Path, demo_dir: Path) -> Iterator[DagsterDev]:
    """`dagster dev -w workspace.yaml` from the project root, with its own instance and the demo data."""
    with serve(tmp_path, demo_dir, [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"]) as server:
        yield server


# --- what the UI shows ---------------------------------------------------------------------------------


def _asset_nodes(server: DagsterDev) -> dict[str, dict[str, Any]]:
    data = server.query(
        """{ assetNodes { assetKey { path } isPartitioned description groupName kinds jobNames
                          backfillPolicy { policyType } pools
                          assetChecksOrError { ... on AssetChecks { checks { name description } } } } }"""
    )
    return {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}


def _definition_metadata(server: DagsterDev, asset: str) -> dict[str, dict[str, Any]]:
    """An asset's definition metadata in the UI, by label: column schemas and code references in full."""
    data = server.query(
        """query ($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { ... on AssetNode {
             metadataEntries { label
               ... on TableSchemaMetadataEntry { schema { columns { name description } } }
               ... on CodeReferencesMetadataEntry {
                 codeReferences { ... on LocalFileCodeReference { filePath lineNumber } } } } } } }""",
        {"key": {"path": [asset]}},
    )
    return {e["label"]: e for e in data["assetNodeOrError"]["metadataEntries"]}


def _stop_automation(server: DagsterDev) -> None:
    """Stop every sensor and schedule (as a user would in the UI), then wait for what they already started,
    so that the runs measured below are the only ones. A stop sent while the daemon records a sensor's first
    state can be lost (both insert it; one fails), so stop again until all say so, as a user would."""
    deadline = time.monotonic() + 60
    while True:
        found = repository(server)
        running = _not_stopped(found["sensors"], "sensorState")
        scheduled = _not_stopped(found["schedules"], "scheduleState")
        if not running and not scheduled:
            break
        assert time.monotonic() < deadline, f"still running: {running} {scheduled}"
        for state in running.values():
            server.query(
                """mutation ($id: String!) { stopSensor(id: $id) { __typename ... on PythonError { message } } }""",
                {"id": state["id"]},
            )
        for state in scheduled.values():
            server.query(
                """mutation ($id: String!) { stopRunningSchedule(id: $id) {
                     __typename ... on PythonError { message } } }""",
                {"id": state["id"]},
            )
        time.sleep(0.5)
    _wait_no_unfinished_runs(server)


def _not_stopped(instigators: list[dict[str, Any]], state: str) -> dict[str, dict[str, str]]:
    return {i["name"]: i[state] for i in instigators if i[state]["status"] != "STOPPED"}


def _wait_no_unfinished_runs(server: DagsterDev) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        server.check_alive()
        data = server.query(
            """query ($statuses: [RunStatus!]) { runsOrError(filter: {statuses: $statuses}) {
                 ... on Runs { results { runId } } } }""",
            {"statuses": UNFINISHED},
        )
        if not data["runsOrError"]["results"]:
            return
        time.sleep(1)
    pytest.fail(f"runs still unfinished after {RUN_TIMEOUT:.0f} s:\n{server.log_tail()}")


# --- runs and backfills --------------------------------------------------------------------------------


def _launch_job(server: DagsterDev, job: str, tags: dict[str, str] | None = None) -> str:
    metadata = {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
    data = server.query(
        """mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) {
             __typename
             ... on LaunchRunSuccess { run { runId } }
             ... on PythonError { message }
             ... on InvalidSubsetError { message }
             ... on RunConfigValidationInvalid { errors { message } } } }""",
        {
            "params": {
                "selector": {**server.selector, "jobName": job},
                "runConfigData": {},
                "executionMetadata": metadata,
            }
        },
    )
    launched = data["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def _all_partitions_as_one_run(server: DagsterDev, job: str = "months_job") -> tuple[str, float]:
    """Every partition of `job` as the UI's "pass partition ranges to single run" launches them: one run with
    the range as tags, no backfill daemon in between. Returns the run and its wall time from the launch."""
    keys = server.query(
        """query ($selector: PipelineSelector!) { pipelineOrError(params: $selector) {
             ... on Pipeline { partitionKeysOrError { partitionKeys } } } }""",
        {"selector": {**server.selector, "pipelineName": job}},
    )["pipelineOrError"]["partitionKeysOrError"]["partitionKeys"]
    started = time.monotonic()
    run_id = _launch_job(server, job, range_tags(keys))
    _wait_run(server, run_id)
    return run_id, time.monotonic() - started


def _wait_run(server: DagsterDev, run_id: str) -> float:
    """Wait for a run to succeed; returns its duration in seconds (start to end, as the UI shows it)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        server.check_alive()
        run = server.query(
            """query ($id: ID!) { runOrError(runId: $id) { ... on Run { status startTime endTime } } }""",
            {"id": run_id},
        )["runOrError"]
        if run["status"] == "SUCCESS":
            return run["endTime"] - run["startTime"]
        assert run["status"] in UNFINISHED, f"run {run_id} ended {run['status']}:\n{server.log_tail()}"
        time.sleep(0.5)
    pytest.fail(f"run {run_id} unfinished after {RUN_TIMEOUT:.0f} s:\n{server.log_tail()}")


@dataclass
class Backfill:
    wall_seconds: float
    runs: list[dict[str, Any]]
    num_partitions: int | None
    created_at: float
    ended_at: float

    def __str__(self) -> str:
        """Where the wall time went: each run from the backfill's creation (created, started, ended)."""
        runs = sorted(self.runs, key=lambda r: r["creationTime"])
        steps = [
            f"{'+'.join(a['path'][-1] for a in r['assetSelection'] or [])} "
            f"[{r['creationTime'] - self.created_at:.0f}/{r['startTime'] - self.created_at:.0f}/"
            f"{r['endTime'] - self.created_at:.0f} s]"
            for r in runs
        ]
        return (
            f"{self.num_partitions} partitions in {len(runs)} runs, {self.wall_seconds:.1f} s wall "
            f"(runs created/started/ended after: {'; '.join(steps)}; "
            f"backfill done after {self.ended_at - self.created_at:.0f} s)"
        )


def _backfill_all_partitions(server: DagsterDev, job: str = "months_job") -> Backfill:
    """Launch a backfill of every partition of `job` as its page in the UI does; wait for it to succeed."""
    started = time.monotonic()
    data = server.query(
        """mutation ($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
             __typename
             ... on LaunchBackfillSuccess { backfillId }
             ... on PythonError { message }
             ... on InvalidSubsetError { message }
             ... on PartitionSetNotFoundError { message } } }""",
        {
            "params": {
                "selector": {"partitionSetName": f"{job}_partition_set", "repositorySelector": server.selector},
                "allPartitions": True,
            }
        },
    )
    launched = data["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]
    deadline = started + RUN_TIMEOUT
    while time.monotonic() < deadline:
        server.check_alive()
        backfill = server.query(
            """query ($id: String!) { partitionBackfillOrError(backfillId: $id) {
                 ... on PartitionBackfill { status numPartitions error { message stack }
                   timestamp endTimestamp
                   runs(limit: 1000) { runId status creationTime startTime endTime assetSelection { path } } }
                 ... on PythonError { message } } }""",
            {"id": backfill_id},
        )["partitionBackfillOrError"]
        status = backfill.get("status")
        if status == "COMPLETED_SUCCESS":
            return Backfill(
                time.monotonic() - started,
                backfill["runs"],
                backfill["numPartitions"],
                backfill["timestamp"],
                backfill["endTimestamp"] or time.time(),
            )
        assert status not in ("COMPLETED_FAILED", "FAILED", "CANCELED"), (
            f"backfill {backfill_id} ended {status}: {backfill}\n{server.log_tail()}"
        )
        time.sleep(0.5)
    pytest.fail(f"backfill {backfill_id} unfinished after {RUN_TIMEOUT:.0f} s:\n{server.log_tail()}")


# --- the warehouse, as a notebook sees it -----------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseState:
    row_counts: dict[str, int]
    message_ids: frozenset[str]
    months: tuple[tuple[str, int], ...]
    staged_distinct: int  # sum of messages_new over source_files: every distinct message staged


def _warehouse_state(data_dir: Path) -> WarehouseState:
    conn = connect(data_dir)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                """SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'
                   ORDER BY table_name"""
            ).fetchall()
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # type: ignore[index]
        ids = frozenset(i for (i,) in conn.execute("SELECT message_id FROM messages").fetchall())
        months = conn.execute(
            "SELECT strftime(month, '%Y-%m'), count(*) FROM messages GROUP BY 1 ORDER BY 1"
        ).fetchall()
        staged = conn.execute("SELECT coalesce(sum(messages_new), 0) FROM source_files").fetchone()
    finally:
        conn.close()
    return WarehouseState(counts, ids, tuple(months), int(staged[0]) if staged else 0)


# --- the tests -----------------------------------------------------------------------------------------


def test_ui_shows_the_asset_graph(dagster_dev: DagsterDev) -> None:
    nodes = _asset_nodes(dagster_dev)
    for name in ("archived_inputs", "staged_files", "bulk_backups", "messages", "warehouse_snapshot"):
        assert name in nodes, f"{name} missing from the asset graph: {sorted(nodes)}"
    for name, node in nodes.items():
        assert (node["description"] or "").strip(), f"{name} has no description"
        assert node["groupName"], f"{name} has no group"
        assert node["kinds"], f"{name} has no kinds"
        for check in (node["assetChecksOrError"] or {}).get("checks", []):
            assert (check["description"] or "").strip(), f"check {name}.{check['name']} has no description"
    assert nodes["messages"]["isPartitioned"]
    assert nodes["messages"]["backfillPolicy"]["policyType"] == "SINGLE_RUN"
    assert "duckdb_write" in nodes["messages"]["pools"]
    assert not nodes["staged_files"]["isPartitioned"]
    assert "ingest_job" in nodes["staged_files"]["jobNames"]
    assert {"messages", "warehouse_snapshot"} <= {n for n, node in nodes.items() if "months_job" in node["jobNames"]}

    found = repository(dagster_dev)
    jobs = {j["name"]: j for j in found["jobs"]}
    assert {"ingest_job", "months_job"} <= set(jobs)
    for name in ("ingest_job", "months_job"):
        assert jobs[name]["description"], f"job {name} has no description"
    sensors = {s["name"]: s for s in found["sensors"]}
    assert {"inbox_sensor", "stale_months_sensor"} <= set(sensors)
    for kind, items in (("sensor", found["sensors"]), ("schedule", found["schedules"])):
        for item in items:
            assert (item["description"] or "").strip(), f"{kind} {item['name']} has no description in the UI"
            state = item["sensorState" if kind == "sensor" else "scheduleState"]
            assert state["status"] == "RUNNING", f"{kind} {item['name']} is not on by default"

    pools = dagster_dev.query("{ instance { poolConfig { defaultPoolLimit poolGranularity } } }")["instance"]
    assert pools["poolConfig"]["defaultPoolLimit"] == 1, "the instance did not read the project's dagster.yaml"
    assert pools["poolConfig"]["poolGranularity"] == "run", "runs would claim the pool inside themselves"

    for view in VIEW_SPECS:  # each view's columns described, and a link to its .sql, as the UI shows them
        entries = _definition_metadata(dagster_dev, view.name)
        columns = entries["dagster/column_schema"]["schema"]["columns"]
        assert [(c["name"], c["description"]) for c in columns] == list(view.columns.items())
        files = [r["filePath"] for r in entries["dagster/code_references"]["codeReferences"]]
        assert files[0] == str(view.path) and files[0].endswith(f"sql/views/{view.name}.sql"), files
    for name in nodes:
        assert "dagster/code_references" in _definition_metadata(dagster_dev, name), f"{name} links no source"


def test_dg_dev_loads_the_same_code_location(tmp_path: Path, demo_dir: Path) -> None:
    """`dg dev` (pyproject's [tool.dg]) serves the same assets as `dagster dev -w workspace.yaml`."""
    venv = Path(sys.executable).parent
    active = {"VIRTUAL_ENV": str(venv.parent), "PATH": f"{venv}{os.pathsep}{os.environ.get('PATH', '')}"}
    with serve(tmp_path, demo_dir, [str(venv / "dg"), "dev"], active) as server:
        nodes = _asset_nodes(server)
    assert {"archived_inputs", "staged_files", "bulk_backups", "messages", "warehouse_snapshot"} <= set(nodes)
    assert nodes["messages"]["isPartitioned"]


def test_backfill_of_every_partition_from_the_ui(dagster_dev: DagsterDev, demo_dir: Path) -> None:
    _stop_automation(dagster_dev)
    nodes = _asset_nodes(dagster_dev)
    months_assets = sorted(n for n, node in nodes.items() if "months_job" in node["jobNames"])
    assert "messages" in months_assets and "warehouse_snapshot" in months_assets

    ingest_seconds = _wait_run(dagster_dev, _launch_job(dagster_dev, "ingest_job"))
    first = _backfill_all_partitions(dagster_dev)
    before = _warehouse_state(demo_dir)
    assert before.row_counts["messages"] > 0
    assert len(before.message_ids) == before.row_counts["messages"], "message_id is not unique"
    assert before.row_counts["messages"] == before.staged_distinct, "a staged message did not reach its month"
    _assert_one_run_wrote(dagster_dev, first, months_assets)
    _assert_materialization_metadata(dagster_dev, "messages")

    snapshot_mtime = (demo_dir / "warehouse.snapshot.duckdb").stat().st_mtime_ns
    again = _backfill_all_partitions(dagster_dev)
    _assert_one_run_wrote(dagster_dev, again, months_assets)
    after = _warehouse_state(demo_dir)
    assert (demo_dir / "warehouse.snapshot.duckdb").stat().st_mtime_ns != snapshot_mtime, "snapshot not republished"
    assert after.row_counts == before.row_counts
    assert after.message_ids == before.message_ids
    assert after.months == before.months

    single, single_seconds = _all_partitions_as_one_run(dagster_dev)
    _assert_one_run_wrote(dagster_dev, single, months_assets)
    assert _warehouse_state(demo_dir) == after

    print(
        f"\n[dagster ui] demo: {before.row_counts['messages']:,} messages in {len(before.months)} months; "
        f"ingest_job {ingest_seconds:.1f} s;\n  backfill: {first}\n  again: {again}"
        f"\n  every partition as one run (no backfill daemon): {single_seconds:.1f} s wall"
    )


def test_backfill_with_24_months_of_history(dagster_dev: DagsterDev, demo_dir: Path) -> None:
    """The demo plus one account with two years of history: the same backfill, timed (the demo test shows that
    running it again changes nothing)."""
    _stop_automation(dagster_dev)
    nodes = _asset_nodes(dagster_dev)
    months_assets = sorted(n for n, node in nodes.items() if "months_job" in node["jobNames"])
    now = datetime.now().replace(second=0, microsecond=0)
    written = write_scale_inbox(
        demo_dir / "inbox" / "history",
        chats=HISTORY_CHATS,
        messages_per_chat=HISTORY_MESSAGES_PER_CHAT,
        as_zip=True,
        start=now - timedelta(days=HISTORY_DAYS),
        span_days=HISTORY_DAYS,
    )
    ingest_seconds = _wait_run(dagster_dev, _launch_job(dagster_dev, "ingest_job"))
    first = _backfill_all_partitions(dagster_dev)
    _assert_one_run_wrote(dagster_dev, first, months_assets)
    state = _warehouse_state(demo_dir)
    assert state.row_counts["messages"] == state.staged_distinct
    assert state.row_counts["messages"] >= written["messages"]
    assert len(state.months) >= 24
    single, single_seconds = _all_partitions_as_one_run(dagster_dev)
    _assert_one_run_wrote(dagster_dev, single, months_assets)

    print(
        f"\n[dagster ui] demo + 24 months: {state.row_counts['messages']:,} messages in {len(state.months)} months "
        f"({written['chats']:,} chats, {written['bytes'] / 1e6:.0f} MB of CSV); ingest_job {ingest_seconds:.1f} s;"
        f"\n  backfill: {first}\n  every partition as one run (no backfill daemon): {single_seconds:.1f} s wall"
    )


def _assert_one_run_wrote(server: DagsterDev, backfill: Backfill | str, assets: list[str]) -> None:
    """The backfill (or run) was one run, which wrote every month of `messages` and everything downstream."""
    if isinstance(backfill, Backfill):
        assert len(backfill.runs) == 1, f"a backfill of every partition should be one run: {backfill}"
    run_id = backfill.runs[0]["runId"] if isinstance(backfill, Backfill) else backfill
    data = server.query(
        """query ($id: ID!) { runOrError(runId: $id) {
             ... on Run { assetMaterializations { assetKey { path } partition } } } }""",
        {"id": run_id},
    )
    materialised = data["runOrError"]["assetMaterializations"]
    written = {"/".join(m["assetKey"]["path"]) for m in materialised}
    assert set(assets) <= written, f"not written by the backfill's run: {sorted(set(assets) - written)}"
    assert len([m for m in materialised if m["assetKey"]["path"] == ["messages"]]) > 90, "not every month"


def _assert_materialization_metadata(server: DagsterDev, asset: str) -> None:
    data = server.query(
        """query ($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
             ... on AssetNode { assetMaterializations(limit: 1) { metadataEntries { label } } } } }""",
        {"key": {"path": [asset]}},
    )
    materializations = data["assetNodeOrError"]["assetMaterializations"]
    assert materializations, f"{asset} was never materialised"
    labels = {e["label"] for e in materializations[0]["metadataEntries"]}
    assert {"dagster/row_count", "dagster/column_schema"} <= labels, labels


def test_lineoa_ui_shows_the_months_and_runs_of_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    demo = run_lineoa("demo", "--data-dir", str(data_dir))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    reader = connect(data_dir)
    try:
        query = "SELECT DISTINCT strftime(month, '%Y-%m-01') FROM messages ORDER BY 1"
        months = [m for (m,) in reader.execute(query).fetchall()]
    finally:
        reader.close()
    # The months as an older data directory or a copy holds them: written, with no materialisation recorded.
    with dg.DagsterInstance.from_config(str(data_dir / ".dagster")) as instance:
        instance.wipe_assets([dg.AssetKey("messages")])
        assert instance.get_materialized_partitions(dg.AssetKey("messages")) == set()

    with serve(tmp_path, data_dir, lineoa_command("ui", "--data-dir", str(data_dir)), own_instance=False) as server:
        statuses = server.query(
            """{ assetNodeOrError(assetKey: {path: ["messages"]}) { ... on AssetNode { assetPartitionStatuses {
                   ... on TimePartitionStatuses { ranges { status startKey endKey } } } } } }"""
        )["assetNodeOrError"]["assetPartitionStatuses"]["ranges"]
        runs = server.query("""{ runsOrError { ... on Runs { results { jobName status tags { key value } } } } }""")[
            "runsOrError"
        ]["results"]
    materialised = [(r["startKey"], r["endKey"]) for r in statuses if r["status"] == "MATERIALIZED"]
    missing = [m for m in months if not any(start <= m <= end for start, end in materialised)]
    assert missing == [], f"months with data not shown materialised: {missing} (ranges: {statuses})"
    by_command = [r for r in runs if {"key": "lineoa/started_by", "value": "command line"} in r["tags"]]
    assert sorted(r["jobName"] for r in by_command) == ["ingest_job", "months_job"]
    assert {r["status"] for r in by_command} == {"SUCCESS"}
