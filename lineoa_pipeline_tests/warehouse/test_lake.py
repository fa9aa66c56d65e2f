"""The warehouse on a DuckLake (`[warehouse]`) over a real PostgreSQL: the password kept out of every file and
message, an unreachable lake, months partitioned in the files, readers on snapshots, time travel, writers in
parallel processes, maintenance and the migration from the embedded file.

Every other warehouse test runs against the lake too (the `warehouse_kind` fixture, in the slow suite).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lineoa_pipeline.commands import cli
from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.commands.instance import INSTANCE_SETTINGS, open_instance
from lineoa_pipeline.definitions import build_defs
from lineoa_pipeline.defs.resources import WRITE_POOL
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.staged import Candidate, StagedFile
from lineoa_pipeline.ingest.staging import by_account, stage_pending
from lineoa_pipeline.line_export.render import ChatMessage, render_export
from lineoa_pipeline.settings.config import LakeSettings, SettingsError, parse_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.secrets import redact
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.classify import sync_settings, write_months
from lineoa_pipeline.warehouse.connection import NoWarehouseYet, connect, write_connection, writer_lanes
from lineoa_pipeline_tests.helpers import (
    ROOT,
    SPAN_DAYS,
    IngestDir,
    Reader,
    lineoa_command,
    lineoa_env,
    open_warehouse,
    published_state,
    read_tables,
    run_lineoa,
    use_lake,
    weekly_backup,
)
from lineoa_pipeline_tests.postgres import Postgres
from lineoa_pipeline_tests.processes import free_port

ACCOUNT = "さくら整体院"


def chat(month: int, replies: int = 30) -> list[ChatMessage]:
    """A chat in 2026-`month`: a question, the auto reply (classified by the month write), then staff replies."""
    day = datetime(2026, month, 3, 9, 0)
    out = [
        ChatMessage("User", "山田 花子", day, "予約したいです"),
        ChatMessage("Account", "応答メッセージ", day, "メッセージありがとうございます。"),
    ]
    out += [ChatMessage("Account", "受付", day + timedelta(minutes=i + 1), f"返信 {i}") for i in range(replies)]
    return out


def drop(data_dir: DataDir, name: str, month: int, account: str = ACCOUNT) -> None:
    path = data_dir.inbox / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_export(account, chat(month), downloaded_at=datetime(2026, month, 28)))


def counts(data_dir: DataDir, at: datetime | int | None = None) -> tuple[int, int]:
    conn = connect(data_dir.root, at=at)
    try:
        row = conn.execute("SELECT (SELECT count(*) FROM source_files), (SELECT count(*) FROM messages)").fetchone()
    finally:
        conn.close()
    assert row is not None
    return row[0], row[1]


def messages_files(data_dir: DataDir) -> int:
    """How many Parquet files the latest snapshot of `messages` reads."""
    conn = connect(data_dir.root)
    try:
        return len(conn.execute(f"SELECT data_file FROM ducklake_list_files('{lake.LAKE}', 'messages')").fetchall())
    finally:
        conn.close()


@pytest.fixture
def lake_dir(tmp_path: Path, postgres: Postgres) -> DataDir:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    use_lake(data_dir, postgres)
    return data_dir


# --- [warehouse] in lineoa.toml (fast: no PostgreSQL) ---------------------------------------------------------


def test_warehouse_settings_have_defaults_and_refuse_a_password_without_repeating_it() -> None:
    parsed = parse_settings({"warehouse": {"catalog": "postgres:dbname=l host=h user=u", "data_path": "lake/"}})
    assert parsed.warehouse == LakeSettings("postgres:dbname=l host=h user=u", "lake/", 2, 30)
    assert parse_settings({}).warehouse is None
    for catalog in (
        "postgres:dbname=l password=s3cret-word host=h",
        "postgres:PASSWORD = s3cret-word",
        "postgres:host=h password='s3cret-word x'",
        "postgres:postgresql://user:s3cret-word@db.example.internal/lineoa",  # a URI's user information
        "postgres:postgres://user:s3cret-word@db.example.internal:5432/lineoa?sslmode=require",
        "postgres:postgresql://user@db.example.internal/lineoa?password=s3cret-word",  # a URI's query
        "postgres:postgresql:///lineoa?host=h&Password=s3cret-word",
        "postgres:postgresql:///lineoa?pass%77ord=s3cret-word",
        "postgresql://user:s3cret-word@db.example.internal/lineoa",  # without the prefix: still no echo
    ):
        with pytest.raises(SettingsError) as refused:
            parse_settings({"warehouse": {"catalog": catalog, "data_path": "lake"}})
        assert "PGPASSWORD" in str(refused.value) and "s3cret-word" not in str(refused.value), catalog
    for catalog in ("postgres:postgresql://user@h/lineoa?sslmode=require", "postgres:dbname=passwords host=h"):
        assert parse_settings({"warehouse": {"catalog": catalog, "data_path": "lake"}}).warehouse


def test_every_form_of_a_connection_string_password_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "from-the-env")
    error = (
        "connection to server failed: password=pw1 host=h; postgresql://u:pw2@h:5432/db?password=pw3&x=1 "
        "and PASSWORD = 'pw 4' dbname=d, env from-the-env"
    )
    redacted = redact(error)
    assert not any(secret in redacted for secret in ("pw1", "pw2", "pw3", "pw 4", "from-the-env")), redacted
    assert "postgresql://u:***@h:5432/db?password=***&x=1" in redacted and "host=h" in redacted
    for bad, key in (
        ({"catalog": "postgres:dbname=l", "data_path": "x", "writers": 0}, "warehouse.writers"),
        ({"catalog": "postgres:dbname=l"}, "warehouse.data_path"),
        ({"catalog": "postgres:dbname=l", "data_path": "x", "threads": 2}, "warehouse.threads"),
        ({"catalog": "sqlite:x.db", "data_path": "x"}, "warehouse.catalog"),
    ):
        with pytest.raises(SettingsError, match=key):
            parse_settings({"warehouse": bad})


def test_a_data_path_outside_the_data_directory_is_absolute_on_purpose() -> None:
    def lake_settings(path: str) -> LakeSettings | None:
        return parse_settings({"warehouse": {"catalog": "postgres:dbname=l", "data_path": path}}).warehouse

    for slip in ("/", "//", "/..", "", " ", "..", "../..", "lake/../../other", "./../x"):
        with pytest.raises(SettingsError, match=r"warehouse\.data_path"):
            lake_settings(slip)
    for meant in ("lake", "lake/../lake2", "/srv/lineoa/lake/", "~/lake", "s3://bucket/lake"):
        assert lake_settings(meant) == LakeSettings("postgres:dbname=l", meant)


def test_a_relative_data_path_is_in_the_data_directory(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    assert lake.data_path(data_dir, LakeSettings("postgres:", "lake")) == str(tmp_path / "lake") + "/"
    assert lake.data_path(data_dir, LakeSettings("postgres:", "/srv/lake/")) == "/srv/lake/"
    assert lake.data_path(data_dir, LakeSettings("postgres:", "s3://bucket/lake")) == "s3://bucket/lake/"


# --- the lake itself (slow: a real PostgreSQL) ------------------------------------------------------------


@pytest.mark.slow
def test_the_password_reaches_no_output_and_an_unreachable_lake_leaves_the_inbox_pending(
    tmp_path: Path, postgres: Postgres
) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    drop(data_dir, "a", 1)
    database = postgres.new_database()

    def run(catalog: str, password: str) -> subprocess.CompletedProcess[str]:
        data_dir.settings_file.write_text(f'[warehouse]\ncatalog = "{catalog}"\ndata_path = "lake"\n')
        return subprocess.run(
            lineoa_command("run", "--data-dir", str(data_dir.root)),
            capture_output=True,
            text=True,
            timeout=600,
            env={**lineoa_env(), "PGPASSWORD": password},
            check=False,
        )

    for catalog, password in (
        (postgres.catalog(database, port=free_port()), postgres.password),  # nothing listens there
        (postgres.catalog(database), "wrong-" + postgres.password),
    ):
        failed = run(catalog, password)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1, failed.stderr  # one clear line
        message = lines[0]
        assert message.startswith("lineoa: the lake warehouse") and "cannot be attached" in message, message
        assert postgres.password not in failed.stdout + failed.stderr
        assert list(data_dir.inbox.iterdir()) and not list(data_dir.archive.iterdir())  # the inbox stays pending

    done = run(postgres.catalog(database), postgres.password)
    assert done.returncode == 0, done.stdout + done.stderr
    assert postgres.password not in done.stdout + done.stderr
    assert postgres.password not in data_dir.settings_file.read_text()
    assert counts(data_dir) == (1, len(chat(1)))
    assert not data_dir.warehouse.exists() and not data_dir.snapshot.exists()  # the lake holds it all


@pytest.mark.slow
def test_months_are_partitioned_in_the_files_and_time_travel_reads_an_earlier_run(lake_dir: DataDir) -> None:
    with pytest.raises(NoWarehouseYet):  # a reader before the first writer: no lake in the catalog yet
        connect(lake_dir.root)
    ingest = IngestDir(lake_dir)
    drop(lake_dir, "january", 1)
    ingest.ingest()
    first = counts(lake_dir)
    conn = connect(lake_dir.root)
    (latest, committed_at), *_ = reversed(lake.snapshots(conn))
    conn.close()

    drop(lake_dir, "february", 2)
    ingest.ingest()
    assert counts(lake_dir) == (2, 2 * len(chat(1)))
    assert counts(lake_dir, at=latest) == first == (1, len(chat(1)))
    assert counts(lake_dir, at=committed_at) == first
    with pytest.raises(ValueError, match="lake"):
        connect(lake_dir.root.parent / "elsewhere", at=latest)

    settings = lake.configured(lake_dir)
    assert settings is not None
    lake.maintain(lake_dir, settings)  # small commits' rows, inlined in the catalog, go to Parquet
    months = sorted(p.relative_to(lake_dir.root / "lake") for p in (lake_dir.root / "lake").rglob("*.parquet"))
    messages = [p.parent for p in months if p.parts[1] == "messages" and not p.name.endswith("-delete.parquet")]
    assert set(map(str, messages)) == {"main/messages/year=2026/month=1", "main/messages/year=2026/month=2"}


@pytest.mark.slow
@pytest.mark.parametrize("months", [("2026-01-01", "2026-02-01"), ("2026-01-01", "2026-01-01")])
def test_two_processes_writing_months_at_once_equal_a_sequential_run(
    tmp_path: Path, postgres: Postgres, months: tuple[str, str]
) -> None:
    """Both commits are held until both are ready: the same month conflicts and one writer retries."""
    directories = []
    for name, kind in (("parallel", "lake"), ("sequential", "embedded")):
        data_dir = DataDir(tmp_path / name)
        data_dir.create()
        if kind == "lake":
            use_lake(data_dir, postgres)
        drop(data_dir, "january", 1)
        drop(data_dir, "february", 2)
        with write_connection(data_dir) as conn:  # staged, classified by no month write yet
            archive_inbox(conn, data_dir, log=lambda _: None)
            stage_pending(conn, data_dir, log=lambda _: None)
            sync_settings(conn, parse_settings({}))
        directories.append(data_dir)
    parallel, sequential = directories

    barrier = tmp_path / "barrier"
    barrier.mkdir()
    writer = [sys.executable, "-m", "lineoa_pipeline_tests.month_writer_process", str(parallel.root)]
    writers = [
        subprocess.Popen(
            [*writer, month, str(barrier), f"w{i}", "2"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, month in enumerate(months)
    ]
    commits = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        commits.append(json.loads(out.strip().splitlines()[-1])["commits"])
    if months[0] == months[1]:
        assert sorted(commits)[-1] > 1, commits  # the later commit conflicted and ran again
    print(f"\n[lake] months {months}: commits per writer {commits}")

    with write_connection(sequential) as conn:
        for month in sorted(set(months)):
            write_months(conn, date.fromisoformat(month), date.fromisoformat(month))
    assert month_state(parallel) == month_state(sequential)
    auto_replies = month_state(parallel)["messages"]
    assert sum(1 for row in auto_replies if row[4] == "auto_reply") == len(set(months))


@pytest.mark.slow
def test_accounts_stage_in_lanes_at_once_and_equal_one_writer(tmp_path: Path, postgres: Postgres) -> None:
    """`writers = 2`: two connections stage the accounts at once (the largest alone); the tables equal those
    the embedded file's one writer makes of the same inbox."""
    accounts = {"さくら整体院": 3, "Sunrise Yoga": 2, "小林商店": 1}  # chats per account: the first is largest
    tables, logs = [], []
    for kind in ("lake", "embedded"):
        data_dir = DataDir(tmp_path / kind)
        data_dir.create()
        if kind == "lake":
            use_lake(data_dir, postgres, writers=2)
        for account, chats in accounts.items():
            for month in range(1, chats + 1):
                drop(data_dir, f"{account}/chat-{month}", month, account)
        said: list[str] = []
        with write_connection(data_dir, exclusive=True) as conn:
            archive_inbox(conn, data_dir, log=said.append)
            writers, open_writer = writer_lanes(data_dir)
            report = stage_pending(conn, data_dir, log=said.append, writers=writers, open_writer=open_writer)
        assert (report.files_loaded, report.messages_new) == (6, 6 * len(chat(1)))
        tables.append(_written_tables(data_dir))
        logs.append(said)
    assert tables[0] == tables[1]  # export_seq too: each account's messages numbered in their own order
    assert any("in 2 lanes at once" in line for line in logs[0])
    assert not any("lanes" in line for line in logs[1])
    assert logs[0][-1].startswith("staged 6 of 6 files")


