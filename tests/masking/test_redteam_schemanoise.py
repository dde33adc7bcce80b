"""Three gaps of the schema-name check (round ``schemanoise``, issue 11; each test
failed before its fix, on SQLite, PostgreSQL and MariaDB).

- A frequent English word that is a customer's name and that the schema uses in
  two places was silent in every name (``_schemanames.terms``): a customer Young,
  columns ``young_adult`` in two tables, and a table ``young_rebate`` (or ``young``)
  passed. Now such a word is to acknowledge (SW528 from the run) in a name of
  per-person shape: beside a word that is none of the schema's own words
  (``rebate``), or alone naming a table (``_schemanames.per_person``); Pagila's
  ``last_day`` and ``film_list.price`` stay silent.
- A capitalised source name in the middle of a sentence of a copied literal
  (``DEFAULT 'Ask Young about the rebate'``) is the person, not the word: refused
  as a name (SW520); ``'Young adults only'`` (the sentence's first word) and
  titles (``'Best Price'``) stay silent (``_schemanames.proper_words``).
- Noise: customers called Max, Mark, Grace, Bill or Will made every ``max_length``,
  ``mark_as_read``, ``grace_period``, ``will_call`` a warning to acknowledge one by
  one, and ``max_users`` an error (``users`` names people). A word used in a
  reviewed standard technical sense beside its neighbour (``_ordinary.technical``)
  is now silent; ``tenant_max``, ``max_customer``, ``grace_rebate``, ``mark_notes``
  and ``'days of grace'`` are still reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import SchemaNameUnconfirmed, SchemaPersonalData
from stagewall.masking._schemanames import (
    Finding,
    Named,
    judge_definitions,
    judge_names,
    schema_findings,
    terms,
    vocabulary,
)
from stagewall.masking.db import open_database
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.lint import scoped_schema
from stagewall.masking.planner import build_plan
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_schemawords import _text


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _customers(url: str, people: list[tuple[str, str]]) -> list[tuple[str, list[Any]]]:
    text = _text(url)
    rows = [(i, f, s, f"c{i}@mail-example.com") for i, (f, s) in enumerate(people, 1)]
    rows += [(i, "Ola", "Nordmann", f"user{i}@mail-example.com") for i in range(50, 70)]
    return [
        (f"CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name {text}, "
         f"last_name {text}, email {text})", []),
        ("INSERT INTO customers VALUES (?, ?, ?, ?)", rows),
    ]  # fmt: skip


def _findings(url: str) -> tuple[Any, dict[str, Finding]]:
    """(the auto plan, its schema findings by the object's name without its schema)."""
    plan = build_plan(url).plan
    with open_database(url, role="source") as db:
        found = schema_findings(db, plan, scoped_schema(plan, db.introspect()))
    return plan, {f.label.replace(" public.", " ", 1): f for f in found}


# ---- 1. a frequent English word in a name of per-person shape -------------------------------


def test_a_common_word_name_of_per_person_shape_is_to_acknowledge(make: Callable[[], str]) -> None:
    """A customer Young; ``young_adult`` columns in two tables make ``young`` (and
    ``adult``) the schema's words: they stay silent, but a table ``young_rebate``
    (``rebate`` is no word of the schema) and a table ``young`` are to acknowledge
    (before: both silent, the run copied them)."""
    src, tgt = make(), make()
    _execute(
        src,
        [
            *_customers(src, [("Anna", "Young"), ("Yesica", "Quispe")]),
            ("CREATE TABLE films (id INTEGER PRIMARY KEY, young_adult INTEGER)", []),
            ("CREATE TABLE books (id INTEGER PRIMARY KEY, young_adult INTEGER)", []),
            ("CREATE TABLE young_rebate (id INTEGER PRIMARY KEY, amount INTEGER)", []),
            ("CREATE TABLE young (id INTEGER PRIMARY KEY, amount INTEGER)", []),
        ],
    )
    plan, got = _findings(src)
    assert {k: f.confirm for k, f in got.items() if not k.startswith("index ")} == {
        "table young_rebate": True,
        "table young": True,
    }
    with pytest.raises(SchemaNameUnconfirmed):
        run(plan, src, tgt, KEY, RunOptions())
    acks = dict.fromkeys((f.label for f in got.values()), "reviewed: a rebate scheme")
    run(plan.model_copy(update={"acknowledged": acks}), src, tgt, KEY, RunOptions())


def test_per_person_shape_keeps_pagila_silent() -> None:
    """Pagila's shapes (customers called Price and Day): ``film_list.price`` (a
    column, no neighbour) and the function ``last_day`` (``last`` of ``last_name``
    and ``last_update``) stay silent; ``price_rebate`` and a table ``price`` are to
    acknowledge, ``customer_price`` is a name."""
    objects = [
        Named("column", ("public", "customer"), "last_name"),
        Named("column", ("public", "customer"), "last_update"),
        Named("column", ("public", "film"), "last_update"),
        Named("column", ("public", "film_list"), "price"),
        Named("column", ("public", "nicer_but_slower_film_list"), "price"),
        Named("function", ("public",), "last_day"),
    ]
    texts = ["SELECT 1 day", "SELECT '1 day'::interval"]
    found = {"price", "day"}
    vocab = vocabulary(objects, texts)
    terms_ = terms(found, objects, texts)
    assert terms_ == {"price", "day"}
    assert judge_names(objects, found, set(), None, set(), terms_, vocab) == []
    more = [
        Named("table", ("public",), "price_rebate"),
        Named("table", ("public",), "price"),
        Named("table", ("public",), "customer_price"),
    ]
    got = judge_names(objects + more, found, set(), None, set(), terms_, vocab)
    assert {f.label: f.confirm for f in got} == {
        "table public.price_rebate": True,
        "table public.price": True,
        "table public.customer_price": False,
    }
    # without the schema's words (a literal's judgement): only beside people
    got = judge_names(objects + more, found, set(), None, set(), terms_)
    assert [f.label for f in got] == ["table public.customer_price"]


# ---- 2. a capitalised source name mid-sentence in a literal ---------------------------------


def test_a_capitalised_name_mid_sentence_in_a_literal_is_a_name(make: Callable[[], str]) -> None:
    """``DEFAULT 'Ask Young about the rebate'`` with a customer Young is refused as
    a name (before: silent, a frequent English word counted beside a word naming
    people only); ``'Young adults only'`` and ``'Best Price'`` are prose and a
    title, silent."""
    src, tgt = make(), make()
    text = _text(src)
    _execute(
        src,
        [
            *_customers(src, [("Anna", "Young"), ("Bo", "Price")]),
            (f"CREATE TABLE notes (id INTEGER PRIMARY KEY, memo {text} "
             "DEFAULT 'Ask Young about the rebate')", []),
            (f"CREATE TABLE offers (id INTEGER PRIMARY KEY, audience {text} "
             f"DEFAULT 'Young adults only', label {text} DEFAULT 'Best Price')", []),
        ],
    )  # fmt: skip
    plan, got = _findings(src)
    if src.startswith("sqlite"):  # a table's definition is its CREATE TABLE
        assert {k: f.confirm for k, f in got.items()} == {"table notes": False}
    else:
        assert {k: f.confirm for k, f in got.items()} == {"default notes.memo": False}
    with pytest.raises(SchemaPersonalData) as exc:
        run(plan, src, tgt, KEY, RunOptions())
    assert "young" not in str(exc.value).lower()


def test_proper_words() -> None:
    from stagewall.masking._schemanames import proper_words

    assert proper_words("Ask Young about the rebate") == {"young"}
    assert proper_words("Spoke with Grace; she paid. Mark called") == {"grace"}
    assert proper_words("Young adults only") == set()  # the sentence's first word
    assert proper_words("Note: Young adults only") == set()  # a new sentence after ':'
    assert proper_words("Best Price") == set()  # a title: no word in lower case
    assert proper_words("ONE DOLLAR FOR EVERY DAY") == set()
    assert proper_words("1 day") == set()
    assert proper_words("renewed in June by the Finance team") == {"finance"}  # a month: none
    defs = [
        ("default public.t.a", "'Ask Young about the rebate'::text", True),
        ("default public.t.b", "'Young adults only'::text", True),
        ("default public.t.c", "'see Grace about the period'::text", True),
    ]
    got = judge_definitions(defs, "postgresql", {"young", "grace"}, set(), None, {"grace"}, None)
    got += judge_definitions(defs[:2], "postgresql", {"young"}, set(), None, set(), None, {"young"})
    assert {f.label: f.confirm for f in got} == {
        "default public.t.a": False,
        "default public.t.c": False,  # (a reviewed word: was a warning)
    }


# ---- 3. noise of words in their technical sense ---------------------------------------------

PEOPLE = [
    ("Max", "Young"), ("Mark", "Price"), ("Grace", "Carrasco"), ("Bill", "Grant"),
    ("Will", "Quispe"), ("Min", "Park"), ("Ann", "Day"),
]  # fmt: skip
# a schema of typical names (columns per table); none names a customer
TYPICAL = {
    "products": "price list_price max_price min_price markup mark_up unit_price",
    "settings": "max_length min_length max_retries max_attempts max_users max_value "
    "min_value retries_max",
    "subscriptions": "grace_period grace_days grace_ends_at trial_days bill_to bill_date "
    "price_tier",
    "messages": "body mark_as_read read_at",
    "orders": "will_call bill_amount price",
    "grants": "grant_type access_grant",
    # frequent English words the schema uses twice (terms): young, day, price
    "films": "young_adult day_of_week price_usd",
    "books": "young_adult day_of_week",
    "price_history": "price changed_at",
}
# the real cases among them, (kind, name) → confirm
REAL = {
    ("table", "tenant_max"): False,  # beside a word naming people: a name
    ("column", "accounts.max_customer"): False,
    ("column", "accounts.grace_rebate"): True,  # no technical sense: to acknowledge
    ("column", "accounts.mark_notes"): True,
    ("column", "accounts.max"): True,  # alone
    ("table", "young_rebate"): True,  # a term beside a word used nowhere else
}


def _typical(url: str, with_real: bool) -> list[tuple[str, list[Any]]]:
    text = _text(url)
    out = [
        (f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, "
         + ", ".join(f"{c} INTEGER" for c in cols.split()) + ")", [])
        for t, cols in TYPICAL.items()
    ]  # fmt: skip
    out.append(
        (f"CREATE TABLE reminders (id INTEGER PRIMARY KEY, note {text} "
         "DEFAULT 'mark as read after the grace period')", [])
    )  # fmt: skip
    if with_real:
        out += [
            ("CREATE TABLE tenant_max (id INTEGER PRIMARY KEY)", []),
            ("CREATE TABLE young_rebate (id INTEGER PRIMARY KEY)", []),
            ("CREATE TABLE accounts (id INTEGER PRIMARY KEY, max_customer INTEGER, "
             "grace_rebate INTEGER, mark_notes INTEGER, max INTEGER)", []),
            (f"CREATE TABLE terms (id INTEGER PRIMARY KEY, term {text} "
             "DEFAULT 'days of grace')", []),
        ]  # fmt: skip
    return out


def test_typical_names_make_no_noise(make: Callable[[], str]) -> None:
    """Customers called Max, Mark, Grace, Bill, Will and Min: a schema of typical
    names has no warning left (before: one per ``max_…``, ``min_…``, ``mark_…``,
    ``grace_…``, ``will_call`` object, and ``max_users`` refused); the real cases
    beside it are still reported. ``max_price`` and ``min_price`` are silent too
    since round ``schemagaps``: two adjacent words that are both source names (Max,
    Min; Price) are a name only when one source row is called so (no customer is
    Max Price or Min Price: ``_namepairs``); they were errors before."""
    src = make()
    _execute(src, [*_customers(src, PEOPLE), *_typical(src, with_real=False)])
    assert {k: f.confirm for k, f in _findings(src)[1].items()} == {}

    src, tgt = make(), make()
    _execute(src, [*_customers(src, PEOPLE), *_typical(src, with_real=True)])
    plan, got = _findings(src)
    named = {
        (k.split(" ", 1)[0], k.split(" ", 1)[1]): f.confirm
        for k, f in got.items()
        if not k.startswith(("index ", "constraint ", "default ", "table terms"))
    }
    assert named == REAL
    literal = [f for k, f in got.items() if k in ("default terms.term", "table terms")]
    assert [f.confirm for f in literal] == [True]  # 'days of grace'
    with pytest.raises(SchemaPersonalData):
        run(plan, src, tgt, KEY, RunOptions())


def test_technical_senses() -> None:
    from stagewall.masking._ordinary import technical
    from stagewall.masking._schemanames import _words

    def sense(name: str, word: str) -> bool:
        ws = _words(name)
        return technical(ws, ws.index(word))

    for name, word in [
        ("max_length", "max"), ("max_users", "max"), ("retries_max", "max"),
        ("grace_period", "grace"), ("grace_ends_at", "grace"), ("mark_as_read", "mark"),
        ("will_call", "will"), ("unit_price", "price"), ("bill_to", "bill"),
    ]:  # fmt: skip
        assert sense(name, word), name
    for name, word in [
        ("max", "max"), ("tenant_max", "max"), ("max_customer", "max"), ("max_user", "max"),
        ("grace_rebate", "grace"), ("tenant_grace", "grace"), ("mark_notes", "mark"),
        ("young_rebate", "young"), ("price_rebate", "price"),
    ]:  # fmt: skip
        assert not sense(name, word), name


def test_per_person_objects_do_not_vouch_for_each_other() -> None:
    """``young_rebate`` and ``white_rebate`` (customers called Young and White, both
    words the schema's own): ``rebate`` is used only beside source names, so both
    are to acknowledge; a table ``rebates`` makes ``rebate`` the schema's word."""
    cols = [
        Named("column", (t,), c)
        for t in ("films", "books")
        for c in ("young_adult", "white_label", "day_of_week")
    ]
    found = {"young", "white"}
    pair = [Named("table", (), "young_rebate"), Named("table", (), "white_rebate")]
    for extra, flagged in (([], True), ([Named("table", (), "rebates")], False)):
        objects = cols + pair + extra
        terms_ = terms(found, objects)
        assert terms_ == found
        got = judge_names(objects, found, set(), None, set(), terms_, vocabulary(objects))
        assert [f.label for f in got] == (
            ["table white_rebate", "table young_rebate"] if flagged else []
        )
        assert all(f.confirm for f in got)
