"""Exports in: inbox -> archive -> messages stored once (each file parsed once) -> classified by month."""

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, timedelta

import dagster as dg

from lineoa_pipeline.defs.ingest.jobs import STARTED_BY
from lineoa_pipeline.defs.metadata import described_schema, preview_table, relation_metadata
from lineoa_pipeline.defs.partitions import DEFAULT_MONTHS, data_months, monthly_partitions
from lineoa_pipeline.defs.resources import WRITE_POOL, WarehouseResource
from lineoa_pipeline.ingest.archive import archive_inbox
from lineoa_pipeline.ingest.staging import carried_over, stage_pending
from lineoa_pipeline.settings.config import setting_warnings
from lineoa_pipeline.warehouse.classify import (
    mark_broadcast_months,
    mark_reclassified_months,
    sync_settings,
    write_months,
)
from lineoa_pipeline.warehouse.connection import writer_lanes

GROUP = "ingest"


@dg.asset(group_name=GROUP, kinds={"python", "file"}, pool=WRITE_POOL)
def archived_inputs(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every `.zip` and `.csv` in `inbox/` (any depth) copied byte for byte into `archive/<sha256>`, with
    the paths it arrived under beside it, before anything reads it. Unchanged files are not hashed again."""
    with warehouse.write(context.log, exclusive=True) as conn:
        report = archive_inbox(conn, warehouse.location, context.log.info)
        total = conn.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM _inputs").fetchone() or (0, 0)
        meta = relation_metadata(conn, "_inputs", total[0])
    context.log.info(
        f"inbox: {report.new_inputs} new inputs, {report.already_seen} already seen, {report.unchanged} unchanged"
    )
    return dg.MaterializeResult(
        metadata={
            **meta,
            "new_inputs": report.new_inputs,
            "unchanged_inputs": report.unchanged,
            "already_seen_inputs": report.already_seen,
            "archived_bytes_new": report.archived_bytes,
            "archived_inputs_total": total[0],
            "archived_bytes_total": total[1],
        }
    )


@dg.asset(
    deps=[archived_inputs],
    group_name=GROUP,
    kinds={"duckdb"},
    pool=WRITE_POOL,
    # the tables a staging writes: source_files (its column schema), quarantined_files and rejected_rows
    metadata={
        "dagster/column_schema": described_schema("source_files"),
        **{table: described_schema(table) for table in ("quarantined_files", "rejected_rows")},
    },
)
def staged_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Each archived export parsed once (DuckDB, a batch of files per scan, one transaction per batch):
    distinct messages staged, duplicates counted, bad rows rejected, unreadable files quarantined.
    Its metadata lists the months of `messages` that are now stale: those with new messages, and those
    a change of `lineoa.toml` classifies differently (sender roles, placeholder texts, chat types, menu
    texts, broadcasts), and those whose broadcasts the new messages change (a window crosses month ends)."""
    settings = warehouse.settings()
    with warehouse.write(context.log, exclusive=True) as conn:
        carried = carried_over(conn)  # before this run marks any month: a run interrupted before writing its own
        sync_settings(conn, settings)
        if reclassified := mark_reclassified_months(conn):
            context.log.info(f"lineoa.toml classifies messages differently now: {reclassified} months to rewrite")
        writers, open_writer = writer_lanes(warehouse.location)
        report = stage_pending(conn, warehouse.location, context.log.info, writers=writers, open_writer=open_writer)
        if carried.files_loaded:
            context.log.info(f"{carried.files_loaded} files staged by an interrupted run: their months are written now")
            report.add(carried)
        report.months = sorted({*report.months, *mark_broadcast_months(conn)})
        accounts = {row[0] for row in conn.execute("SELECT DISTINCT account_name FROM source_files").fetchall()}
        for warning in setting_warnings(settings, accounts):
            context.log.warning(f"lineoa.toml: {warning}")
        loaded = warehouse.first_month  # the months of the definitions this run belongs to
        months = (
            monthly_partitions(settings, date.fromisoformat(loaded))
            if loaded
            else data_months(warehouse.location, settings)
        )
        partitions = months.get_partition_keys()
        outside = sorted(m for m in report.months if m.isoformat() not in partitions)
        if settings.first_month is None and STARTED_BY.items() <= context.run.tags.items():
            # first_month "auto": the command builds the definitions again from the earliest, and writes it
            outside = [m for m in outside if m.isoformat() > partitions[0]]
        if outside:  # no partition will ever classify these months: do it here
            sync_settings(conn, settings)
            for month in outside:
                write_months(conn, month, month)
            context.log.warning(
                f"{len(outside)} months with messages lie outside the monthly partitions (first {outside[0]:%Y-%m}):"
                " they are in `messages`; to see them as partitions, "
                + (
                    "reload the definitions (first_month is auto)"
                    if settings.first_month is None
                    else "set first_month in lineoa.toml earlier"
                )
            )
        meta = relation_metadata(
            conn,
            "source_files",
            (conn.execute("SELECT count(*) FROM source_files").fetchone() or (0,))[0],
            "SELECT file_path, rows_read, messages_new, duplicates, rejected FROM source_files "
            "ORDER BY ingested_at DESC, file_path LIMIT 10",
        )
    summary = asdict(report)
    months = [m.isoformat() for m in summary.pop("months") if m not in outside]
    return dg.MaterializeResult(
        metadata={
            **meta,
            **summary,
            "stale_months": dg.MetadataValue.json(months),
            "months_outside_partitions": dg.MetadataValue.json([m.isoformat() for m in outside]),
        },
    )


@dg.asset(
    deps=[staged_files],
    group_name=GROUP,
    kinds={"duckdb"},
    pool=WRITE_POOL,
    output_required=False,
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(days=30), warn_window=timedelta(days=8)),
)
def bulk_backups(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    """The accounts' bulk backups (zips), the only exports that count towards a month's coverage.
    Materialised only when a new one arrives, so its freshness shows a lapsed weekly backup habit
    (warn after 8 days, fail after 30) before any month is at risk."""
    last = context.instance.get_latest_materialization_event(context.asset_key)
    since = last.timestamp if last else 0.0
    with warehouse.write(context.log) as conn:
        rows = conn.execute(
            """SELECT account_name, max(downloaded_at), count(DISTINCT downloaded_at), max(epoch(ingested_at))
               FROM source_files WHERE is_bulk GROUP BY account_name ORDER BY account_name"""
        ).fetchall()
        files = (conn.execute("SELECT count(*) FROM source_files WHERE is_bulk").fetchone() or (0,))[0]
        meta = relation_metadata(conn, "source_files", files)
    if not any(row[3] > since for row in rows):
        context.log.info("no new bulk backup in this run")
        return
    yield dg.MaterializeResult(
        metadata={
            **meta,
            "accounts": len(rows),
            "last_bulk_backup_at": dg.MetadataValue.json({a: d.isoformat() for a, d, _, _ in rows}),
            "preview": preview_table(
                [(a, d.isoformat(), n) for a, d, n, _ in rows], ["account", "last bulk backup", "backups"]
            ),
        }
    )


@dg.asset(
    deps=[staged_files],
    partitions_def=DEFAULT_MONTHS,  # the definitions give it the data directory's months
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"duckdb"},
    pool=WRITE_POOL,
    metadata={"dagster/column_schema": described_schema("messages")},
)
def messages(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per distinct message, partitioned by the local month of `sent_at`. Staging stores each
    message once; a run over a range of months classifies their rows in place (`sender_type`, `kind`,
    `chat_type` from the current settings) in one transaction: re-materialising never doubles a month."""
    window = context.partition_time_window
    first, last = window.start.date(), (window.end - timedelta(days=1)).date().replace(day=1)
    with warehouse.write(context.log) as conn:
        sync_settings(conn, warehouse.settings())
        written = write_months(conn, first, last)
        context.log.info(
            f"messages: wrote {written.rows:,} rows for {first:%Y-%m} to {last:%Y-%m}, "
            f"{written.reclassified:,} of them classified anew"
        )
        meta = relation_metadata(
            conn,
            "messages",
            written.rows,
            """SELECT strftime(month, '%Y-%m') AS month, account_name, count(*) AS messages,
                      count(DISTINCT chat_name) AS chats
               FROM messages WHERE month BETWEEN ? AND ? GROUP BY ALL ORDER BY 1 DESC, 2 LIMIT 24""",
            [first, last],
        )
    return dg.MaterializeResult(
        metadata={
            **meta,
            "months": json.dumps([first.isoformat(), last.isoformat()]),
            "rows_reclassified": written.reclassified,
        }
    )
