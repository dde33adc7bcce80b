"""A customer's own two-letter name in the row's own note (the first two tests failed
before the fix).

Very common Chinese, Vietnamese and Korean surnames and given names have two
letters: ``Ng``, ``Xu``, ``Li``, ``Wu``, ``Vũ``. A name part shorter than three
letters was searched only inside the full name (``MIN_PART``), by text_scrub, by
verify's row search and by the independent checker alike: so ``Ng called about the
invoice`` in Wei Ng's own note, or in the note of an order of hers, was copied as
it was and verify passed. Now a two-letter part is searched alone, as a whole word,
case- and accent-insensitively (``NG``, ``vu`` for ``Vũ``), unless it is a common
two-letter word of a supported language (``_shortwords``: ``An`` and ``Do``, both
Vietnamese names, are English words: searched only inside the full name, as
before). And a full name found across a clause break (``Talked to Wei; Ng
agreed``) is replaced word by word: the ``; `` stays.
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
from tests.masking.survivors import _rows, survivors
from tests.masking.test_leak_traps import _customer, _execute

N = 30
# (first name, last name, the customer's own note, the note of an order of theirs)
SHORT = [
    ("Wei", "Ng", "Ng called about the invoice.", "Ng will pick it up."),
    ("Mei", "Ng", "Called Ng twice, no answer.", "Per NG: ship Monday."),
    ("Li", "Xu", "XU wants a refund.", "Xu paid by card."),
    ("Anh", "Vũ", "vu prefers e-mail", "Deliver to Vu at the back door."),
    ("Jo", "Wu", "Jo asked for a call back.", "wu: leave at the gate"),
]
# quiet: a customer whose names are both common words (An, Do): their note's words
# are no name on their own; and Jo's note of common words only
QUIET = [
    ("An", "Do", "Do it in an hour, as he said.", "Go to the depot if no one is in."),
    ("Jo", "Kim", "Go on, it is ok to ship.", "Up to us: no rush."),
]
CLAUSE = ("Wei", "Ng", "Talked to Wei; Ng agreed.", "Paid by card.")
ROWS = SHORT + QUIET + [CLAUSE]
PLAIN = "Deliver before noon."
NAMED = len(SHORT)  # cells naming their row's customer, per column


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return url_maker(request, tmp_path, request.param)


def _source(url: str) -> None:
    """``N`` ordinary customers, then ROWS (ids ``N + 1``...), each with one order."""
    people = [
        (p["id"], p["first_name"], p["last_name"], p["email"], PLAIN, PLAIN)
        for p in map(_customer, range(1, N + 1))
    ]
    people += [
        (N + 1 + k, first, last, f"{first.lower()}.x{k}@mail.example.org", note, order)
        for k, (first, last, note, order) in enumerate(ROWS)
    ]
    _execute(
        url,
        [
            (
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
                "last_name VARCHAR(40), email VARCHAR(100), notes TEXT)",
                [],
            ),
            ("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", [p[:5] for p in people]),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
                "REFERENCES customers (id), note TEXT)",
                [],
            ),
            ("INSERT INTO orders VALUES (?, ?, ?)", [(p[0], p[0], p[5]) for p in people]),
        ],
    )


def _checker(src: str, tgt: str, plan: Any) -> dict[str, int]:
    """The independent checker's cells holding their own customer's name."""
    return survivors(
        src,
        tgt,
        "customers",
        {"first_name": "name", "last_name": "name"},
        {"customers": ["notes"], "orders": ["note"]},
        {"customers": "id", "orders": "customer_id"},
        plan=plan,
    )


def _copy(src: str, tgt: str) -> Any:
    """The unedited auto plan's copy: the checker finds nothing, verify passes."""
    plan = build_plan(src).plan
    assert plan.tables[_q(plan, "customers")].columns["notes"].transformer == "text_scrub"
    run(plan, src, tgt, KEY, RunOptions())
    found = _checker(src, tgt, plan)
    report = verify(plan, src, tgt, KEY)
    assert found == {}, (found, report.to_json())
    assert report.passed, report.to_json()
    return plan


def _q(plan: Any, table: str) -> str:
    return next(q for q in plan.tables if q.rsplit(".", 1)[-1].strip('"`') == table)


