"""A city no word list knows names the place as a rare surname names a person (the
first two tests failed before the fix, on SQLite, PostgreSQL and MariaDB alike).

Customer B lives in ``Quarrington``, customer D in ``Pellworth Magna``: towns no word
list knows. Notes and JSON documents say ``Mr NAKAMURA, Quarrington branch``,
``QUARRINGTON depot``, ``the Pellworth office``, in B's own row and in unrelated rows'.
The city column was masked (planned ``city``) but no one searched its values in text
(cities are no known values: common ones are ordinary words), so the copy kept them,
verify saw none in text (only a JSON leaf equal to a whole town, as a whole-value
hit) and the independent checker (``survivors_anywhere``, kind ``city``)
found them. Now a city column's rare words are learnt like rare names (``_namewords``,
``_streetcores.city_words``): replaced in any row by a city pseudonym, and searched by
verify in every text (kind ``city``). Common cities (London, Reading, Bath, Nice, New
York, Madrid, Sydney, Tokyo) stay unsearched: a note naming them is copied as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.planner import build_plan
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.rarewords import (
    ORDINARY_NOTE,
    checker,
    copies_clean,
    customers,
    fails_once_planted,
)
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import city_needles, holds
from tests.masking.test_leak_traps import _customer as _leak_trap_customer

N = 30
B_ID, D_ID = N + 1, N + 2
COMMON = ["London", "Madrid", "Reading", "Bath", "Nice", "New York", "Sydney", "Tokyo"]
CITIES = {B_ID: "Quarrington", D_ID: "Pellworth Magna"}
# notes naming B's or D's town (planted in rows 1.., not theirs)
NOTES = [
    "Mr NAKAMURA, Quarrington branch",
    "QUARRINGTON depot, back door",
    "the Pellworth office called",
    "moved from quarrington last May",
    "Qu\u0430rrington parcel",  # (a Cyrillic a)
]
DOCS: list[Any] = [
    {"branch": "Quarrington"},
    {"Pellworth": 1},
    [{"kind": "list"}, {"where": "PELLWORTH"}],
]
OWN_NOTE = "Mr NAKAMURA, Quarrington branch"
# common cities in other rows' text: ordinary words, left alone
COMMON_NOTE = "Reading in London, then Bath and Nice; New York, Madrid, Sydney, Tokyo"


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers in the :data:`COMMON` cities (the last rows' notes name them),
    then B and D in :data:`CITIES`; row ``i``'s note and JSON are ``notes[i]`` and
    ``docs[i]`` or ordinary ones. The JSON column names."""
    people = [_leak_trap_customer(i) for i in range(1, N + 3)]
    rows = []
    for p in people:
        i = p["id"]
        city = CITIES.get(i, COMMON[i % len(COMMON)])
        note = notes.get(i, COMMON_NOTE if N - 3 < i <= N else ORDINARY_NOTE)
        rows.append([i, p["first_name"], p["last_name"], p["email"], city, note])
    columns = (
        "first_name VARCHAR(40), last_name VARCHAR(40), email VARCHAR(100), "
        "city VARCHAR(60), notes TEXT"
    )
    return customers(url, columns, rows, docs)


# The independent checker's cells holding B's or D's town (any row).
_checker = checker("city", "city", f"id IN ({B_ID}, {D_ID})")


def _copies_clean(src: str, tgt: str, cols: list[str]) -> Any:
    """The unedited auto plan (``city`` planned ``city``, notes ``text_scrub``): the
    checker finds nothing and verify passes."""
    plan = build_plan(src).plan
    table = "public.customers" if src.startswith("postgresql") else "customers"
    assert plan.column(table, "city").transformer == "city"
    assert plan.column(table, "notes").transformer == "text_scrub"
    return copies_clean(src, tgt, cols, _checker, plan)


def test_a_rare_city_in_text_is_seen(
    make: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A clean copy verifies; B's and D's towns then written into the target's notes
    and documents (other rows', and B's own note) make verify fail with each cell
    counted as the checker counts it, as kind ``city``, never the value. Before:
    verify passed while the checker found every such cell."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = _copies_clean(src, tgt, cols)
    texts = (NOTES, DOCS, {B_ID: OWN_NOTE})
    words = ["quarrington", "pellworth"]
    found, report = fails_once_planted(plan, src, tgt, cols, _checker, texts, words, "city")
    from stagewall.cli.mask import _print_report

    _print_report(report)
    err = capsys.readouterr().err
    assert f"{found['customers.notes']} cell(s) hold a source city's rare name" in err, err
    assert "quarrington" not in err.lower()


def test_the_auto_plan_copies_such_text_clean(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan: the
    copy learns the rare towns first and replaces them in any row by a city
    pseudonym in the same case shape; verify passes and the checker finds nothing.
    Notes naming common cities are copied as they were. Before: the copy kept every
    town (the checker's 6 notes and 3 documents per column) and verify saw only the
    JSON leaf holding a whole town."""
    src, tgt = make(), make()
    notes = {k + 1: t for k, t in enumerate(NOTES)} | {B_ID: OWN_NOTE}
    cols = _source(src, notes, {k + 1: d for k, d in enumerate(DOCS)})
    _copies_clean(src, tgt, cols)
    got = dict(rows_of(tgt, "SELECT id, notes FROM customers"))
    assert [got[i] for i in range(N - 2, N + 1)] == [COMMON_NOTE] * 3
    first, second = got[1], got[2]
    assert first.endswith(" branch") and ", " in first, first
    town = first.split(", ", 1)[1][: -len(" branch")]
    assert town.isalpha() and town[0].isupper() and town[1:].islower(), first
    assert second == f"{town.upper()} depot, back door", (first, second)  # same, upper
    assert got[4] == f"moved from {town.lower()} last May", got[4]
    kept = {got[i] for i in range(len(NOTES) + 1, N - 2)}
    assert kept == {ORDINARY_NOTE}


def test_which_city_words_are_rare() -> None:
    """A city's words of 4 letters or more, rare when in no word list the product
    ships (names, pseudonyms, common words of English and of Faker's other
    languages, place words, the reviewed well-known cities) nor public in the source
    (a kept column's ``Hallowmere``). Each rare word is learnt alone; a name wins."""
    from stagewall.masking._namewords import SURNAME, rare, source_words
    from stagewall.masking._streetcores import CITY, STREET

    words: dict[str, str] = {}
    source_words(
        "city",
        [
            "Quarrington",
            "Pellworth Magna",
            "Hallowmere",
            "Zelmorth",
            "Thraxby",
            *COMMON,
            "Kuala Lumpur",
            "Birmingham",
            "Munich",
            "São Paulo",
            "Rio de Janeiro",
        ],
        words,
    )
    source_words("last_name", ["Zelmorth"], words)  # a name wins over a city
    source_words("street_address", ["14 Thraxby Lane"], words)  # a street too
    got = rare(words, public=["hallowmere"])
    assert got == {
        "quarrington": CITY,
        "pellworth": CITY,
        "zelmorth": SURNAME,
        "thraxby": STREET,
    }


def test_the_checker_reads_city_words() -> None:
    """survivors.py's own reading: a word of the town's name, as a word."""
    mine = city_needles("Quarrington") + city_needles("Pellworth Magna")
    for text in ["Quarrington branch", "QUARRINGTON", "the pellworth one", "Quárrington"]:
        assert holds(text, mine), text
    for text in ["Quarringtons", "Pellworthy", "Lane 14"]:
        assert not holds(text, mine), text
