"""Another customer's name written with an initial (``T. Berger``, ``Berger, T.``),
or as two words of a name of three or more (``José Carrasco`` of Maria José
Carrasco Pérez), or a full_name column's (``Maria José Carrasco``), in an
unrelated row's note or JSON (every test but the quiet one failed before the fix).

Customer B is ``Tomasz Berger`` (row 5 of the leak-trap customers; the only
T. Berger: Peter, Lukas and Jan Berger are not him); customer C (row 33) is first
name ``Maria José``, last name ``Carrasco Pérez``; every word of both is a common
name. The full-name search (``_namepairs``) learnt one pair per person (the first
name's last word and the surname's first, and the reverse), two words of two
letters or more: ``T. Berger``, ``Maria Carrasco`` and ``Carrasco Pérez, Maria``
(whose ``Carrasco`` stayed) were copied unchanged while verify passed, and the
independent checker (``survivors_anywhere`` with ``full_names``) found them. Now
one person's adjacent name words, first word and last word, and the first name's
initial (a capital, with a period or before a capitalised surname) beside each
surname word are learnt, replaced in any row by text_scrub and json_mask, and
searched by verify (kind ``name``). Quiet: ``max price`` beside Max Young and Mark
Price, an initial no customer has with that surname (``O. Berger``), a lower-case
``a`` (a word, not an initial), ``Berger T-shirt``.
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
from tests.masking.survivors import survivors_anywhere
from tests.masking.test_leak_traps import _customer as _leak_trap_customer
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_leakjson import _json_columns
from tests.masking.test_redteam_namepairs import MARK, MAX

N = 30
B_ID = 5  # Tomasz Berger
C = {
    "id": N + 3,
    "first_name": "Maria José",
    "last_name": "Carrasco Pérez",
    "email": "mjcp@mail.example.org",
}
WHO = f"id IN ({B_ID}, {C['id']})"
ORDINARY_NOTE = "Deliver before noon."
ORDINARY_DOC: dict[str, Any] = {"theme": "dark", "notes": "Leave it at the door"}
# other rows' notes writing B with an initial, or two words of C's name
NOTES = [
    "T. Berger is her cousin",
    "Ask T Berger first",
    "Berger, T. paid",
    "BERGER T. (cousin)",
    "José Carrasco called",
    "Maria Carrasco called",
    "Carrasco Pérez, Maria called",
]
DOCS: list[Any] = [
    {"who": "T. Berger"},
    {"Berger, T.": 1},
    {"notes": "met BERGER T. there"},
    {"friends": ["JOSÉ CARRASCO", "Ana"]},
    [{"kind": "list"}, {"who": "maria carrasco"}],
]
# quiet: no one is Max Price or an O. Berger; a lower-case "a" is a word (Anna
# Schmidt is a customer); a T-shirt; Mary is not Maria
QUIET = [
    "Ask about the max price first",
    "Ask O. Berger at the desk",
    "ask a schmidt for it",
    "The Berger T-shirt",
    "ask mary carrasco too",
]
QUIET_DOCS: list[Any] = [
    {"max price": 10},
    {"who": "O. Berger"},
    {"note": "a schmidt quote"},
    {"tee": "Berger T-shirt"},
]
ROWS = range(16, 16 + len(NOTES))  # never B's or C's row
QUIET_ROWS = range(23, 23 + len(QUIET))


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers, Max Young, Mark Price and C; row ``i``'s note and JSON are
    ``notes[i]`` and ``docs[i]`` or ordinary ones. The JSON column names."""
    cols = _json_columns(url)
    decl = ", ".join(f"{c} {t}" for c, t in cols)
    people = [_leak_trap_customer(i) for i in range(1, N + 1)] + [MAX, MARK, C]
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


# the independent checker's cells writing B's or C's name (any writing)
_checker = full_name_checker(WHO, ("first_name", "last_name"))


def test_an_initial_or_a_long_names_two_words_are_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; the notes and documents then planted into other rows
    of the target make verify fail with each cell counted as the checker counts it
    (7 notes, 5 documents per JSON column), kind ``name``, alike in forked parts,
    never showing a name. Before: verify passed (the checker found them all)."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = copies_clean(src, tgt, cols, _checker)
    _execute(tgt, planted_at(cols, NOTES, DOCS, ROWS))
    found = _checker(src, tgt, cols)
    assert found == {"customers.notes": len(NOTES), **{f"customers.{c}": len(DOCS) for c in cols}}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    for c in ["notes", *cols]:
        assert word_hits(report, c, "name") == found[f"customers.{c}"], report.to_json()
    assert verify(plan, src, tgt, KEY, jobs=2).word_hits == report.word_hits  # forked parts
    shown = json.dumps(report.to_json()).lower()
    assert "berger" not in shown and "carrasco" not in shown  # counts, never values


