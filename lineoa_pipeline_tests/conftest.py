"""Shared fixtures: a real warehouse built from export files, as `lineoa run` builds it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from hypothesis import HealthCheck, settings

from lineoa_pipeline.commands.instance import INSTANCE_SETTINGS
from lineoa_pipeline.commands.run import run_pipeline
from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.staging import stage_pending
from lineoa_pipeline.settings.config import parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.connection import write_connection
from lineoa_pipeline_tests.helpers import BuildWarehouse, IngestDir, demo_data_dir, use_lake
from lineoa_pipeline_tests.history.sample import History, build_history
from lineoa_pipeline_tests.postgres import NoPostgres, Postgres, running_postgres

# --- the warehouse under test: the embedded file, or a DuckLake on a real PostgreSQL -------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL for the lake's catalog, started once per session; skips where none is installed,
    except in CI, which installs it (.ci/run): there a missing server fails the lake's tests."""
    try:
        with running_postgres() as server:
            yield server
    except NoPostgres as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(params=["embedded", pytest.param("lake", marks=pytest.mark.slow)])
def warehouse_kind(request: pytest.FixtureRequest) -> str:
    """Which warehouse the data directories of a test use: the embedded file (the fast suite), or a lake
    (except in modules marked `embedded_only`)."""
    return request.param


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the lake's runs of the tests marked `embedded_only`: what they test (reading an export's
    bytes) is the same code whatever the warehouse, and the lake's own paths have their tests."""

    def lake_only_in_name(item: pytest.Item) -> bool:
        callspec = getattr(item, "callspec", None)
        return (
            bool(item.get_closest_marker("embedded_only"))
            and callspec is not None
            and (callspec.params.get("warehouse_kind") == "lake")
        )

    dropped = [item for item in items if lake_only_in_name(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not lake_only_in_name(item)]


@pytest.fixture
def new_data_dir(tmp_path: Path, warehouse_kind: str, request: pytest.FixtureRequest) -> Callable[[str], DataDir]:
    """`new_data_dir(name)`: a created data directory under tmp_path, on the warehouse of `warehouse_kind`."""

    def make(name: str = "data") -> DataDir:
        data_dir = DataDir(tmp_path / name)
        data_dir.create()
        if warehouse_kind == "lake":
            use_lake(data_dir, request.getfixturevalue("postgres"))
        return data_dir

    return make


@pytest.fixture
def build_warehouse(new_data_dir: Callable[[str], DataDir]) -> BuildWarehouse:
    """`build(inbox, settings)`: write `inbox` (relative path -> bytes) into a fresh data directory, ingest
    it and write every month of `messages` with `settings` (a parsed lineoa.toml table); returns the DataDir.
    """

    def build(inbox: Mapping[str, bytes], settings: Mapping[str, Any] | None = None) -> DataDir:
        data_dir = new_data_dir("data")
        for relative, data in inbox.items():
            path = data_dir.inbox / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        with write_connection(data_dir) as conn:
            archive_inbox(conn, data_dir, log=lambda _: None)
            stage_pending(conn, data_dir, log=lambda _: None)
            sync_settings(conn, parse_settings(dict(settings or {})))
            write_months(conn, date(2019, 1, 1), date(2030, 1, 1))
        return data_dir

    return build


# --- ingest, pipeline and table helpers (ingest/, test_hostile_inputs, test_rebuild, ...) ---------------

# Hypothesis: a fixed number of examples per property (CI runs exactly these), each a real ingest (~0.1 s);
# HYPOTHESIS_PROFILE=thorough for 20 times as many. No example database is written into the repository.
settings.register_profile(
    "ci", max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2_000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def ingest_dir(new_data_dir: Callable[[str], DataDir]) -> IngestDir:
    return IngestDir(new_data_dir("data"))


@pytest.fixture(scope="session")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    """The definitions built for an empty data directory of the session's own: never for the project's
    `data/` or the caller's `LINEOA_DATA_DIR`, whose settings would change what the tests see."""
    data_dir = DataDir(tmp_path_factory.mktemp("definitions"))
    data_dir.create()
    return build_defs(data_dir)


@pytest.fixture
def history(tmp_path: Path) -> History:
    """The published sample history every reader test starts from (`history/sample.py`)."""
    return build_history(tmp_path)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """The demo's data directory after one run, shared by the session's tests: read it, never change it
    (a test that writes into it restores what it changed)."""
    data_dir = demo_data_dir(tmp_path_factory.mktemp("demo"))
    assert run_pipeline(data_dir).ok
    return data_dir


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Dagster instance with the project's settings for the session's in-process runs: a new instance
    takes seconds to create (its storage migrations), one per test would add minutes to the suite."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(INSTANCE_SETTINGS, home / "dagster.yaml")
    return home


@pytest.fixture
def pipeline_dir(
    new_data_dir: Callable[[str], DataDir], monkeypatch: pytest.MonkeyPatch, dagster_home: Path
) -> DataDir:
    """An empty data directory that `run_pipeline` and `lineoa` (in this process) use, as `LINEOA_DATA_DIR`,
    recording their runs in the session's instance (`DAGSTER_HOME`)."""
    data_dir = new_data_dir("data")
    monkeypatch.setenv("LINEOA_DATA_DIR", str(data_dir.root))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return data_dir


@pytest.fixture(autouse=True)
def _no_leftover_definitions_state_storage() -> Iterator[None]:
    """Dagster keeps an instance's definitions-state storage in a context variable that a test's schedule or
    sensor evaluation can leave set after its instance (and its folder) is gone; the next test that loads the
    definitions would open that deleted database. Each test starts without one, as a new process does."""
    from dagster._core.storage.defs_state.base import _current_storage

    _current_storage.set(None)
    yield
