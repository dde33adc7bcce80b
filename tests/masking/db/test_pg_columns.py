"""Verify's column reader (``iter_columns``) gives exactly what the row reader
(``iter_rows``) gives, column by column: one split of a batch's fields instead of
one per row, and psycopg's integer and numeric loaders replaced by ``int`` and
``Decimal`` of the text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.masking.db import open_database
from stagewall.masking.db._pgtext import NULL, decode_int_column, decode_numeric_column

pytestmark = pytest.mark.postgres

_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


def _load(oid: int, fields: list[bytes]) -> list[Any]:
    import psycopg
    from psycopg.pq import Format

    from tests.conftest import PG_ADMIN_DSN

    with psycopg.connect(PG_ADMIN_DSN) as conn:
        loader = conn.adapters.get_loader(oid, Format.TEXT)(oid, conn)
        return [None if f == NULL else loader.load(f) for f in fields]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(-(2**63), 2**63 - 1) | st.none(), max_size=20),
    st.lists(
        st.decimals(allow_nan=True, allow_infinity=True) | st.none(),
        max_size=20,
    ),
)
def test_number_columns_decode_as_the_loaders_do(ints: list[Any], nums: list[Any]) -> None:
    int_fields = [NULL if v is None else str(v).encode() for v in ints]
    assert decode_int_column(int_fields) == _load(20, int_fields)
    num_fields = [NULL if v is None else str(v).encode() for v in nums]
    got, want = decode_numeric_column(num_fields), _load(1700, num_fields)
    assert [type(x) for x in got] == [type(x) for x in want]
    assert [str(x) for x in got] == [str(x) for x in want]  # NaN != NaN: compare text


_ROWS = st.lists(
    st.tuples(
        _TEXT | st.none(),
        st.integers(-(2**31), 2**31 - 1) | st.none(),
        st.decimals(
            allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9
        )
        | st.none(),
        st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))
        | st.none(),
        st.none() | st.dictionaries(_TEXT, _TEXT | st.integers(-(10**6), 10**6), max_size=3),
        st.lists(_TEXT | st.none(), max_size=3) | st.none(),
    ),
    max_size=40,
)


@pytest.fixture(scope="module")
def pg_table() -> Any:
    from tests.conftest import _drop_pg_database, _new_pg_database

    name, url = _new_pg_database()
    try:
        yield url
    finally:
        _drop_pg_database(name)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=_ROWS, batch=st.integers(1, 7))
def test_columns_equal_rows(pg_table: str, rows: list[tuple[Any, ...]], batch: int) -> None:
    """Unicode with tabs, newlines and backslashes, NULLs, numbers, timestamps,
    JSON and arrays: the same values, batch by batch."""
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(pg_table, autocommit=True) as c:
        c.execute(b"DROP TABLE IF EXISTS t")
        c.execute(
            b"CREATE TABLE t (id serial PRIMARY KEY, s text, i int, n numeric(14,3), "
            b"ts timestamptz, j jsonb, a text[])"
        )
        for r in rows:
            c.execute(
                b"INSERT INTO t (s, i, n, ts, j, a) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    r[0],
                    r[1],
                    r[2],
                    r[3] and r[3].replace(tzinfo=dt.UTC),
                    None if r[4] is None else Jsonb(r[4]),
                    r[5],
                ),
            )
    cols = ["id", "s", "i", "n", "ts", "j", "a"]
    with open_database(pg_table, role="source") as db:
        table = db.introspect().table("public.t")
        assert table is not None
        db.begin_read()
        by_rows = list(db.iter_rows(table, cols, None, batch))
        by_cols = list(db.iter_columns(table, cols, None, batch))
        none = list(db.iter_columns(table, [], None, batch))
    assert [m for m, _ in by_cols] == [len(b) for b in by_rows]
    for (m, columns), b in zip(by_cols, by_rows, strict=True):
        assert [tuple(c[k] for c in columns) for k in range(m)] == b
        # equal values of equal types (Decimal('1.50') == Decimal('1.5'): compare text)
        assert [[type(v) for v in c] for c in columns] == [
            [type(r[i]) for r in b] for i in range(len(cols))
        ]
        assert [[str(v) for v in c] for c in columns] == [
            [str(r[i]) for r in b] for i in range(len(cols))
        ]
    assert [m for m, _ in none] == [len(b) for b in by_rows]


def test_decimal_text_is_kept() -> None:
    assert [str(x) for x in decode_numeric_column([b"1.50", b"NaN", b"-Infinity", NULL])] == [
        "1.50",
        "NaN",
        "-Infinity",
        "None",
    ]
    assert decode_numeric_column([b"1.50"]) == [Decimal("1.5")]
