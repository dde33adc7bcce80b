"""Red-team findings where verify passed while a production value survived: each
test failed before its fix.

- ``hstore`` and ``xml`` columns (PostgreSQL): a surname inside ``"owner"=>"Ganthriv"``
  or ``<owner>Ganthriv</owner>`` was kept by the auto plan, and verify read the
  cell whole (the detector does not know the surname), so it passed.
- A kept column holding a masked column's values (an FTS ``author`` column of the
  customers' surnames): verify took the values of kept columns for public and
  removed them from the sensitive set, so the copied surnames passed.
- A surname in a comment of a function or routine body: verify looked a comment
  up as one value, so a lone surname the detector does not know passed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker, with_column
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_redteam_schema import SURNAMES, _execute, _people


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _customers(url: str) -> None:
    text = "VARCHAR(100)" if url.startswith("mysql") else "TEXT"
    _execute(
        url,
        [
            f"CREATE TABLE customers (id INTEGER PRIMARY KEY, email {text}, last_name {text})",
            "INSERT INTO customers VALUES (?, ?, ?)",
        ],
        _people(),
    )


# ---- hstore and xml ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["hstore", "xml"])
def test_surnames_inside_hstore_and_xml_do_not_survive(
    pg_url_factory: Callable[[], str], kind: str
) -> None:
    """A tag set (``hstore``) or an XML document holding a customer's surname, in a
    table with no reference to a person: the plan kept it and verify passed."""
    src, tgt = pg_url_factory(), pg_url_factory()
    _execute(src, ["CREATE EXTENSION IF NOT EXISTS hstore"])
    _execute(tgt, ["CREATE EXTENSION IF NOT EXISTS hstore"])
    _customers(src)
    if kind == "hstore":
        value = "hstore(ARRAY['owner', 'colour'], ARRAY[?, 'rose'])"
    else:
        value = "XMLPARSE(CONTENT '<tag><owner>' || ? || '</owner></tag>')"
    _execute(
        src,
        [
            f"CREATE TABLE tags (id int PRIMARY KEY, data {kind})",
            f"INSERT INTO tags VALUES (?, {value})",
        ],
        [(i, last) for i, _e, last in _people()],
    )
    plan = build_plan(src).plan
    assert plan.tables["public.tags"].columns["data"].transformer != "keep"
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    copied = " ".join(str(r[0]) for r in rows_of(tgt, "SELECT data::text FROM tags"))
    assert not [s for s in [*SURNAMES, "Zwanenburg"] if s in copied]

    # kept: verify reads the values inside each document, and fails
    kept = with_column(plan, "public.tags", "data", ColumnPlan(transformer="keep", reason="t"))
    tgt2 = pg_url_factory()
    _execute(tgt2, ["CREATE EXTENSION IF NOT EXISTS hstore"])
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    assert not report.passed
    assert [(h.column, h.hits) for h in report.hits] == [("data", len(_people()))]


def test_hstore_and_xml_values_are_read_as_documents() -> None:
    """What verify takes from an hstore or xml cell: each value inside it."""
    from stagewall.masking._documents import as_documents

    got = as_documents(['"owner"=>"Gan\\"thriv", "n"=>NULL', "<a x='Oyelaran'>Vander &amp; Co</a>"])
    assert got == [{"owner": 'Gan"thriv', "n": ""}, ["Oyelaran", "Vander & Co"]]


# ---- a kept column holding a masked column's values ----------------------------------------


def test_a_kept_column_of_masked_surnames_fails_verify(make: Callable[[], str]) -> None:
    """``books.author`` (kept: its name is no rule's, its values no detected names)
    holds the customers' surnames, which the plan masks in ``last_name``: verify
    took them for public values (a kept column holds them) and passed, with every
    surname in staging. Now they stay sensitive, and the kept column is a hit."""
    src, tgt = make(), make()
    _customers(src)
    text = "VARCHAR(100)" if src.startswith("mysql") else "TEXT"
    _execute(
        src,
        [
            f"CREATE TABLE books (id INTEGER PRIMARY KEY, title {text}, author {text})",
            "INSERT INTO books VALUES (?, ?, ?)",
        ],
        [(i, f"Volume {i}", last) for i, _e, last in _people()],
    )
    name = "public.books" if src.startswith("postgresql") else "books"
    cust = "public.customers" if src.startswith("postgresql") else "customers"
    plan = build_plan(src).plan
    assert plan.tables[cust].columns["last_name"].transformer != "keep"
    plan = with_column(plan, name, "author", ColumnPlan(transformer="keep", reason="t"))
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert [(h.table, h.column, h.hits) for h in report.hits] == [
        (name if not tgt.startswith("postgresql") else "public.books", "author", len(_people()))
    ], report.to_json()


# ---- a surname in a comment of a function or routine -------------------------------------

_ROUTINE = {
    "postgresql": "CREATE FUNCTION vip_perk(x int) RETURNS int LANGUAGE plpgsql AS $$\n"
    "BEGIN\n  -- special case for Ganthriv (asked by Oyelaran's team)\n"
    "  /* see Przybylski */ RETURN x + 1;\nEND $$",
    "mysql": "CREATE FUNCTION vip_perk(x int) RETURNS int DETERMINISTIC\n"
    "BEGIN\n  -- special case for Ganthriv (asked by Oyelaran's team)\n"
    "  /* see Przybylski */ RETURN x + 1;\nEND",
}


@pytest.mark.parametrize("backend", BACKENDS[1:])  # PostgreSQL, MariaDB
def test_a_surname_in_a_routine_comment_fails_verify(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """A function whose body's comment names customers by surname alone (which the
    detector does not know): copied, and verify looked the comment up as one value,
    so it passed. Now its words and runs of words are looked up as well. (Since
    the run refuses such a routine unless acknowledged, SW520, it is acknowledged
    here: an acknowledgement never hides a source value from verify.)"""
    from stagewall.errors import SchemaPersonalData
    from tests.masking.integration.helpers import acknowledging

    make = url_maker(request, tmp_path, backend)
    src, tgt = make(), make()
    _customers(src)
    _execute(src, [_ROUTINE[backend]])
    plan = build_plan(src).plan
    with pytest.raises(SchemaPersonalData):
        run(plan, src, tgt, KEY, RunOptions())
    acked = acknowledging(plan, src)
    run(acked, src, tgt, KEY, RunOptions())
    report = verify(acked, src, tgt, KEY)
    assert not report.passed
    obj = "function public.vip_perk" if backend == "postgresql" else "function vip_perk"
    assert [(h.table, h.column) for h in report.hits] == [("(schema)", obj)], report.to_json()


def test_phrases_of_a_definition() -> None:
    """The words and runs of up to four words of a literal or comment (not itself)."""
    from stagewall.masking._definitions import phrases

    at, got = phrases(["for Anna van der Berg, ok", "Ganthriv"])
    assert "anna van der berg" in [g.lower() for g in got] and "Ganthriv" not in got
    assert set(at) == {0}


def test_a_full_text_author_column_of_surnames_is_reported(tmp_path: Path) -> None:
    """The red team's case: an FTS5 table ``books_fts(title, author)`` whose authors
    are customers' surnames; the auto plan keeps ``author`` (no rule names it, and
    the detector does not know the surnames) and verify passed. Now lint warns at
    plan time (``keep-masked-values``, naming the masked column, not the values),
    and verify fails on the kept column."""
    from stagewall.masking.lint import Rule

    src = f"sqlite:///{tmp_path / 'src.db'}"
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    _customers(src)
    _execute(
        src,
        [
            "CREATE VIRTUAL TABLE books_fts USING fts5(title, author)",
            "INSERT INTO books_fts (rowid, title, author) VALUES (?, ?, ?)",
        ],
        [(i, f"Volume {i}", last) for i, _e, last in _people()],
    )
    result = build_plan(src)
    assert result.plan.tables["books_fts"].columns["author"].transformer == "keep"
    found = [p for p in result.problems if p.rule is Rule.KEEP_MASKED_VALUES]
    assert [(p.table, p.column, p.severity.value) for p in found] == [
        ("books_fts", "author", "warning")
    ]
    assert "customers.last_name" in found[0].message
    assert not [s for s in SURNAMES if s.lower() in found[0].render().lower()]
    run(result.plan, src, tgt, KEY, RunOptions())
    report = verify(result.plan, src, tgt, KEY)
    assert not report.passed
    assert [(h.table, h.column, h.hits) for h in report.hits] == [
        ("books_fts", "author", len(_people()))
    ], report.to_json()
