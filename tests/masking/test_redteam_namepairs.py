"""Another customer's full name, common words both, written in an unrelated row's
note or JSON in any case, either order, with a comma or several spaces (the first
two tests failed before the fix).

Customer B is ``Tomasz Berger`` (row 5 of the leak-trap customers): a first name
and a surname that every name list knows. Other rows' notes say ``TOMASZ BERGER is
her cousin``, ``Berger, Tomasz paid``, ``Tomasz   Berger (cousin)``. The detector
finds a name written ``Tomasz Berger`` (title case, one space) and nothing else
here; the rare-word search (``_namewords``) searches rare words only. So the copy
kept the name (or replaced the given name alone: ``Berger, Katelyn Burton``) and
verify passed while the independent checker (``survivors_anywhere`` with
``full_names``) found it. Now the source's full names (one row's first and last
name: ``_namepairs.FullNames``) are learnt in the copy's pre-pass, replaced in any
row by text_scrub and json_mask, and searched by verify in every target text
(word_hits, kind ``name``). Two customers ``Max Young`` and ``Mark Price`` make no
``max price``; a first name or a surname alone stays as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.rarewords import (
    copies_clean,
    full_name_checker,
    planted_at,
    stays_quiet,
    word_hits,
)
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _customer as _leak_trap_customer
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_leakjson import _json_columns

N = 30
B_ID = 5  # Tomasz Berger (the only one: other Tomaszes and Bergers are not him)
MAX = {
    "id": N + 1,
    "first_name": "Max",
    "last_name": "Young",
    "email": "max.young@mail.example.org",
}
MARK = {"id": N + 2, "first_name": "Mark", "last_name": "Price", "email": "mprice@mail.example.org"}
ORDINARY_NOTE = "Deliver before noon."
ORDINARY_DOC: dict[str, Any] = {"theme": "dark", "notes": "Leave it at the door"}
# other rows' notes writing B's full name
NOTES = [
    "TOMASZ BERGER is her cousin",
    "tomasz berger is her cousin",
    "Berger, Tomasz is her cousin",
    "Tomasz   Berger (cousin)",
]
# other rows' documents writing it, in keys and leaves
DOCS: list[Any] = [
    {"theme": "dark", "BERGER, TOMASZ": 1},
    {"notes": "Met tomasz  berger at the fair"},
    {"friends": ["Berger ,Tomasz", "Ana"]},
    [{"kind": "list"}, {"who": "TOMASZ berger"}],
]
# quiet: no row is Max Price; a first name alone, a common surname alone
QUIET = ["Ask about the max price first", "Ask for tomasz at the desk", "The berger account"]
QUIET_DOCS: list[Any] = [
    {"max price": 10},
    {"who": "ask for tomasz"},
    {"note": "the berger account"},
]
ROWS = range(16, 16 + len(NOTES))  # never B's row, nor a Tomasz's or a Berger's
QUIET_ROWS = range(20, 20 + len(QUIET))


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers, then Max Young and Mark Price; row ``i``'s note and JSON are
    ``notes[i]`` and ``docs[i]`` or ordinary ones. The JSON column names."""
    cols = _json_columns(url)
    decl = ", ".join(f"{c} {t}" for c, t in cols)
    people = [_leak_trap_customer(i) for i in range(1, N + 1)] + [MAX, MARK]
    assert people[B_ID - 1]["first_name"] == "Tomasz" and people[B_ID - 1]["last_name"] == "Berger"
    rows = [
        [p["id"], p["first_name"], p["last_name"], p["email"], notes.get(p["id"], ORDINARY_NOTE)]
        + [json.dumps(docs.get(p["id"], ORDINARY_DOC))] * len(cols)
        for p in people
    ]
    _execute(
        url,
        [
            (
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
                f"last_name VARCHAR(40), email VARCHAR(100), notes TEXT, {decl})",
                [],
            ),
            (f"INSERT INTO customers VALUES ({', '.join('?' * (5 + len(cols)))})", rows),
        ],
    )
    return [c for c, _ in cols]


# the independent checker's cells writing B's full name (any writing)
_checker = full_name_checker(f"id = {B_ID}", ("first_name", "last_name"))


def test_another_rows_full_name_in_any_writing_is_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; B's full name then written into other rows' notes and
    documents of the target (upper, lower, reversed with a comma, several spaces)
    makes verify fail with each cell counted as the checker counts it (4 per
    column), kind ``name``, alike in forked parts, never showing the name. Before:
    the checker found 4 cells per column and verify saw no cell as a full name (2
    of the 4 notes and 1 of the 4 documents failed it only where the detector read
    a name in the writing)."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = copies_clean(src, tgt, cols, _checker)
    _execute(tgt, planted_at(cols, NOTES, DOCS, ROWS))
    found = _checker(src, tgt, cols)
    assert found == {f"customers.{c}": 4 for c in ["notes", *cols]}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    for c in ["notes", *cols]:
        assert word_hits(report, c, "name") == found[f"customers.{c}"], report.to_json()
    assert verify(plan, src, tgt, KEY, jobs=2).word_hits == report.word_hits  # forked parts
    shown = json.dumps(report.to_json()).lower()
    assert "tomasz" not in shown and "berger" not in shown  # counts, never values