@pytest.mark.slow
def test_the_first_writers_of_a_new_lake_all_attach_it(lake_dir: DataDir) -> None:
    """Runs started together on a new lake each create its catalog: the losers attach the winner's."""
    settings = lake.configured(lake_dir)
    assert settings is not None
    together = threading.Barrier(4)
    failed: list[BaseException] = []

    def attach() -> None:
        together.wait()
        try:
            lake.open_lake(lake_dir, settings).close()
        except lake.LakeUnreachable as exc:
            failed.append(exc)

    attaching = [threading.Thread(target=attach) for _ in range(4)]
    for thread in attaching:
        thread.start()
    for thread in attaching:
        thread.join()
    assert failed == []


@pytest.mark.slow
def test_each_writer_spills_into_a_folder_of_its_own(lake_dir: DataDir) -> None:
    """DuckDB names its spill files alike in every database: two writers sharing a folder overwrote each
    other's temp tables (a crash of a run staging two accounts at 1M messages each)."""
    with write_connection(lake_dir) as one, write_connection(lake_dir) as two:
        folders = [Path(c.execute("SELECT current_setting('temp_directory')").fetchone()[0]) for c in (one, two)]
        assert folders[0] != folders[1] and all(f.parent == lake_dir.root / ".lake-spill" for f in folders)
        for conn in (one, two):  # each spills a temp table larger than its memory, at once
            conn.execute("SET memory_limit = '64MB'")
            conn.execute("SET preserve_insertion_order = false")
        big = "CREATE TEMP TABLE big AS SELECT range AS n, repeat(range::VARCHAR, 30) AS s FROM range(2000000)"
        spilled = [threading.Thread(target=conn.execute, args=(big,)) for conn in (one, two)]
        for thread in spilled:
            thread.start()
        for thread in spilled:
            thread.join()
        assert all(list(f.iterdir()) for f in folders)  # both spilled, each into its own folder
        for conn in (one, two):
            assert conn.execute("SELECT count(*), sum(length(s)) FROM big").fetchone() == (2_000_000, 386_666_700)
    assert not any(f.exists() for f in folders)


