"""A customer's identifier held as a JSON *number* leaf (``{"ssn": 123456789}``,
``{"phone": 34612345678}``, an array of them), another customer's or the row's own.
17 of 22 failed on main (the end-to-end test on SQLite, PostgreSQL and MariaDB, the
replacements, the planner's and the number search's tests; the quiet ones pass).

Verify's whole-target scan found it (the document's text holds the digits) but
json_mask replaced only string leaves and keys, so the unedited plan's run failed
verify. Now json_mask replaces, under ``unknown_keys: scrub``, an integer leaf of 8
digits or more whose digits hold one of the row's known values or another
customer's identifier (:mod:`stagewall.masking._otherids`) by a keyed integer of as
many digits and the same sign: the document keeps its shape and types.

Quiet: an amount, a quantity, a timestamp, a number that is no one's identifier and
a short number stay. Noise accepted: a number equal to a form of someone's identifier
(an order number that is customer 1's DNI number) is replaced too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking._units import unique_sorted
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.transformers._base import build_transformer
from stagewall.masking.transformers._batch import keyed_hash
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.rarewords import customers
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import survivors_anywhere
from tests.masking.test_redteam_numforms import COLUMNS, OWN, SENSITIVE, N, _iban_es, _plan


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


B = N + 1  # customer B: OWN's values
IDS = ("phone", "iban", "national_id", "tax_id", "ssn")
# other customers' documents holding B's ids as numbers
DOCS: list[dict[str, Any]] = [
    {"theme": "dark", "ssn": 123456789},
    {"theme": "dark", "phone": 34612345678},
    {"theme": "dark", "phone": 612345678},
    {"theme": "dark", "dni": 48213957},
    {"theme": "dark", "ids": [48213957, 612345678, -123456789]},
    {"theme": "dark", "acct": {"no": 21000418450200051332}},
]
# the row's own SSN (row len(DOCS) + 1: 500+i, 10+i, 4000+i)
OWN_ROW = len(DOCS) + 1
OWN_DOC = {
    "theme": "dark",
    "ssn": int(f"{500 + OWN_ROW:03d}{10 + OWN_ROW:02d}{4000 + OWN_ROW:04d}"),
}
# customer 1's DNI is 87000001Q: an order number equal to its number (noise)
NOISE_DOC = {"theme": "dark", "order": 87000001}
QUIET_DOC = {
    "theme": "dark",
    "amount": 1234.5,
    "qty": 3,
    "order": 48213958,
    "ts": 1700000000,
    "ref": 4821395,
    "ok": True,
    "big": 99999999999,
}


def _source(url: str) -> list[str]:
    docs = {i: d for i, d in enumerate([*DOCS, OWN_DOC, NOISE_DOC], start=1)}
    rows = []
    for i in range(1, N + 1):
        rows.append([i, "Peter", "Horvat", f"+34 699 {100 + i:03d} {300 + i:03d}",
                     _iban_es(f"20770024003102{575700 + i:06d}"), f"{87000000 + i:08d}Q",
                     f"Y{7000000 + i:07d}B", f"{500 + i:03d}-{10 + i:02d}-{4000 + i:04d}",
                     f"{46000 + i:05d}", "Valencia", f"{9000000 + i:07d}", "Deliver before noon"])  # fmt: skip
        docs.setdefault(i, QUIET_DOC)
    rows.append([B, *(OWN[c] for c in COLUMNS[:-1]), "Deliver before noon"])
    decl = ", ".join(f"{c} {'TEXT' if c == 'notes' else 'VARCHAR(60)'}" for c in COLUMNS)
    return customers(url, decl, rows, docs)


def _doc(cell: Any) -> Any:
    return json.loads(cell) if isinstance(cell, str | bytes) else cell


def _same_shape(a: Any, b: Any) -> bool:
    """Same containers, keys and leaf types; integers of as many digits."""
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(_same_shape(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same_shape, a, b))
    if type(a) is int:
        return type(b) is int and len(str(a)) == len(str(b)) and (a < 0) == (b < 0)
    return type(a) is type(b)


def _ints(doc: Any) -> list[int]:
    if isinstance(doc, dict):
        return [n for v in doc.values() for n in _ints(v)]
    if isinstance(doc, list):
        return [n for v in doc for n in _ints(v)]
    return [doc] if type(doc) is int else []


def test_ids_held_as_json_numbers_are_replaced_and_verify_passes(make: Callable[[], str]) -> None:
    """The unedited plan's run verifies; each document keeps its shape and number
    types, with no id's number left; the checker finds none of B's ids; the quiet
    documents are copied as they were. Before: the copy kept the numbers and verify
    failed."""
    src = make()
    cols = _source(src)
    plan = _plan(src)
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    got = rows_of(tgt, f"SELECT id, {', '.join(cols)} FROM customers WHERE id <= {N} ORDER BY id")
    cases = [*DOCS, OWN_DOC, NOISE_DOC]
    for row in got:
        i = int(row[0])
        for cell in row[1:]:
            doc = _doc(cell)
            if i > len(cases):
                assert doc == QUIET_DOC, (i, cell)
                continue
            src_doc = cases[i - 1]
            assert _same_shape(src_doc, doc), (i, cell)
            for old, new in zip(_ints(src_doc), _ints(doc), strict=True):
                assert old != new, (i, cell)
    texts = {"customers": [*cols]}
    ids = {c: SENSITIVE[c] for c in IDS}
    assert survivors_anywhere(src, tgt, "customers", ids, texts, where=f"id > {N}") == {}
    assert survivors_anywhere(src, tgt, "customers", {"ssn": "id"}, texts, f"id = {OWN_ROW}") == {}


# ---- json_mask alone -----------------------------------------------------------------

MKEY = MaskingKey("jsonnum", b"j" * 32)


def _json_mask(values: dict[str, list[str]]) -> Any:
    from stagewall.masking._otherids import OtherIds, forms

    jm = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=MKEY, salt="t")
    sub = MKEY.derive("masking/otherids")
    found = [f for tr, vs in values.items() for f in forms(tr, vs)]

    class Words(dict[str, str]):
        ids = OtherIds(sub, unique_sorted(keyed_hash(sub, "otherids", found)))

    jm.learn(Words())
    return jm


IDS_OF = {"fpe_digits": ["123-45-6789"], "phone": ["+49 151 12345678"], "fpe_alnum": ["48213957T"]}


@pytest.mark.parametrize(
    "doc",
    [
        123456789,
        {"ssn": 123456789},
        {"phone": 4915112345678},
        {"phone": 15112345678},
        {"a": [48213957, {"b": [-123456789]}]},
    ],
)
def test_another_customers_id_as_a_number_is_replaced(doc: Any) -> None:
    jm = _json_mask(IDS_OF)
    text = json.dumps(doc)
    out = jm.transform([text, text])
    assert out[0] == out[1]  # the same value, the same number
    new = json.loads(out[0])
    assert _same_shape(doc, new)
    assert all(a != b for a, b in zip(_ints(doc), _ints(new), strict=True))
    drawn = [str(abs(n)) for n in _ints(new)]
    assert not any(jm._keys.holds_ids(drawn, [()] * len(drawn)))  # no one's id


@pytest.mark.parametrize(
    "doc",
    [
        QUIET_DOC,
        {"n": 48213958, "m": 1234567, "p": 148213957},  # no one's, short, longer
        {"price": 123456789.0},  # (a float: not an identifier's number)
        [True, False, None, 0, -7],
    ],
)
def test_quiet_numbers_stay(doc: Any) -> None:
    jm = _json_mask(IDS_OF)
    assert json.loads(str(jm.transform([json.dumps(doc)])[0])) == doc


def test_the_rows_own_id_as_a_number_is_replaced() -> None:
    jm = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=MKEY, salt="t")
    doc = json.dumps({"ssn": 502124002, "order": 48213958})
    known = (("fpe_digits", "502-12-4002"),)
    (got,) = jm.transform_known([doc], [known])
    new = json.loads(str(got))
    assert new["order"] == 48213958
    assert new["ssn"] != 502124002 and len(str(new["ssn"])) == 9
    assert jm.transform_known([doc], [()]) == [doc]  # another row's: no one's here


def test_a_listed_path_or_kept_keys_decide_for_their_numbers() -> None:
    for params in ({"keep": ["$.ssn"], "unknown_keys": "scrub"}, {"unknown_keys": "keep"}):
        jm = build_transformer("json_mask", params, key=MKEY, salt="t")
        doc = json.dumps({"ssn": 502124002})
        assert jm.transform_known([doc], [(("fpe_digits", "502-12-4002"),)]) == [doc]


def test_the_planner_keeps_no_path_of_long_integers() -> None:
    """A sampled path of integers of 8 digits or more is not kept (json_mask judges
    its numbers under scrub); one of amounts, quantities and short numbers is."""
    from stagewall.masking.classify._columns import classify_column
    from stagewall.masking.types import ColumnKind

    docs = [json.dumps({"ssn": 500000001 + i, "qty": i, "amount": 1.5}) for i in range(5)]
    found = classify_column("customers", "prefs", ColumnKind.JSON, docs)
    assert found.transformer == "json_mask", found
    assert found.params["unknown_keys"] == "scrub"
    assert "$.ssn" not in found.params["keep"]
    assert {"$.qty", "$.amount"} <= set(found.params["keep"])
    quiet = [json.dumps({"qty": i, "ref": 1234567, "amount": 1.5}) for i in range(5)]
    assert classify_column("customers", "prefs", ColumnKind.JSON, quiet).transformer == "keep"


@pytest.mark.parametrize(
    "digits",
    [
        "123456789",
        "4915112345678",
        "15112345678",
        "48213957",
        "48213958",
        "148213957",
        "12345678901234567890123456789012345678",
    ],
)
def test_a_numbers_digits_are_searched_as_a_notes(digits: str) -> None:
    """The number rule (its digits hashed whole) says what the notes' search says."""
    ids = _json_mask(IDS_OF)._keys._ids
    assert ids.numbers([digits]) == [bool(ids.spans([digits])[0])]
