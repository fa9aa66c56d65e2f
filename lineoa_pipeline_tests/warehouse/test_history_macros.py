"""The macros every reader of the history uses (`sql/history_macros.sql`) against Python's own: local time and
its ISO text for every quarter-hour offset from -12:00 to +14:00 and instants across years; HTML escaping."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta, timezone

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from lineoa_pipeline.warehouse.sqlfiles import statements

OFFSETS = st.integers(min_value=-48, max_value=56).map(lambda quarters: quarters * 15)
INSTANTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31)).map(
    lambda at: at.replace(microsecond=0, tzinfo=UTC)
)

TEXT = st.characters(exclude_categories=("Cs",))  # DuckDB holds UTF-8 only


def _macros() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'Asia/Tokyo'")  # the session's zone must not matter
    for statement in statements("history_macros"):
        conn.execute(statement)
    return conn


CONN = _macros()


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(INSTANTS, OFFSETS | st.none()), min_size=1, max_size=40))
def test_local_time_and_its_iso_text_match_pythons(rows: list[tuple[datetime, int | None]]) -> None:
    got = CONN.execute(
        "SELECT local_ts(r.at, r.offset_minutes), local_iso(r.at, r.offset_minutes) "
        "FROM (SELECT unnest(?::TIMESTAMPTZ[]) AS at, unnest(?::INTEGER[]) AS offset_minutes) r",
        [[at for at, _ in rows], [offset for _, offset in rows]],
    ).fetchall()
    expected = []
    for at, offset in rows:
        if offset is None:
            expected.append((None, None))
            continue
        local = at.astimezone(timezone(timedelta(minutes=offset)))
        expected.append((local.replace(tzinfo=None), local.isoformat()))
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(alphabet=st.sampled_from("&<>\"'a あ\n;#")) | st.text(TEXT) | st.none(), max_size=30))
def test_html_escape_escapes_as_python_does(texts: list[str | None]) -> None:
    got = CONN.execute("SELECT html_escape(t) FROM unnest(?::VARCHAR[]) WITH ORDINALITY u(t, n) ORDER BY n", [texts])
    expected = [None if t is None else html.escape(t).replace("&#x27;", "&#39;") for t in texts]
    assert [row[0] for row in got.fetchall()] == expected