def _written_tables(data_dir: DataDir) -> dict[str, list[tuple]]:
    """What the writers left (nothing published yet): the file itself, or the lake's latest snapshot."""
    conn = open_warehouse(data_dir)
    try:
        return read_tables(conn)
    finally:
        conn.close()


def test_accounts_are_shared_out_by_size_each_whole_in_one_lane() -> None:
    def staged(name: str, account: str, size: int) -> StagedFile:
        held = Candidate(Path(name), name, "chat", "0" * 64, size, True, Path(name), length=size)
        return StagedFile(held, account, 540, datetime(2026, 1, 28), 0, b"\r\n")

    sizes = [("a", 50), ("b", 40), ("a", 10), ("c", 30), ("d", 25)]
    files = [staged(f"{account}-{i}", account, size) for i, (account, size) in enumerate(sizes)]
    lanes = by_account(files, 2)
    assert [[f.source_file for f in lane] for lane in lanes] == [["a-0", "a-2", "d-4"], ["b-1", "c-3"]]
    assert by_account(files, 9) == [[files[0], files[2]], [files[1]], [files[3]], [files[4]]]
    assert by_account([], 2) == []


@pytest.mark.slow
def test_the_write_pool_allows_the_lakes_writers(tmp_path: Path, postgres: Postgres) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    with open_instance(data_dir) as instance:  # the embedded file: one writer
        assert instance.event_log_storage.get_concurrency_info(WRITE_POOL).slot_count == 1
    use_lake(data_dir, postgres, writers=3)
    with open_instance(data_dir) as instance:
        assert instance.event_log_storage.get_concurrency_info(WRITE_POOL).slot_count == 3


