"""A whole run through the Dagster definitions the UI shows: ingest, then the stale months in one run."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from lineoa_pipeline.commands.instance import fail_abandoned_runs, open_instance, record_months_held
from lineoa_pipeline.commands.progress import RunProgress, progress_logger
from lineoa_pipeline.commands.signals import stop_if_interrupted
from lineoa_pipeline.defs.ingest.jobs import STARTED_BY, after_staging
from lineoa_pipeline.defs.partitions import RANGE_END, RANGE_START
from lineoa_pipeline.defs.retention.sensors import raise_retention_alerts
from lineoa_pipeline.ingest.archive import register_archive
from lineoa_pipeline.ingest.counts import IngestCounts
from lineoa_pipeline.settings.config import load_settings
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.settings.language import ENGLISH, N_, Language, Told, operator_language
from lineoa_pipeline.warehouse import lake
from lineoa_pipeline.warehouse.connection import write_connection, writer_lock

INFO_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class RunSummary(IngestCounts):
    """The counts a run ends with."""

    ok: bool = True
    months_written: list[str] = field(default_factory=list)
    months_outside: list[str] = field(default_factory=list)  # months with messages but no partition
    alerts_new: int = 0  # retention alerts raised for the first time

    def __str__(self) -> str:
        return self.describe(ENGLISH)

    def describe(self, lang: Language) -> str:
        """One line in `lang`; months written are always a range (a run writes the months from its first to
        its last)."""
        _ = lang.gettext
        months = self.months_written
        span = ""
        if len(months) == 1:
            span = _(" ({first})", first=months[0])
        elif months:
            span = _(" ({first} to {last})", first=months[0], last=months[-1])
        unchanged = _(" ({count} unchanged, not parsed)", count=self.files_unchanged) if self.files_unchanged else ""
        return _(
            "{outcome}: files loaded {loaded}{unchanged}, already seen {seen}, quarantined {quarantined}; "
            "messages new {new}, duplicate {duplicates}; rows rejected {rejected}; months written {months}{span}; "
            "retention alerts new {alerts}",
            outcome=_("done") if self.ok else _("FAILED"),
            loaded=self.files_loaded,
            unchanged=unchanged,
            seen=self.files_seen,
            quarantined=self.files_quarantined,
            new=self.messages_new,
            duplicates=self.duplicates,
            rejected=self.rejected,
            months=len(months),
            span=span,
            alerts=self.alerts_new,
        )

    def advice(self, lang: Language) -> str | None:
        """What the operator should do about the run, beyond its counts, in `lang`."""
        if not self.months_outside:
            return None
        return lang.ngettext(
            "{count} month with messages lies outside the monthly partitions (from {first}): set first_month "
            "in lineoa.toml to include it",
            "{count} months with messages lie outside the monthly partitions (from {first}): set first_month "
            "in lineoa.toml to include them",
            len(self.months_outside),
            first=self.months_outside[0][:7],
        )


def run_pipeline(
    data_dir: DataDir,
    instance: dg.DagsterInstance | None = None,
    verbose: bool = False,
    say: Callable[[str], None] = print,
) -> RunSummary:
    """Take the inbox in and rewrite every month it touched: one run to ingest, one for the month range;
    then raise the retention alerts the new warehouse shows, as the retention sensor does."""
    from lineoa_pipeline.definitions import build_defs

    definitions = build_defs(data_dir)
    data_dir.create()
    summary = RunSummary()
    lang = operator_language(load_settings(data_dir.settings_file).language)
    progress = RunProgress(quiet=verbose, lang=lang)
    run_config = {"loggers": {"progress": {}, **(INFO_LOGS["loggers"] if verbose else {})}}

    def execute(job: str, request: dg.RunRequest | None = None) -> dg.ExecuteInProcessResult:
        return (
            definitions.resolve_job_def(job)
            .with_logger_defs({"progress": progress_logger(progress), "console": dg.colored_console_logger})
            .execute_in_process(
                instance=inst,
                run_config=run_config,
                tags={**STARTED_BY, **(request.tags if request else {})},
                asset_selection=request.asset_selection if request else None,
                raise_on_error=False,
            )
        )

    try:
        with writer_lock(data_dir, on_wait=say), _instance(data_dir, instance) as inst:
            fail_abandoned_runs(inst)
            progress.start()
            ingest = execute("ingest_job")
            stop_if_interrupted()  # Dagster took the signal and failed the step: stop here, in one line
            summary.ok = ingest.success
            if not ingest.success:
                return summary
            staged = _metadata(ingest, "staged_files")
            for counted in fields(IngestCounts):
                setattr(summary, counted.name, int(staged.get(counted.name, 0)))
            # a file whose bytes were an input already is not staged again: the archive step counts it
            summary.files_seen += int(_metadata(ingest, "archived_inputs").get("already_seen_inputs", 0))
            summary.months_outside = list(staged.get("months_outside_partitions", []))
            definitions = _months_from(definitions, data_dir, staged.get("stale_months") or [])
            months = _months(definitions)
            request = after_staging(staged, data_dir, months)
            if request is None:
                progress.close()
                say(lang.gettext("nothing new since the last run: the warehouse and its snapshot are current"))
            else:
                summary.months_written = months_in(request, definitions)
                progress.months = len(summary.months_written)
                summary.ok = execute("months_job", request).success
                stop_if_interrupted()
                progress.close()
                record_months_held(inst, data_dir, months)
        if summary.ok:  # every run, one with nothing new included: time alone puts months at risk
            summary.alerts_new = _raise_alerts(data_dir, say)
    finally:
        progress.close()
    return summary


def months_in(request: dg.RunRequest, definitions: dg.Definitions) -> list[str]:
    """The months (`YYYY-MM`) a `months_job` run request covers."""
    first, last = request.tags.get(RANGE_START), request.tags.get(RANGE_END)
    if not first or not last:
        return []
    return [key[:7] for key in _months(definitions).get_partition_keys() if first <= key <= last]


def _months(definitions: dg.Definitions) -> dg.PartitionsDefinition:
    months = definitions.resolve_assets_def("messages").partitions_def
    assert months is not None, "messages is partitioned by month"
    return months


def _months_from(definitions: dg.Definitions, data_dir: DataDir, stale: list[str]) -> dg.Definitions:
    """The definitions again, from the earliest stale month, when `first_month = "auto"` and staging found
    months before their first (a first run, an older backup): the run then writes them as partitions."""
    first = min(stale, default=None)
    if first is None or load_settings(data_dir.settings_file).first_month is not None:
        return definitions
    if first[:7] + "-01" >= _months(definitions).get_first_partition_key():
        return definitions
    from lineoa_pipeline.definitions import build_defs

    return build_defs(data_dir, earliest=date.fromisoformat(first))


def _raise_alerts(data_dir: DataDir, say: Callable[[str], None]) -> int:
    """The retention alerts not raised before, as of now, as the retention sensor raises them: their digest
    printed, a line per account and level. Returns how many were new."""
    check = raise_retention_alerts(data_dir, load_settings(data_dir.settings_file), datetime.now(UTC), None)
    if check is None:
        return 0
    for line in [*check.lines(), *check.problems()]:
        say(line)
    return check.new


class RebuildError(Exception):
    """A rebuild that cannot start; the warehouse is left as it was."""


class WarehouseBusy(Told):
    """Another program (not a run of this pipeline) has the warehouse file open."""


def ensure_not_held(data_dir: DataDir) -> None:
    """Raise WarehouseBusy, in one line, when a program outside the pipeline holds the warehouse (a database
    tool or a notebook that opened `warehouse.duckdb` itself): a run would fail on DuckDB's lock."""
    if not data_dir.warehouse.is_file():
        return
    with writer_lock(data_dir, on_wait=print):  # a run of ours holding it is waited for, not reported
        try:
            duckdb.connect(data_dir.warehouse).close()
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc):
                return  # a damaged file, say: the run (or rebuild) reports it, or replaces it
            holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(exc))
            who = f" ({holder[1]}, process {holder[2]})" if holder else ""
            raise WarehouseBusy(
                N_(
                    "another program{who} has {file} open, so the run cannot write it: close that program "
                    "(notebooks read the snapshot through connect()) and run again"
                ),
                who=who,
                file=str(data_dir.warehouse),
            ) from None


