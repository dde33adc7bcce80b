"""Two gaps of the schema-name check (round ``schemawords``; each test failed before
its fix, on SQLite, PostgreSQL and MariaDB).

- A customer's name the schema writes in two places or more was taken for "the
  schema's own word" (:func:`_schemanames.vocabulary`) and every object holding
  it passed silently: ``grace`` as a column of two tables silenced ``grace_period``,
  ``grace_days`` and even ``tenant_grace`` (beside a word naming people); a
  surname column ``carrasco_ref`` added to two tables, or selected by a view,
  passed though ``tenant_carrasco`` alone is refused. Repetition is no proof: a
  column named after a key customer is added to several tables, and a view
  selecting a column is a second place of each of its words. Now every object
  holding such a word is reported — beside a word naming people as a name
  (SW520), otherwise as a word to acknowledge (``schema-name-word``, SW528 from
  the run), one acknowledgement per object. Repetition silences only a word of
  the frequent-English list (``price``, ``day``: Pagila's ``film_list.price`` and
  ``last_day`` beside customers called Price and Day), never beside a word naming
  people (``_schemanames.terms``).
- Literals of copied definitions: a source name inside a longer literal that the
  schema also writes elsewhere (``DEFAULT 'Dear Carrasco'`` beside two
  ``carrasco_ref`` columns), an ordinary word that is a customer's name inside a
  literal (``DEFAULT 'days of grace'``, a view's ``'in grace'``) and a customer's
  e-mail local part (``CHECK (login <> 'ye.qz')`` beside ``ye.qz@…``) were copied
  silently.
  Now the first and the last are refused (SW520) and the ordinary word is a
  warning the run refuses (SW528) until acknowledged, as for a name; never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import SchemaNameUnconfirmed, SchemaPersonalData
from stagewall.masking._schemanames import (
    Named,
    judge_definitions,
    judge_names,
    literal_words,
    lone_words,
    ordinary_words,
    schema_findings,
    terms,
)
from stagewall.masking.db import open_database
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.lint import Rule, Severity, scoped_schema
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import (
    BACKENDS,
    KEY,
    SERVER_BACKENDS,
    acknowledging,
    url_maker,
)
from tests.masking.test_leak_traps import _execute

SECRET = ("grace", "carrasco", "yesica", "quispe", "ye.qz", "yeqz")


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _text(url: str) -> str:
    return "VARCHAR(100)" if url.startswith("mysql") else "TEXT"


def _customers(url: str) -> list[tuple[str, list[Any]]]:
    text = _text(url)
    people = [
        (1, "Grace", "Carrasco", "grace.c@mail-example.com"),
        (2, "Yesica", "Quispe", "ye.qz@mail-example.com"),
    ] + [(i, "Ola", "Nordmann", f"user{i}@mail-example.com") for i in range(3, 30)]
    return [
        (f"CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name {text}, "
         f"last_name {text}, email {text})", []),
        ("INSERT INTO customers VALUES (?, ?, ?, ?)", people),
    ]  # fmt: skip


def _leaks(text: str) -> list[str]:
    """The customers' values in ``text`` (the hints' example aside)."""
    low = text.lower().replace("`grace_period`, `'days of grace'`", "")
    return [s for s in SECRET if s in low]


def _ours(result: Any) -> tuple[list[str], list[str]]:
    """(errors, schema-name-word warnings) of the schema, objects as shown, sorted."""
    errs = sorted(p.table for p in result.problems if p.rule is Rule.SCHEMA_PERSONAL_DATA)
    words = [p for p in result.problems if p.rule is Rule.SCHEMA_NAME_WORD]
    assert all(p.severity is Severity.WARNING for p in words)
    shown = "\n".join(
        p.render()
        for p in result.problems
        if p.rule in (Rule.SCHEMA_PERSONAL_DATA, Rule.SCHEMA_NAME_WORD)
    )
    assert not _leaks(shown), shown  # never the value
    return errs, sorted(p.table for p in words)


def _q(url: str, name: str) -> str:
    return f"public.{name}" if url.startswith("postgresql") else name


# ---- a name the schema writes twice ---------------------------------------------------------


def test_a_name_the_schema_writes_twice_is_reported_in_each_object(
    make: Callable[[], str],
) -> None:
    """``grace`` (an ordinary word) and ``carrasco`` (a surname), each a column word of
    two tables: every column holding them is to acknowledge, one by one, and
    ``tenant_grace`` stays a name (before: all silent, the run copied them)."""
    src, tgt = make(), make()
    _execute(
        src,
        [
            *_customers(src),
            # (``grace_period``, ``grace_days`` before round ``schemanoise``: the
            # word's technical sense, no longer to acknowledge; see test_redteam_schemanoise)
            ("CREATE TABLE plans (id INTEGER PRIMARY KEY, grace_rebate INTEGER, "
             "grace_notes INTEGER, carrasco_ref INTEGER)", []),
            ("CREATE TABLE invoices (id INTEGER PRIMARY KEY, grace INTEGER, "
             "carrasco_ref INTEGER)", []),
            ("CREATE TABLE tenant_grace (id INTEGER PRIMARY KEY)", []),
        ],
    )  # fmt: skip
    result = build_plan(src)
    errs, words = _ours(result)
    tables = [e for e in errs if e.startswith("table #")]
    assert len(tables) == 1, errs  # tenant_grace (and on PostgreSQL its pkey index)
    assert all(e.startswith(("table #", "index #")) for e in errs), errs
    assert len(words) == 5 and all(w.startswith("column #") for w in words), words
    with pytest.raises(SchemaPersonalData):
        run(result.plan, src, tgt, KEY, RunOptions())

    _execute(src, [("DROP TABLE tenant_grace", [])])
    result = build_plan(src)
    assert _ours(result)[0] == []
    columns = [
        ("plans", "grace_rebate"), ("plans", "grace_notes"), ("plans", "carrasco_ref"),
        ("invoices", "grace"), ("invoices", "carrasco_ref"),
    ]  # fmt: skip
    acks = {f"column {_q(src, t)}.{c}": "a billing term" for t, c in columns}
    # each object is acknowledged on its own: four of five are not enough
    for left_out in acks:
        some = {k: v for k, v in acks.items() if k != left_out}
        with pytest.raises(SchemaNameUnconfirmed) as exc:
            run(result.plan.model_copy(update={"acknowledged": some}), src, tgt, KEY)
        assert exc.value.code == "SW528"
        assert not _leaks(str(exc.value))
    plan = result.plan.model_copy(update={"acknowledged": acks})
    got = run(plan, src, tgt, KEY, RunOptions())
    assert len(got.schema_acknowledged) == 5
    assert verify(plan, src, tgt, KEY).passed


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_view_selecting_a_column_is_no_proof_of_a_word(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """A surname column ``carrasco_ref`` alone is an error; a view selecting it made
    ``carrasco`` a word the schema writes twice and the column passed: now the
    table's column and the view's are to acknowledge."""
    src = url_maker(request, tmp_path, backend)()
    _execute(
        src,
        [
            *_customers(src),
            ("CREATE TABLE plans (id INTEGER PRIMARY KEY, carrasco_ref INTEGER)", []),
            ("CREATE VIEW plan_refs AS SELECT id, carrasco_ref FROM plans", []),
        ],
    )
    errs, words = _ours(build_plan(src))
    assert errs == [], errs
    # the table's column and the view's
    assert len(words) == 2 and all(w.startswith("column #") for w in words), words


def test_the_judgement_of_words_the_schema_writes_twice() -> None:
    """Repetition silences a frequent English word only (``price``, ``day``: Pagila's
    ``film_list.price`` beside customers called Price), and never beside a word
    naming people; a reviewed word (``grace``) or one of no English list
    (``maria``) written twice is to acknowledge in each object."""
    cols = [
        Named("column", ("public", t), c)
        for t, c in (
            ("a", "grace"), ("b", "grace"), ("a", "maria_notes"), ("b", "maria_notes"),
            ("a", "unit_price"), ("b", "list_price"),
        )
    ]  # fmt: skip
    tables = [
        Named("table", ("public",), n)
        for n in ("tenant_grace", "tenant_maria", "smith", "price_list", "tenant_price")
    ]
    found = {"grace", "maria", "smith", "price"}
    objects = cols + tables
    assert lone_words(found, objects) == {"smith"}
    assert terms(found, objects) == {"price"}
    assert terms(found, cols[:4]) == set()  # price written once: no term
    words = ordinary_words(found, objects)
    assert words == {"grace", "maria"}  # a reviewed word, the schema's own: to acknowledge
    got = {
        f.label: f.confirm
        for f in judge_names(
            objects, found, lone_words(found, objects), None, words, terms(found, objects)
        )
    }
    assert got == {
        "column public.a.grace": True,
        "column public.b.grace": True,
        "column public.a.maria_notes": True,
        "column public.b.maria_notes": True,
        "table public.tenant_grace": False,
        "table public.tenant_maria": False,
        "table public.tenant_price": False,
        "table public.smith": False,
    }
    # in a literal only ordinary words are not judged alone
    assert literal_words({"grace", "maria", "carrasco", "grace carrasco"}) == {
        "maria",
        "carrasco",
    }


# ---- literals of definitions ----------------------------------------------------------------


def _definitions(url: str) -> list[tuple[str, list[Any]]]:
    text = _text(url)
    out: list[tuple[str, list[Any]]] = [
        # a surname the schema also writes as two columns' word
        (f"CREATE TABLE letters (id INTEGER PRIMARY KEY, greeting {text} "
         "DEFAULT 'Dear Carrasco', carrasco_ref INTEGER)", []),
        ("CREATE TABLE notes (id INTEGER PRIMARY KEY, carrasco_ref INTEGER)", []),
        # an ordinary word that is a customer's first name, inside a literal
        (f"CREATE TABLE terms (id INTEGER PRIMARY KEY, term {text} DEFAULT 'days of grace')", []),
        # a customer's e-mail local part
        (f"CREATE TABLE logins (id INTEGER PRIMARY KEY, login {text}, "
         "CONSTRAINT ck_login CHECK (login <> 'ye.qz'))", []),
    ]  # fmt: skip
    if not url.startswith("sqlite"):  # views are copied PostgreSQL → PostgreSQL, MariaDB → MariaDB
        out += [
            ("CREATE VIEW vip AS SELECT id FROM customers WHERE last_name = 'Carrasco'", []),
            ("CREATE VIEW reminder AS SELECT id, 'in grace' AS state FROM customers", []),
        ]
    return out


def test_names_in_literals_of_definitions_are_reported(make: Callable[[], str]) -> None:
    """Errors: ``'Dear Carrasco'`` (with ``carrasco_ref`` in two tables), the check
    on ``'ye.qz'`` (a customer's e-mail local part), the VIP view; warnings: ``'days of grace'`` and the view's
    ``'in grace'``. The run refuses them, by object and kind, never the value; once
    all are acknowledged it copies them, and verify still reads the source values in
    the target's definitions."""
    src, tgt = make(), make()
    _execute(src, [*_customers(src), *_definitions(src)])
    backend = src.split(":", 1)[0].split("+", 1)[0]
    result = build_plan(src)
    errs, words = _ours(result)
    defs = [e for e in errs if not e.endswith("(by name)")]
    if backend == "sqlite":  # a table's definition is its CREATE TABLE
        assert defs == ["table letters", "table logins"], errs
        assert words == [
            "column #1 of 2 of notes (by name)",  # carrasco_ref, id
            "column #1 of 3 of letters (by name)",  # carrasco_ref, greeting, id
            "table terms",
        ], words
    else:
        q = "public." if backend == "postgresql" else ""
        check = f"constraint {q}ck_login" if q else "constraint logins.ck_login"
        assert defs == sorted([f"default {q}letters.greeting", check, f"view {q}vip"]), errs
        assert [w for w in words if not w.endswith("(by name)")] == sorted(
            [f"default {q}terms.term", f"view {q}reminder"]
        ), words
    with pytest.raises(SchemaPersonalData) as exc:
        run(result.plan, src, tgt, KEY, RunOptions())
    assert not _leaks(str(exc.value))

    # the errors acknowledged, the words are still to acknowledge
    with open_database(src, role="source") as db:
        found = schema_findings(db, result.plan, scoped_schema(result.plan, db.introspect()))
    errors_only = {f.label: "test" for f in found if not f.confirm}
    plan = result.plan.model_copy(update={"acknowledged": errors_only})
    with pytest.raises(SchemaNameUnconfirmed):
        run(plan, src, tgt, KEY, RunOptions())
    plan = acknowledging(result.plan, src)
    run(plan, src, tgt, KEY, RunOptions())
    # an acknowledgement hides no source value from verify: 'Carrasco' and 'grace'
    # are source values of the masked name columns
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert {h.table for h in report.hits} == {"(schema)"}, report.to_json()


def test_an_ordinary_literal_beside_a_word_naming_people_is_a_name() -> None:
    defs = [
        ("default public.t.a", "'VIP customer Grace'::text", True),
        ("default public.t.b", "'days of grace'::text", True),
        ("default public.t.c", "'active'::text", True),
        ("constraint public.ck", "(login <> 'ye.qz'::text)", True),
        ("default public.t.d", "'1 day'::text", True),  # a frequent word: prose
        ("default public.t.e", "'customer day'::text", True),  # beside people: a name
    ]
    got = judge_definitions(
        defs, "postgresql", {"grace", "day"}, set(), None, {"grace"}, {"yeqz": True}, {"day"}
    )
    assert {f.label: f.confirm for f in got} == {
        "default public.t.a": False,
        "default public.t.b": True,
        "constraint public.ck": False,
        "default public.t.e": False,
    }
