"""What a materialisation tells the UI: row count, column schema and a small markdown preview."""

from typing import Any

import dagster as dg
import duckdb


def column_schema(conn: duckdb.DuckDBPyConnection, relation: str) -> dg.TableSchema:
    rows = conn.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = ? ORDER BY ordinal_position""",
        [relation],
    ).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(name, dtype) for name, dtype in rows])


def markdown_table(conn: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> str:
    """A query's result as a markdown table (keep it small: this is for the UI)."""
    result = conn.execute(query, params or [])
    header = [d[0] for d in result.description]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in result.fetchall()]
    return "\n".join(lines)


def relation_metadata(
    conn: duckdb.DuckDBPyConnection,
    relation: str,
    row_count: int,
    preview_query: str | None = None,
    params: list[Any] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(row_count),
        "dagster/column_schema": column_schema(conn, relation),
        "dagster/table_name": dg.MetadataValue.text(f"warehouse.main.{relation}"),
    }
    if preview_query:
        metadata["preview"] = dg.MetadataValue.md(markdown_table(conn, preview_query, params))
    return metadata
