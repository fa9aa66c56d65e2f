"""The analytics views (`sql/views/*.sql`): response times and the statistics built on them."""

from __future__ import annotations

import duckdb

from lineoa_pipeline.sqlfiles import run_script, transaction

# Dependency order: most read response_times.
VIEWS = (
    "response_times",
    "monthly_response_stats",
    "staff_response_stats",
    "tag_counts",
    "response_buckets",
    "hourly_volume",
    "line_reply_times",
    "monthly_line_reply_stats",
    "waiting_chats",
    "frequent_user_texts",
)


def create_views(conn: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the inquiries behind `response_times` and (re)create the views, in one transaction.

    Run it after every change to `messages` or the settings (a run: once, before publishing the snapshot).
    The settings tables start empty (the defaults) if `sync_settings` has never run.
    """
    with transaction(conn):
        has_settings = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = '_cfg_accounts'"
        ).fetchone()
        if not has_settings or not has_settings[0]:
            run_script(conn, "settings_tables")
        for view in VIEWS:
            run_script(conn, f"views/{view}")