def test_the_auto_plan_replaces_a_full_name_in_any_row(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan:
    text_scrub and json_mask replace B's full name in any row (the text around
    kept), verify passes and the checker finds nothing. Before: the copy kept it
    (or replaced the given name alone) and verify passed."""
    src, tgt = make(), make()
    notes = dict(zip(ROWS, NOTES, strict=True))
    cols = _source(src, notes, dict(zip(ROWS, DOCS, strict=True)))
    copies_clean(src, tgt, cols, _checker)
    got = dict(rows_of(tgt, f"SELECT id, notes FROM customers WHERE id >= {ROWS[0]}"))
    assert got[ROWS[0]].endswith(" is her cousin")
    assert got[ROWS[0]].removesuffix(" is her cousin").isupper()  # (its case shape)
    assert got[ROWS[1]].removesuffix(" is her cousin").islower()
    assert got[ROWS[3]].endswith(" (cousin)")
    for i in ROWS:
        assert "berger" not in got[i].lower() and "tomasz" not in got[i].lower(), got[i]
    if src.startswith("postgresql"):  # worker processes learn the full names too
        again = make()
        run(build_plan(src).plan, src, again, KEY, RunOptions(jobs=2))
        assert _checker(src, again, cols) == {}


def test_no_one_is_max_price_and_a_name_alone_stays(make: Callable[[], str]) -> None:
    """Customers Max Young and Mark Price make no ``max price``; a note naming only
    a first name or only a common surname is no full name: copied as it was, and
    verify passes with the same texts planted into the target."""
    src, tgt = make(), make()
    cols = _source(
        src,
        dict(zip(QUIET_ROWS, QUIET, strict=True)),
        dict(zip(QUIET_ROWS, QUIET_DOCS, strict=True)),
    )
    quiet = (QUIET, QUIET_DOCS)
    stays_quiet(src, tgt, make(), cols, _checker, quiet, QUIET_ROWS, range(1, 1 + len(QUIET)))


def test_which_pairs_are_full_names() -> None:
    """One row's first and last name, in either order; a pair public text writes is
    not searched; a full_name column gives its first and last word (a title passed
    over); two letters at least."""
    from stagewall.masking._namepairs import FullNames, cells_holding_pairs, pair_spans

    full = FullNames()
    planned = {"first_name": "first_name", "last_name": "last_name", "email": "email"}
    read = ["first_name", "last_name"]
    full.rows(
        planned,
        read,
        [["Tomasz", "Max", "Mark", "Zoe", "J"], ["Berger", "Young", "Price", "Quint", "Li"]],
    )
    full.rows(
        {"full_name": "full_name", "phone": "phone"}, ["full_name"], [["Dr. Ana Maria Ganthriv"]]
    )
    full.public(["A film about Zoe Quint", {"who": "nobody"}])
    pairs = full.result()
    assert ("berger", "tomasz") in pairs and ("max", "young") in pairs
    assert ("max", "price") not in pairs and ("price", "young") not in pairs
    assert ("quint", "zoe") not in pairs  # public
    assert ("ana", "ganthriv") in pairs and not any("dr" in p for p in pairs)
    assert not any("j" in p for p in pairs)
    texts = [
        "TOMASZ BERGER is her cousin",
        "Berger,Tomasz",
        "max price",
        "tomasz-berger",
        "Tomasz. Berger",
    ]
    assert pair_spans(texts, pairs) == [[(0, 13)], [(0, 13)], [], [], []]
    assert cells_holding_pairs([*texts, {"Berger , tomasz": 1}, None, 7], pairs) == 3


def test_a_pseudonym_that_is_another_source_name_is_drawn_again() -> None:
    """The pseudonyms are common names, so one may be another source person's full
    name (the benchmark's common names: the row's own ``Grace Thomas`` drawn as
    ``Jack Schmidt``, a customer; verify found 4 such cells in 20,000 rows): the copy
    replaces it again, so the output writes no source full name."""
    from stagewall.masking._namepairs import pair_key, pair_spans
    from stagewall.masking._namewords import Learnt, fold_text
    from stagewall.masking.transformers import build_transformer

    def scrub(pairs: set[tuple[str, str]], text: str) -> str:
        tr = build_transformer("text_scrub", {}, key=KEY, salt="customers.notes")
        learnt = Learnt()
        learnt.pairs = frozenset(pairs)
        tr.learn(learnt)
        return str(tr.transform([text])[0])

    text = "TOMASZ BERGER is her cousin"
    b = pair_key("tomasz", "berger")
    first = scrub({b}, text)
    drawn = fold_text(first.removesuffix(" is her cousin")).split()
    assert len(drawn) == 2 and "tomasz" not in drawn and "berger" not in drawn
    other = pair_key(drawn[0], drawn[-1])  # the pseudonym is a source person's name
    again = scrub({b, other}, text)
    assert again != first and again.endswith(" is her cousin")
    assert pair_spans([again], frozenset({b, other})) == [[]]