@pytest.mark.slow
def test_the_dagster_instance_lives_in_the_lakes_postgresql(
    tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team's deployment: runs, materialisations and the write pool in PostgreSQL (`dagster-postgres`), the
    password from PGPASSWORD as the lake's; no SQLite storage under DAGSTER_HOME."""
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    use_lake(data_dir, postgres, writers=2)
    drop(data_dir, "january", 1)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        INSTANCE_SETTINGS.read_text()
        + "storage:\n  postgres:\n    postgres_db:\n"
        + f"      username: {postgres.user}\n      password: {{env: PGPASSWORD}}\n      hostname: 127.0.0.1\n"
        + f"      port: {postgres.port}\n      db_name: {postgres.new_database()}\n"
        + "      scheme: postgresql+psycopg2\n"  # the driver dagster-postgres brings (SQLAlchemy 2.1 assumes psycopg 3)
    )
    done = subprocess.run(
        lineoa_command("run", "--data-dir", str(data_dir.root)),
        capture_output=True,
        text=True,
        timeout=600,
        env={**lineoa_env(), "DAGSTER_HOME": str(home)},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert postgres.password not in done.stdout + done.stderr
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with open_instance(data_dir) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert {r.dagster_run.status for r in instance.get_run_records()} == {dg.DagsterRunStatus.SUCCESS}
        assert instance.get_materialized_partitions(dg.AssetKey("messages")) == {"2026-01-01"}
        assert instance.event_log_storage.get_concurrency_info(WRITE_POOL).slot_count == 2
    assert not list(home.rglob("*.db"))  # no SQLite: only the runs' compute logs stay on this machine


def month_state(data_dir: DataDir) -> dict[str, list[tuple]]:
    """What month writes change: the messages' classes, which months were written, which are still pending."""
    with write_connection(data_dir) as conn:
        return {
            "messages": conn.execute("SELECT * FROM messages ORDER BY ALL").fetchall(),
            "written": conn.execute("SELECT * FROM _written_months ORDER BY ALL").fetchall(),
            "pending": conn.execute("SELECT DISTINCT month FROM _pending_months ORDER BY 1").fetchall(),
        }


@pytest.mark.slow
def test_migrate_copies_the_embedded_warehouse_into_the_lake(
    tmp_path: Path, postgres: Postgres, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline_dir = DataDir(tmp_path / "data")
    pipeline_dir.create()
    monkeypatch.setenv("LINEOA_DATA_DIR", str(pipeline_dir.root))
    drop(pipeline_dir, "january", 1)
    drop(pipeline_dir, "february", 2)
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    views = "SELECT * FROM monthly_response_stats ORDER BY ALL"
    conn = connect(pipeline_dir.root)
    before, stats = read_tables(conn), conn.execute(views).fetchall()
    conn.close()
    assert len(before["messages"]) == 2 * len(chat(1))

    use_lake(pipeline_dir, postgres)
    assert cli.main(["migrate", "--to-lake", "--data-dir", str(pipeline_dir.root)]) == 0
    assert "migrated into the lake" in capsys.readouterr().out
    conn = connect(pipeline_dir.root)
    try:
        assert read_tables(conn) == before
        assert conn.execute(views).fetchall() == stats
    finally:
        conn.close()
    assert cli.main(["migrate", "--to-lake", "--data-dir", str(pipeline_dir.root)]) == 1  # never twice
    assert "already holds a warehouse" in capsys.readouterr().err

    drop(pipeline_dir, "march", 3)  # and runs go on in the lake
    assert cli.main(["run", "--data-dir", str(pipeline_dir.root)]) == 0
    assert counts(pipeline_dir) == (3, 3 * len(chat(1)))


@pytest.mark.slow
def test_maintenance_merges_files_and_expires_old_snapshots(lake_dir: DataDir) -> None:
    ingest = IngestDir(lake_dir)
    # A chat a week, all in January: four commits, four small files in one partition. No auto reply, so no
    # month write deletes a row from them (DuckLake merges no file that has deletes).
    plain = [m for m in chat(1) if m.sender_name != "応答メッセージ"]
    for week in range(1, 5):
        ingest.drop(f"week{week}.csv", render_export(ACCOUNT, plain, downloaded_at=datetime(2026, 1, 28)))
        ingest.ingest()
        if week == 1:
            conn = connect(lake_dir.root)
            first_snapshot = lake.snapshots(conn)[-1][0]
            conn.close()
    conn = connect(lake_dir.root)
    before = read_tables(conn)
    conn.close()
    files_before = messages_files(lake_dir)

    settings = lake.configured(lake_dir)
    assert settings is not None
    # the nightly schedule's job, from the definitions of a data directory with [warehouse]
    result = build_defs(lake_dir).resolve_job_def("lake_maintenance_job").execute_in_process()
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}  # type: ignore[union-attr]
    assert metadata["lake"] is True and metadata["files_after"] > 0
    assert 0 < messages_files(lake_dir) < files_before, files_before  # January's small files merged
    assert counts(lake_dir, at=first_snapshot) == (1, len(plain))  # kept: younger than keep_snapshots_days

    expired = lake.maintain(lake_dir, LakeSettings(settings.catalog, settings.data_path, keep_snapshots_days=0))
    assert expired["snapshots_after"] < expired["snapshots_before"]
    conn = connect(lake_dir.root)
    try:
        assert read_tables(conn) == before
    finally:
        conn.close()
    with pytest.raises(lake.LakeUnreachable, match=r"(?i)snapshot"):
        counts(lake_dir, at=first_snapshot)


@pytest.mark.slow
def test_readers_during_a_run_see_whole_snapshots_only(tmp_path: Path, postgres: Postgres) -> None:
    """Notebooks on `connect()` in their own processes while `lineoa run` writes the lake: every state they
    see is a committed snapshot (each message stored counted by the file that brought it), never part of one."""
    data = tmp_path / "data"
    write_demo_data(data)
    use_lake(DataDir(data), postgres)
    first = run_lineoa("run", data_dir=data)
    assert first.returncode == 0, first.stdout + first.stderr
    before = published_state(data)
    stop = tmp_path / "stop-readers"
    readers = [Reader(data, "hold", stop), Reader(data, "reopen", stop)]
    try:
        last_week = datetime.now().replace(second=0, microsecond=0) - timedelta(days=8)
        weekly_backup(data, last_week - timedelta(days=SPAN_DAYS), last_week)
        run = run_lineoa("run", data_dir=data)
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        stop.touch()
    after = published_state(data)
    assert before[2] < after[2]
    for reader in readers:
        seen = reader.finish()
        assert not seen["errors"], seen["errors"][0]
        assert all(files_new == messages for _, files_new, messages in seen["seen"]), seen["seen"]
        assert seen["seen"] == sorted(seen["seen"]) and seen["seen"][0] == before and seen["last"] == after
        print(f"\n[lake readers] {seen['queries']} queries saw {len(seen['seen'])} snapshots: {seen['seen']}")
