"""The schema-name check's look-ups in the source, one read per table (PostgreSQL).

``source_values`` answers, on PostgreSQL, what ``source_names`` (which words are
values of a name column, case- and accent-insensitively) and ``source_locals``
(which keys are e-mail local parts without separators) answer, reading each table
once for all its name and e-mail columns instead of three times per name column and
once per e-mail column (the ``perfcopy`` round: 0.45 s of a 1 M-row run's 4). These
tests compare it with those two functions, the reference, on random values:
ASCII in every case, accents, ``ß``, dotted and dotless i, the Kelvin sign,
separators, NULLs, a column whose collation is Turkish (``I`` lower-cases to a dotless i
there) and a ``%`` in a column's name.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.masking._schemanames import (
    fold,
    local_keys,
    source_locals,
    source_names,
    source_values,
    words,
)
from stagewall.masking.db import open_database
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan

LETTERS = string.ascii_letters + "éÉüÜß\u0130\u0131I\u212akªÅåøØñ"
PIECES = st.text(alphabet=LETTERS, min_size=1, max_size=7)
NAME = st.one_of(
    st.none(),
    st.builds(" ".join, st.lists(PIECES, min_size=1, max_size=3)),
    PIECES,
    st.sampled_from(["Anna", "ANNA", "anna", "Ganthriv", "GANTHRIV", "Ivan", "IVAN", "Émile"]),
)
LOCAL = st.builds(
    "".join, st.lists(st.one_of(PIECES, st.sampled_from([".", "_", "-", "+", "1"])), max_size=5)
)
EMAIL = st.one_of(
    st.none(),
    st.builds(lambda a: f"{a}@example.org", LOCAL),
    st.sampled_from(["Anna.K@example.org", "anna_k@x.org", "ANNAK@x.org", "sales@x.org"]),
)


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    from tests.conftest import _drop_pg_database, _new_pg_database

    name, url = _new_pg_database()
    try:
        with psycopg.connect(url, autocommit=True) as c:
            turkish = "TEXT"
            try:
                c.execute("CREATE COLLATION tr (provider = icu, locale = 'tr-TR')")
                turkish = "TEXT COLLATE tr"
            except psycopg.Error:  # a server without ICU: the column is plain text
                pass
            c.execute(
                'CREATE TABLE people (id int PRIMARY KEY, first_name text, "last%name" '
                f"varchar(40), email text, nick {turkish})"
            )
            c.execute("CREATE TABLE staff (id int PRIMARY KEY, full_name text, mail text)")
        yield url
    finally:
        _drop_pg_database(name)


def _plan() -> Plan:
    def table(cols: dict[str, str]) -> TablePlan:
        return TablePlan(columns={c: ColumnPlan(transformer=t) for c, t in cols.items()})

    return Plan(
        tables={
            "public.people": table(
                {
                    "id": "keep",
                    "first_name": "first_name",
                    "last%name": "last_name",
                    "email": "email",
                    "nick": "first_name",
                }
            ),
            "public.staff": table({"id": "keep", "full_name": "full_name", "mail": "email"}),
        }
    )


def _fill(url: str, people: list[tuple[Any, ...]], staff: list[tuple[Any, ...]]) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("TRUNCATE people, staff")
        with c.cursor() as cur:
            cur.executemany(
                'INSERT INTO people (id, first_name, "last%%name", email, nick) '
                "VALUES (%s, %s, %s, %s, %s)",
                [(i, *r) for i, r in enumerate(people)],
            )
            cur.executemany(
                "INSERT INTO staff (id, full_name, mail) VALUES (%s, %s, %s)",
                [(i, *r) for i, r in enumerate(staff)],
            )


def _probes(values: list[Any], extra: list[str]) -> tuple[set[str], set[str]]:
    """Words and keys as ``_lookups`` makes them from names: here from the values
    themselves (so that there are hits), spelt otherwise, and from unrelated text."""
    texts = [v for v in values if v] + extra
    names = [t.replace("@", "_").replace(" ", "_") for t in texts]
    found = words(names) | {fold(t) for t in texts}
    keys = {k for n in names for k, _ in local_keys(n)}
    return found, keys


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(st.tuples(NAME, NAME, EMAIL, NAME), max_size=25),
    staff=st.lists(st.tuples(NAME, EMAIL), max_size=10),
    extra=st.lists(
        st.one_of(PIECES, st.sampled_from(["\u0131van", "order", "export_anna"])), max_size=4
    ),
    drop=st.integers(min_value=0, max_value=3),
)
def test_one_read_per_table_finds_what_the_reference_finds(
    pg: str,
    people: list[tuple[Any, ...]],
    staff: list[tuple[Any, ...]],
    extra: list[str],
    drop: int,
) -> None:
    _fill(pg, people, staff)
    values = [v for r in people for v in r] + [v for r in staff for v in r]
    found_words, keys = _probes(values, extra)
    # not every value is looked up: some words and keys are dropped
    found_words = {w for i, w in enumerate(sorted(found_words)) if drop == 0 or i % 4 != drop}
    plan = _plan()
    with open_database(pg, role="source") as db:
        schema = db.introspect()
        want = (
            source_names(db, plan, schema, found_words),
            source_locals(db, plan, schema, keys),
        )
        got = source_values(db, plan, schema, found_words, keys)
    assert got[1] == want[1]
    # the same words, and in the Turkish column (where the database lower-cases an
    # ASCII ``I`` to a dotless i) also a value's form folded as the schema's own names
    # are (``IVAN`` is the word ``ivan`` there too; ``Iª`` beyond ASCII, folded in
    # Python, is ``ia``): more findings, never fewer
    assert want[0] <= got[0]
    turkish = {v.lower() for r in people if (v := r[3]) and v.isascii() and "I" in v}
    turkish |= {fold(v) for r in people if (v := r[3]) and not v.isascii() and "I" in v}
    assert got[0] - want[0] <= turkish & found_words


def test_a_turkish_column_and_ascii_values_are_found(pg: str) -> None:
    """``IVAN`` in a column whose collation lower-cases ``I`` to a dotless i is ``\u0131van``
    for the database (the reference finds the word ``\u0131van``, and so does the one
    read); an ASCII value in any case is found by its ASCII form; an e-mail's local
    part with separators too."""
    _fill(
        pg,
        [("ANNA", "GANTHRIV", "Anna.K@example.org", "IVAN"), (None, "Émile", None, None)],
        # the Kelvin sign is a k for the database's lower-case rules (not for "C")
        [("Bartholomew Ganthriv", "b.g@x.org"), (None, "Bert\u212a@x.org")],
    )
    plan = _plan()
    look = {"anna", "ganthriv", "\u0131van", "emile", "bartholomew ganthriv", "price"}
    keys = {"annak", "bgx", "sales", "bertk"}
    with open_database(pg, role="source") as db:
        schema = db.introspect()
        found, locals_ = source_values(db, plan, schema, look, keys)
        assert found == source_names(db, plan, schema, look)
        assert locals_ == source_locals(db, plan, schema, keys)
    assert {"anna", "ganthriv", "emile", "bartholomew ganthriv", "\u0131van"} <= found
    assert "price" not in found
    assert locals_ == {"annak": True, "bertk": False}


def test_each_table_is_read_once(pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both name columns and the e-mail column of a table: one query of it."""
    from stagewall.masking.db._postgres import PostgresDatabase

    _fill(pg, [("Anna", "Ganthriv", "anna@x.org", None)], [("Anna Ganthriv", None)])
    seen: list[str] = []
    real = PostgresDatabase.select_scan

    def counted(self: Any, sql: str, params: Any = ()) -> Any:
        seen.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(PostgresDatabase, "select_scan", counted)
    with open_database(pg, role="source") as db:
        found, _ = source_values(db, _plan(), db.introspect(), {"anna", "ganthriv"}, {"anna"})
    assert found == {"anna", "ganthriv"}
    assert len(seen) == 2  # people and staff