def _notes(url: str, table: str, column: str) -> dict[int, str]:
    key = "id" if table == "customers" else "customer_id"
    return {int(k): v for k, v in _rows(url, f"SELECT {key}, {column} FROM {table}")}


def test_own_two_letter_names_are_replaced(make: Callable[[], str]) -> None:
    """The unedited auto plan replaces a customer's two-letter names in their note
    and their order's note, whatever the case and accents; the checker finds nothing
    and verify passes. Before: every such cell was copied (the new checker counts 5
    per column)."""
    src, tgt = make(), make()
    _source(src)
    _copy(src, tgt)
    notes, orders = _notes(tgt, "customers", "notes"), _notes(tgt, "orders", "note")
    for k, (_, _, note, order) in enumerate(SHORT, N + 1):
        assert notes[k] != note and orders[k] != order


def test_verify_finds_a_kept_two_letter_name(make: Callable[[], str]) -> None:
    """A clean copy whose notes are then given back their source text (as a copy that
    kept them would hold): verify fails with each column counted as the checker
    counts it, as a name, never showing it. Before: verify passed."""
    src, tgt = make(), make()
    _source(src)
    plan = _copy(src, tgt)
    _execute(
        tgt,
        [
            ("UPDATE customers SET notes = ? WHERE id = ?", [(r[2], k) for k, r in enumerate(ROWS, N + 1)]),
            ("UPDATE orders SET note = ? WHERE id = ?", [(r[3], k) for k, r in enumerate(ROWS, N + 1)]),
        ],
    )  # fmt: skip
    found = _checker(src, tgt, plan)
    # (the clause note names Wei too: a name of three letters, found before as well)
    assert found == {"customers.notes": NAMED + 1, "orders.note": NAMED}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    got = {f"{h.table.rsplit('.', 1)[-1]}.{h.column}": h.cells for h in report.row_hits}
    assert got == found, report.to_json()
    assert {h.kind for h in report.row_hits} == {"name"}
    shown = json.dumps(report.to_json())
    assert not any(n in shown for _, _, note, order in ROWS for n in (note, order))


def test_common_two_letter_words_stay(make: Callable[[], str]) -> None:
    """A customer named An Do, or Jo, whose notes hold common two-letter words only
    (``Do it in an hour``, ``Go on, it is ok``): copied unchanged, verify passes."""
    src, tgt = make(), make()
    _source(src)
    _copy(src, tgt)
    notes, orders = _notes(tgt, "customers", "notes"), _notes(tgt, "orders", "note")
    for k, (_, _, note, order) in enumerate(QUIET, N + 1 + len(SHORT)):
        assert (notes[k], orders[k]) == (note, order)
    assert {notes[k] for k in range(1, N + 1)} == {PLAIN}


def test_a_full_name_across_a_clause_break_keeps_it(make: Callable[[], str]) -> None:
    """``Talked to Wei; Ng agreed.``: both names replaced, the ``; `` kept. Before:
    the full name's match ate it (``Talked to Katelyn Hensley agreed.``)."""
    src, tgt = make(), make()
    _source(src)
    _copy(src, tgt)
    got = _notes(tgt, "customers", "notes")[N + len(ROWS)]
    assert got.startswith("Talked to ") and got.endswith(" agreed.")
    middle = got[len("Talked to ") : -len(" agreed.")]
    assert "; " in middle and "Wei" not in middle and "Ng" not in middle, got


def test_which_two_letter_parts_are_searched() -> None:
    """The shared rule (text_scrub and verify): a two-letter part alone unless a
    common word; a particle, a digit pair, a one-letter initial never."""
    from stagewall.masking.transformers._known import name_parts, patterns

    assert name_parts(["wei", "ng"]) == ["wei", "ng"]
    assert name_parts(["an", "do", "le", "ha", "de", "j", "12"]) == []
    assert name_parts(["li", "xu", "vu", "ho", "wu", "jo"]) == ["li", "xu", "vu", "ho", "wu", "jo"]
    assert (" ng ", False) in patterns("last_name", "Ng")
    assert (" vu ", False) in patterns("last_name", "Vũ")
    assert (" le ", False) not in patterns("full_name", "Anh Le")
    assert (" anh le ", False) in patterns("full_name", "Anh Le")