def rebuild_warehouse(
    data_dir: DataDir, instance: dg.DagsterInstance | None = None, verbose: bool = False
) -> RunSummary:
    """Recreate the warehouse from `archive/` alone, then run as a fresh run would (new inbox files
    included). The old warehouse is kept aside until the new one is published, then deleted; if the run
    fails, it is put back. Raises RebuildError, touching nothing, when the archive holds no input."""
    archive = data_dir.archive
    if not archive.is_dir() or not any(len(p.name) == 64 and "." not in p.name for p in archive.iterdir()):
        raise RebuildError(
            f"nothing to rebuild from: {archive} is missing or holds no archived input; the warehouse is left as it is"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    with writer_lock(data_dir, on_wait=print):
        moved = []
        if (settings := lake.configured(data_dir)) is not None:
            # a lake's tables are dropped, not set aside: the dropped state stays readable with connect(at=…)
            lake.drop_everything(data_dir, settings)
        else:
            for path in (data_dir.warehouse, _wal(data_dir)):
                if path.exists():
                    aside = path.with_name(f"{path.name}.before-rebuild-{stamp}")  # never over an earlier one
                    os.replace(path, aside)
                    moved.append((aside, path))
        try:
            with write_connection(data_dir, exclusive=True) as conn:
                copies = register_archive(conn, data_dir)
            summary = run_pipeline(data_dir, instance, verbose)
        except BaseException:
            _put_back(data_dir, moved)
            raise
        if not summary.ok:
            _put_back(data_dir, moved)
            return summary
        for aside, _ in moved:
            aside.unlink()
        summary.files_seen += copies  # as a fresh run of every name the archive recorded counts them
        return summary


def _put_back(data_dir: DataDir, moved: list[tuple[Path, Path]]) -> None:
    """The warehouse as it was before the rebuild: the new one (and its write-ahead log) gone, the old back."""
    if lake.configured(data_dir) is not None:
        return  # a lake's rebuild set nothing aside, and warehouse.duckdb beside it is not the lake's
    for path in (data_dir.warehouse, _wal(data_dir)):
        path.unlink(missing_ok=True)
    for aside, path in moved:
        os.replace(aside, path)


def _wal(data_dir: DataDir) -> Path:
    return data_dir.warehouse.with_name(data_dir.warehouse.name + ".wal")


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization  # type: ignore[union-attr]
        if mat.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in mat.metadata.items()}
    return {}


@contextmanager
def _instance(data_dir: DataDir, given: dg.DagsterInstance | None) -> Iterator[dg.DagsterInstance]:
    """The given instance, else the one the UI shares (DAGSTER_HOME, or `.dagster/` in the data directory)."""
    if given:
        yield given
        return
    with open_instance(data_dir) as inst:
        yield inst
