"""The analytics views (`sql/views/*.sql`): response times and the statistics built on them."""

from __future__ import annotations

import duckdb

from lineoa_pipeline.sqlfiles import retry_conflicts, run_script, transaction

# Dependency order: the others read response_times.
VIEWS = ("response_times", "monthly_response_stats", "staff_response_stats", "tag_counts")


def create_views(conn: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the inquiries behind `response_times` and (re)create the views, in one transaction.

    Run it after every change to `messages` or the settings (a run: once, before publishing the snapshot).
    The settings tables start empty (the defaults) if `sync_settings` has never run.
    """

    def create() -> None:
        with transaction(conn):
            has_settings = conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = '_cfg_accounts'"
            ).fetchone()
            if not has_settings or not has_settings[0]:
                run_script(conn, "settings_tables")
            for view in VIEWS:
                run_script(conn, f"views/{view}")

    retry_conflicts(create)  # a lake's concurrent run rebuilt them first: rebuild on its snapshot
