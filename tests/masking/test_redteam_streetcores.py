"""A street named by its name alone: the name (its *core*) is rare, so it identifies
the place as a rare surname identifies a person (the first two tests failed before
the fix, on SQLite, PostgreSQL and MariaDB alike).

Customer B lives on ``Ganthrivweg 14``, customer D on ``14 Quorvalle Lane``: names no
word list knows. Notes and JSON documents say ``lives on the Ganthrivweg``, ``the
Ganthriv one``, ``Quorvalle Court``, ``Ganthriv Square``, ``Ganthrivstr.``: the street
without its number, by its name alone, with a street word the swap list leaves out
(it is ordinary English next to a name), in B's own row and in unrelated rows'.
text_scrub searched a row's own street only with its number or a street word of the
swap list (``_known._core_forms``), so the copy kept them, verify passed, and the
independent checker (``survivors_anywhere``, kind ``street core``) found them.
Now the source's rare street cores are learnt like rare names (``_namewords``,
``_streetcores``): replaced in any row by a street pseudonym's core, and searched by
verify in every text (kind ``street``). A common core (``Mayor``, ``High``) keeps
today's rules: ``el alcalde mayor``, ``the High Court`` stay.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.rarewords import (
    ORDINARY_NOTE,
    checker,
    copies_clean,
    customers,
    fails_once_planted,
)
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import holds, street_core_needles
from tests.masking.test_leak_traps import _customer as _leak_trap_customer

N = 30
B_ID, D_ID, E_ID, F_ID = N + 1, N + 2, N + 3, N + 4
STREETS = {
    B_ID: "Ganthrivweg 14",  # rare cores
    D_ID: "14 Quorvalle Lane",
    E_ID: "Calle Mayor 7",  # common cores: today's rules
    F_ID: "12 High Street",
}
# notes naming B's or D's street by its name alone (planted in rows 1.., not theirs)
NOTES = [
    "lives on the Ganthrivweg now",
    "the Ganthriv one, by the bakery",
    "moved to Quorvalle Court last May",
    "meet at GANTHRIV SQUARE at noon",
    "parcel for Ganthrivstr., back door",
    "Gánthrivstraße corner, blue gate",
    "pick-up at G\u0430nthriv Court",  # (a Cyrillic a)
]
DOCS: list[Any] = [
    {"theme": "dark", "Ganthrivweg": 1},
    {"notes": "the Quorvalle one"},
    {"places": ["Ganthriv Court", "school"]},
    [{"kind": "list"}, {"where": "QUORVALLE SQUARE"}],
]
# B's own note: its street without its number (was copied as it was)
OWN_NOTE = "lives on the Ganthrivweg, blue door"
# common cores in other text: ordinary words, left alone
COMMON_NOTES = {
    E_ID: "el alcalde mayor dijo que sí; prices are high",
    F_ID: "the High Court; a high wall; Main Road works",
}


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers on ``Calle Mayor i``, then B, D, E, F on :data:`STREETS`; row
    ``i``'s note and JSON are ``notes[i]`` and ``docs[i]`` or ordinary ones. The JSON
    column names."""
    people = [_leak_trap_customer(i) for i in range(1, N + 5)]
    for p in people:
        p["street"] = STREETS.get(p["id"], p["street"])
    rows = [
        [p["id"], p["first_name"], p["last_name"], p["email"], p["street"], note]
        for p in people
        for note in [notes.get(p["id"], COMMON_NOTES.get(p["id"], ORDINARY_NOTE))]
    ]
    columns = (
        "first_name VARCHAR(40), last_name VARCHAR(40), email VARCHAR(100), "
        "street VARCHAR(80), notes TEXT"
    )
    return customers(url, columns, rows, docs)


# The independent checker's cells holding B's or D's street name alone (any row).
_checker = checker("street", "street core", f"id IN ({B_ID}, {D_ID})")


def test_a_rare_street_name_alone_is_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; B's and D's street names then written alone into the
    target's notes and documents (other rows', and B's own note) make verify fail
    with each cell counted as the checker counts it, as kind ``street``, never the
    value. Before: verify passed while the checker found every such cell."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = copies_clean(src, tgt, cols, _checker)
    texts = (NOTES, DOCS, {B_ID: OWN_NOTE})
    fails_once_planted(plan, src, tgt, cols, _checker, texts, ["ganthriv", "quorvalle"], "street")