def test_the_auto_plan_replaces_them_in_any_row(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, and B's own note ``Call T. Berger
    back``, through the unedited auto plan: text_scrub and json_mask replace each
    writing (the text around kept), verify passes and the checker finds nothing.
    B's own note keeps no surname (an initial alone is no one's name). Before: the
    copy kept them (``Carrasco`` of ``Carrasco Pérez, Maria``) and verify passed."""
    src, tgt = make(), make()
    notes = {**dict(zip(ROWS, NOTES, strict=True)), B_ID: "Call T. Berger back"}
    cols = _source(src, notes, dict(zip(ROWS, DOCS, strict=False)))
    copies_clean(src, tgt, cols, _checker)
    got = dict(rows_of(tgt, f"SELECT id, notes FROM customers WHERE id >= {ROWS[0]}"))
    assert got[ROWS[0]].endswith(" is her cousin")
    assert got[ROWS[3]].endswith(" (cousin)")
    assert got[ROWS[3]].removesuffix(" (cousin)").isupper()  # (its case shape)
    for i in ROWS:
        low = got[i].lower()
        assert "berger" not in low and "carrasco" not in low, got[i]
        assert "josé" not in low and "pérez" not in low, got[i]
    own = rows_of(tgt, f"SELECT notes FROM customers WHERE id = {B_ID}")[0][0]
    assert "berger" not in own.lower() and own.startswith("Call ") and own.endswith(" back"), own
    if src.startswith("postgresql"):  # worker processes learn them too
        again = make()
        run(build_plan(src).plan, src, again, KEY, RunOptions(jobs=2))
        assert _checker(src, again, cols) == {}


def test_quiet_writings_stay(make: Callable[[], str]) -> None:
    """No one is Max Price or an O. Berger; ``a schmidt`` holds a word ``a``, not an
    initial; a T-shirt is no T.; Mary is not Maria (lower case: the
    detector replaces a capitalised full name): copied as
    they were, and verify passes with the same texts planted into the target."""
    src, tgt = make(), make()
    cols = _source(
        src,
        dict(zip(QUIET_ROWS, QUIET, strict=True)),
        dict(zip(QUIET_ROWS, QUIET_DOCS, strict=False)),
    )
    quiet = (QUIET, QUIET_DOCS)
    stays_quiet(src, tgt, make(), cols, _checker, quiet, QUIET_ROWS, range(1, 1 + len(QUIET)))


def test_which_writings_are_learnt() -> None:
    """All adjacent words of one person's first and last name, and each given name
    with each surname word (a particle is no word of a pair); a full_name column's likewise; the
    first name's initial beside each surname word, written with a capital and a
    period, or a capital before a capitalised surname."""
    from stagewall.masking._namepairs import FullNames, cells_holding_pairs, pair_spans

    full = FullNames()
    planned = {"first_name": "first_name", "last_name": "last_name", "email": "email"}
    full.rows(
        planned,
        ["first_name", "last_name"],
        [["Maria José", "Tomasz", "Max", "Mark"], ["Carrasco Pérez", "Berger", "Young", "Price"]],
    )
    full.rows(
        {"full_name": "full_name", "phone": "phone"},
        ["full_name"],
        [["Dr. Ana Lucía Ganthriv", "Luis de la Cruz"]],
    )
    pairs = full.result()
    for a, b in [
        ("maria", "jose"),
        ("jose", "carrasco"),
        ("carrasco", "perez"),
        ("maria", "perez"),
        ("maria", "carrasco"),
        ("jose", "perez"),
        ("ana", "lucia"),
        ("lucia", "ganthriv"),
        ("ana", "ganthriv"),
        ("cruz", "luis"),
    ]:
        assert (min(a, b), max(a, b)) in pairs, (a, b)
    assert ("max", "price") not in pairs
    assert not any("de" in p or "la" in p for p in pairs)
    texts = [
        "T. Berger is her cousin",
        "Berger, T. paid",
        "BERGER T.",
        "Ask T Berger",
        "t. berger",
        "ask t berger",
        "O. Berger",
        "The Berger T-shirt",
        "a price",
        "Plan A Price",
        "A. Price",
        "M Price",
        "Carrasco Pérez, Maria",
    ]
    assert pair_spans(texts, pairs) == [
        [(0, 9)],
        [(0, 10)],
        [(0, 9)],
        [(4, 12)],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [(0, 7)],
        [(0, 21)],
    ]
    assert cells_holding_pairs([*texts, {"Berger, T.": 1}, None, 7], pairs) == 7


def test_a_full_name_columns_three_words(make: Callable[[], str]) -> None:
    """A ``full_name`` column ``Maria José Carrasco`` (its first word the given name,
    the rest the surname): other rows' notes ``José Carrasco called``, ``M. Carrasco
    paid``, ``Carrasco, Maria called`` are replaced by the auto plan's copy (verify
    passes, the checker finds nothing), and planted into the target they are each a
    verify hit, as the checker counts them. Before: ``José Carrasco`` and ``M.
    Carrasco`` were kept."""
    people = [
        f"{p['first_name']} {p['last_name']}" for p in map(_leak_trap_customer, range(1, 9))
    ] + ["Maria José Carrasco"]
    notes = ["José Carrasco called", "M. Carrasco paid", "Carrasco, Maria called"]
    src, tgt = make(), make()
    rows = [
        [i, name, f"person{i}@mail.example.org", notes[i - 1] if i <= len(notes) else "Paid."]
        for i, name in enumerate(people, start=1)
    ]
    _execute(
        src,
        [
            (
                "CREATE TABLE contacts (id INTEGER PRIMARY KEY, full_name VARCHAR(80), "
                "email VARCHAR(100), notes TEXT)",
                [],
            ),
            ("INSERT INTO contacts VALUES (?, ?, ?, ?)", rows),
        ],
    )
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())

    def checker(url: str) -> dict[str, int]:
        return survivors_anywhere(
            src, url, "contacts", {}, {"contacts": ["notes"]}, "id = 9", ("full_name",)
        )

    assert checker(tgt) == {}
    got = [r[0] for r in rows_of(tgt, "SELECT notes FROM contacts WHERE id <= 3 ORDER BY id")]
    assert all("carrasco" not in n.lower() and "josé" not in n.lower() for n in got), got
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    _execute(
        tgt,
        [("UPDATE contacts SET notes = ? WHERE id = ?", [(n, 5 + i)]) for i, n in enumerate(notes)],
    )
    assert checker(tgt) == {"contacts.notes": 3}
    assert word_hits(verify(plan, src, tgt, KEY), "notes", "name") == 3
