"""What a materialisation tells the UI: row count, column schema and a small preview table."""

import warnings
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from lineoa_pipeline.warehouse.tables import TABLE_SPECS
from lineoa_pipeline.warehouse.views import VIEW_SPECS, column_types

# Each public table's and view's column descriptions, from its `.sql` file's front matter.
DESCRIBED = {relation.name: relation.columns for relation in (*TABLE_SPECS, *VIEW_SPECS)}


def column_schema(conn: duckdb.DuckDBPyConnection, relation: str) -> dg.TableSchema:
    """A relation's columns as the warehouse holds them, each described when the relation is public."""
    rows = conn.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = ? ORDER BY ordinal_position""",
        [relation],
    ).fetchall()
    return table_schema(dict(rows), DESCRIBED.get(relation))


@cache
def _types() -> dict[str, dict[str, str]]:
    return column_types()


def described_schema(relation: str) -> dg.TableSchema:
    """A public table's or view's columns as the warehouse makes them, each with its description: what an
    asset's definition shows in the UI before its first materialisation."""
    return table_schema(_types()[relation], DESCRIBED[relation])


def table_schema(types: Mapping[str, str], descriptions: Mapping[str, str] | None = None) -> dg.TableSchema:
    """Columns (name -> type) with their descriptions, when known."""
    described = descriptions or {}
    return dg.TableSchema(
        columns=[dg.TableColumn(name, dtype, description=described.get(name)) for name, dtype in types.items()]
    )


def code_reference(path: Path) -> dg.CodeReferencesMetadataValue:
    """A link in the UI to the file that defines an asset. Code references are beta in Dagster 1.13: their
    warning is silenced here, where it is raised, so that no command prints it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.CodeReferencesMetadataValue(
            code_references=[dg.LocalFileCodeReference(file_path=str(path), label=path.name)]
        )


def preview_table(rows: list[tuple[Any, ...]], columns: list[str]) -> dg.TableMetadataValue:
    """A few rows for the UI; a value that is not a number, text or truth value is shown as text."""
    records = [dg.TableRecord({c: _shown(v) for c, v in zip(columns, row, strict=True)}) for row in rows]
    return dg.MetadataValue.table(records, dg.TableSchema(columns=[dg.TableColumn(c) for c in columns]))


def _shown(value: Any) -> str | int | float | bool | None:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def query_preview(
    conn: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None
) -> dg.TableMetadataValue:
    """A query's result as a preview table (keep it small: this is for the UI)."""
    result = conn.execute(query, params or [])
    columns = [d[0] for d in result.description]
    return preview_table(result.fetchall(), columns)


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
        metadata["preview"] = query_preview(conn, preview_query, params)
    return metadata
