from pathlib import Path

import duckdb
import pytest

from lineoa_pipeline.warehouse.sqlfiles import insert_rows, statements, transaction


def test_a_transaction_keeps_all_its_writes_or_none(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    with duckdb.connect(path) as conn:
        conn.execute("CREATE TABLE t (a INTEGER, b VARCHAR)")
        with transaction(conn):
            insert_rows(conn, "t", [(1, "x"), (2, "y")])
        with pytest.raises(ZeroDivisionError), transaction(conn):
            insert_rows(conn, "t", [(3, "z")])
            raise ZeroDivisionError  # anything, even from Python, in the middle of the block
        with pytest.raises(duckdb.Error), transaction(conn):
            conn.execute("INSERT INTO t VALUES (4, 'w')")
            conn.execute("INSERT INTO t VALUES ('not a number', 'v')")
    with duckdb.connect(path, read_only=True) as again:  # what reached the file
        assert again.execute("SELECT a, b FROM t ORDER BY a").fetchall() == [(1, "x"), (2, "y")]


def test_statements_come_as_duckdb_splits_them_without_their_semicolons() -> None:
    parts = statements("store_batch")
    assert parts[0].splitlines()[-1].startswith("FROM batch_new")
    assert all(p and not p.endswith(";") for p in parts)
    assert len(parts) == 8  # messages, rejected_rows, quarantined_files, source_files, _file_offsets,
    # _unwritten_files, months, _group_chats