def test_the_auto_plan_copies_such_text_clean(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan: the
    copy learns the rare street names first and replaces them in any row, an ending
    kept (``…weg``); verify passes and the checker finds nothing. Notes holding a
    common core (``mayor``, ``high``) are copied as they were. Before: the copy kept
    every street name (the checker's 8 notes and 4 documents per column) and verify
    passed."""
    src, tgt = make(), make()
    notes = {k + 1: t for k, t in enumerate(NOTES)} | {B_ID: OWN_NOTE}
    cols = _source(src, notes, {k + 1: d for k, d in enumerate(DOCS)})
    copies_clean(src, tgt, cols, _checker)
    got = dict(rows_of(tgt, f"SELECT id, notes FROM customers WHERE id >= {B_ID - 2}"))
    assert got[E_ID] == COMMON_NOTES[E_ID] and got[F_ID] == COMMON_NOTES[F_ID]
    (first,) = rows_of(tgt, "SELECT notes FROM customers WHERE id = 1")
    assert first[0].startswith("lives on the ") and first[0].endswith("weg now"), first
    kept = rows_of(tgt, f"SELECT notes FROM customers WHERE id > {len(NOTES)} AND id <= {N}")
    assert {r[0] for r in kept} == {ORDINARY_NOTE}


def test_which_street_cores_are_rare() -> None:
    """A street's core words (its name: no number, flat, street word, small word; an
    ending glued on cut off), rare when 4 letters or more and in no word list the
    product ships (names, pseudonyms, common words of English and of Faker's other
    languages, place words) nor public in the source."""
    from stagewall.masking._namewords import GIVEN, rare, source_words
    from stagewall.masking._streetcores import STREET

    words: dict[str, str] = {}
    for street in [
        "Ganthrivweg 14",
        "14 Quorvalle Lane",
        "Calle de Alcalá 5, 2ºB",
        "Calle Mayor 7",
        "12 High Street",
        "Hauptstraße 5",
        "Berliner Straße 5",
        "Flat 3B, 22 Pellandrix Road",
        "Zelmorth Avenue, Apt 4",
        "Avenida Nueva 3",
        "5 Church Street",
        "Rue de la Paix 8",
        "Thraxbury Avenue",
    ]:
        source_words("street_address", [street], words)
    source_words("first_name", ["Zelmorth"], words)  # a name wins over a street
    got = rare(words, public=["thraxbury"])
    assert got == {
        "ganthriv": STREET,
        "quorvalle": STREET,
        "pellandrix": STREET,
        "zelmorth": GIVEN,
    }


def test_the_checker_reads_street_names_alone() -> None:
    """survivors.py's own reading: the name as a word or glued to a street ending,
    not inside another word."""
    mine = street_core_needles("Ganthrivweg 14") + street_core_needles("14 Quorvalle Lane")
    for text in [
        "the Ganthriv one",
        "Ganthrivstr. 3",
        "GANTHRIVSTRASSE",
        "Gánthrivplatz",
        "Quorvalle Court",
    ]:
        assert holds(text, mine), text
    for text in ["Ganthrivson", "the ganthrivs", "Quorvallestone", "Lane 14"]:
        assert not holds(text, mine), text


def test_text_scrub_keeps_the_shape_and_leaves_common_cores() -> None:
    """A learnt rare core is replaced by a street pseudonym's core in any row's text,
    as a word and before a glued ending (the ending kept); common words and notes
    without it are unchanged; the same core gets the same pseudonym."""
    from stagewall.keys import MaskingKey
    from stagewall.masking._namewords import rare, source_words
    from stagewall.masking.transformers import build_transformer

    words: dict[str, str] = {}
    source_words("street_address", ["Ganthrivweg 14", "Calle Mayor 7", "12 High St"], words)
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("s", b"s" * 32), salt="t")
    scrub.learn(rare(words, ()))  # type: ignore[attr-defined]
    notes = [
        "lives on the Ganthrivweg now",
        "the Ganthriv one",
        "el alcalde mayor; the High Court",
        "Ganthrivson called",
    ]
    got = scrub.transform_known(notes, [()] * len(notes))
    assert "ganthriv" not in (got[0] + got[1]).casefold(), got
    assert got[0].startswith("lives on the ") and got[0].endswith("weg now"), got
    core = got[0][len("lives on the ") : -len("weg now")]
    assert core.isalpha() and got[1] == f"the {core} one", got
    assert got[2] == notes[2]
    # (a rare word of six letters or more glued to three letters or fewer is found
    # inside the run too: the name's letters are replaced, the rest is kept)
    assert got[3] == f"{core}son called", got


def test_a_street_named_after_a_rare_name_is_found_glued() -> None:
    """A word that is a rare surname and a street's core is kept as the surname; with a
    street ending glued on it is still found (as a street: the ending's letters are
    kept, the name's replaced), and in a longer word that is no street it is found as
    the surname glued to other letters (``_inside``: ``Ganthrivson``)."""
    from stagewall.masking._namewords import (
        SURNAME,
        cells_holding,
        kinded_spans,
        rare,
        source_words,
    )
    from stagewall.masking._streetcores import STREET

    words: dict[str, str] = {}
    source_words("street_address", ["Ganthrivweg 14"], words)
    source_words("last_name", ["Ganthriv"], words)
    got = rare(words, ())
    assert got == {"ganthriv": SURNAME}
    texts = ["lives on the Ganthrivweg", "Ganthrivson", "the Ganthriv family"]
    assert cells_holding(texts, got) == {STREET: 1, SURNAME: 2}
    assert kinded_spans(texts, got) == [[(13, 21, STREET)], [(0, 8, SURNAME)], [(4, 12, SURNAME)]]
