"""Another customer's identifier written without the shape the detector knows, in an
unrelated row's note or JSON document. 30 of 31 failed on main: the end-to-end test
on SQLite, PostgreSQL and MariaDB (the copy kept 6 of the 8 notes' ids, in the notes
and each JSON column, and verify passed), and the 27 tests of the new rule's
functions (no such module); the checker's test passes on main with survivors.py's
new needle (an identifier without its separators, the SSN's ``123456789``).

Customer B's masked values are a phone ``+34 612 34 56 78``, the IBAN ``ES91 2100
0418 4502 0005 1332``, the DNI ``48213957T``, the NIE ``X5829173F``, the SSN
``123-45-6789`` and the customer number ``00471138`` (masked ``fpe_alnum``). Other
customers' notes write them as bare runs of digits: the DNI without its letter, the
SSN without its dashes, the IBAN's account part alone, the phone without its country
code, the NIE without its last letter, the customer number. To the detector these
are order numbers: the copy kept them and verify passed, while the independent
checker (``survivors_anywhere`` on B's row) found them. Now the source values of
the plan's identifier columns give their compact forms (the row's own rule,
:func:`stagewall.masking.transformers._known._patterns_of`), which the copy's
text_scrub stars out of any row's text and verify's whole-target scan looks for in
every text cell (:mod:`stagewall.masking._otherids`).

Quiet: a number that is no one's identifier stays, and so do numbers shorter than
eight digits. Noise accepted: a number equal to a form of someone's identifier (an
order number that is customer 1's DNI without its letter) is starred out too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking._units import unique_sorted
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.transformers._batch import keyed_hash
from stagewall.masking.transformers._known import _patterns_of, pattern_kind, words
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import holds, needles, survivors_anywhere
from tests.masking.test_redteam_numforms import COLUMNS, OWN, SENSITIVE, N, _kept, _plan
from tests.masking.test_redteam_otherids import with_notes


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


B = N + 1  # customer B: OWN's values, its customer number of eight digits
B_OWN = {**OWN, "customer_no": "00471138"}
IDS = ("phone", "iban", "national_id", "tax_id", "ssn", "customer_no")
# other customers' notes holding B's ids, the text of B's id each holds, its column
NOTES = [
    ("DNI 48213957 checked", "48213957", "national_id"),
    ("ssn 123456789 on file", "123456789", "ssn"),
    ("pays from 2100 0418 4502 0005 1332 monthly", "2100 0418 4502 0005 1332", "iban"),
    ("pays from 21000418450200051332 monthly", "21000418450200051332", "iban"),
    ("call 612 345 678 after six", "612 345 678", "phone"),
    ("call 612345678 after six", "612345678", "phone"),
    ("NIE X5829173 checked", "x5829173", "tax_id"),
    ("customer ref 00471138 ok", "00471138", "customer_no"),
]
# numbers that are no one's identifier, and short ones
QUIET = "order 48213958 shipped, invoice INV-2024-0017, ref 4821395, box 123 45 67"
# customer 1's DNI is 87000001Q: an order number equal to its number is starred (noise)
NOISE = "order 87000001 shipped"


def _source(url: str) -> list[str]:
    """``N`` ordinary customers (ids 1..N: the first ``len(NOTES)`` with a note of
    ``NOTES`` and ``{"note": …}`` in every JSON column, the next one ``NOISE``, the
    others ``QUIET``), then B. JSON column names."""
    notes = [n for n, _, _ in NOTES] + [NOISE]
    b = [B, *(B_OWN[c] for c in COLUMNS[:-1]), "Deliver before noon"]
    return with_notes(url, notes, QUIET, [b])


def _found(src: str, tgt: str, cols: list[str]) -> dict[str, int]:
    ids = {c: SENSITIVE[c] for c in IDS}
    texts = {"customers": ["notes", *cols]}
    return survivors_anywhere(src, tgt, "customers", ids, texts, where=f"id > {N}")


def _copied(make: Callable[[], str], src: str, plan: Any) -> tuple[str, Any]:
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    return tgt, verify(plan, src, tgt, KEY)


def _identifier_cells(report: Any) -> dict[str, int]:
    return {h.column: h.cells for h in report.word_hits if h.kind == "identifier"}


def test_another_customers_bare_ids_are_scrubbed_and_seen(make: Callable[[], str]) -> None:
    """The plan's copy holds none of B's ids in other rows' notes and documents,
    verify passes and the checker finds nothing; the quiet notes are copied as they
    were. With the notes and documents kept, verify fails with each such cell and the
    checker counts as many. Before: the copy kept all eight, verify passed."""
    src = make()
    cols = _source(src)
    plan = _plan(src)
    tgt, report = _copied(make, src, plan)
    assert report.passed, report.to_json()
    got = rows_of(
        tgt, f"SELECT notes, {', '.join(cols)} FROM customers WHERE id <= {N} ORDER BY id"
    )
    for (note, text, _), cells in zip(NOTES, got, strict=False):
        for cell in cells:
            assert text.casefold() not in str(cell).casefold(), (note, cell)
    noise = got[len(NOTES)]
    assert noise[0] == "order ******** shipped", noise
    quiet = got[len(NOTES) + 1 :]
    assert {c[0] for c in quiet} == {QUIET}
    assert all(QUIET in str(cell) for c in quiet for cell in c[1:])
    assert _found(src, tgt, cols) == {}
    kept = _kept(plan, ["notes", *cols])
    again, report = _copied(make, src, kept)
    assert not report.passed
    cells = _identifier_cells(report)
    # (the noise note is one more: customer 1's DNI without its letter)
    assert cells == {c: len(NOTES) + 1 for c in ["notes", *cols]}, report.to_json()
    assert _found(src, again, cols) == {f"customers.{c}": len(NOTES) for c in ["notes", *cols]}


def test_the_checker_finds_another_customers_bare_ids_on_its_own() -> None:
    """survivors.py's own needles of the column's value hold each note, none holds
    the quiet note."""
    assert all(holds(n, needles(SENSITIVE[c], B_OWN[c])) for n, _, c in NOTES)
    assert not any(holds(QUIET, needles(SENSITIVE[c], B_OWN[c])) for c in IDS)


SUBKEY = MaskingKey("otherids2", b"i" * 32).derive("masking/otherids")


def _ids(values: dict[str, list[str]]) -> Any:
    from stagewall.masking._otherids import OtherIds, forms

    found = [f for tr, vs in values.items() for f in forms(tr, vs)]
    return OtherIds(SUBKEY, unique_sorted(keyed_hash(SUBKEY, "otherids", found)))


@pytest.mark.parametrize(
    ("transformer", "value"),
    [
        ("phone", "+34 612 34 56 78"),
        ("phone", "0044 20 7946 0958"),
        ("iban", "ES91 2100 0418 4502 0005 1332"),
        ("iban", "GB29 NWBK 6016 1331 9268 19"),
        ("fpe_alnum", "48213957T"),
        ("fpe_alnum", "X5829173F"),
        ("fpe_digits", "123-45-6789"),
        ("fpe_alnum", "C4100000X"),
        ("fpe_alnum", "0047113"),
        ("card_number", "4111 1111 1111 1111"),
        ("hash", "ACC-2024-000187"),
    ],
)
def test_the_forms_are_the_rows_own_compact_patterns(transformer: str, value: str) -> None:
    """One rule: another row's forms of a value are the compact patterns the row's
    own value is searched for (those holding a digit)."""
    from stagewall.masking._otherids import forms

    own = {p for p, c in _patterns_of(pattern_kind(transformer), words(value)) if c}
    assert set(forms(transformer, [value])) == {p for p in own if any(map(str.isdigit, p))}


def test_names_emails_and_short_values_give_no_form() -> None:
    from stagewall.masking._otherids import forms

    assert forms("email", ["jane.doe12345678@corp.example"]) == []
    assert forms("last_name", ["Horvat12345678"]) == []
    assert forms("fpe_alnum", ["0047113", "ABCDEFGHIJ"]) == []


@pytest.mark.parametrize(
    "text",
    [
        "order 48213958 shipped",  # no one's
        "ref 4821395 and 1234567",  # seven digits
        "box 123 45 67 and 12-34",  # groups of fewer than eight digits
        "part 148213957 in stock",  # nine digits: no DNI's number
        "call 0612 345 679",  # another phone
        "sku x482139570",  # glued to a letter and a digit
    ],
)
def test_quiet_numbers_stay(text: str) -> None:
    ids = _ids({"fpe_alnum": ["48213957T"], "phone": ["+34 612 34 56 78"]})
    assert ids.starred([text]) == [text]
    assert ids.cells_holding([text]) == 0


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("DNI 48213957", "DNI ********"),
        ("dni:48213957-x ok", "dni:********-x ok"),
        ("call 612 345 678 now", "call *********** now"),
        ("tel 34 612 345 678", "tel " + "*" * 14),
        ("tel 612.345.678/612345678", "tel ***********/*********"),
        ("ssn 123 45 6789 and 123456789", "ssn *********** and *********"),
        ('{"n": "ref48213957"}', '{"n": "ref********"}'),
        ("card 4111111111111111", "card ****************"),
    ],
)
def test_the_forms_are_starred_wherever_they_are(text: str, out: str) -> None:
    ids = _ids(
        {
            "fpe_alnum": ["48213957T"],
            "phone": ["+34 612 34 56 78"],
            "fpe_digits": ["123-45-6789"],
            "card_number": ["4111 1111 1111 1111"],
        }
    )
    assert ids.starred([text]) == [out]
    assert ids.cells_holding([text, "nothing", None, 5]) == 1
    assert ids.starred(ids.starred([text])) == [out]


def test_candidates_of_digit_groups() -> None:
    from stagewall.masking._otherids import _candidates

    got = {f for _, _, f in _candidates("call +34 612 345 678, ref AB12345678C")}
    assert {"34612345678", "612345678", "ab12345678c", "12345678"} <= got
    assert "34612345" in got  # (any groups in a row: a little noise, searched once)
