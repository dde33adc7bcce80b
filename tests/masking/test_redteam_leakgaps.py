"""Red-team round on the leak gaps issue 11's last closing note left open, and on
shapes tried after them (each test failed before its fix).

- json_mask's repeated-document path (a batch of 64 documents or more) tested a
  row's document only against the probes of its values: a prefix of the row's
  surname glued to digits (``{"login": "ganthr7"}`` for Ganthriv), which
  text_scrub finds in a note, was copied, and verify failed the unedited plan.
- The independent checker took a surname from a column whose name says ``last``
  or ``sur``: a surname column called ``family_name``, ``apellido``, ``nachname``
  or ``lname2`` was not searched shortened (``ganthr7``). It now reads the plan.
- A table whose surname column comes before its given-name column (``apellidos,
  nombre``; ``last_name, first_name``) made the full name of a person of two given
  names surname first, so the login of their initials and the surname
  (``jmganthriv``, ``GanthrivJM``) was neither scrubbed nor seen by verify or by
  the checker; nor was the login of the initial and the first of two family names
  (``ycarrasco`` for Yésica Carrasco-Ruiz).
- A value's words apart by HTML tags (``Calle Mayor <b>7</b>``,
  ``<td>Hauptstraße</td><td>5</td>``): the tags' names were words between them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import verify
from tests.masking import trapdb
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import survivors
from tests.masking.test_leak_traps import _execute, _plan_table, _with, scrubbed_and_seen


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# ---- json_mask: a surname's prefix glued to digits in a batch of documents -----------

# (the trap customer's surname, its prefs document, the text that must go)
JSON_STEMS: list[tuple[str, dict[str, Any], str]] = [
    ("Ganthriv", {"channel": "web", "card_text": "login ganthr7 reset"}, "ganthr7"),
    ("Carrasco", {"channel": "app", "card_text": "user carras12 locked out"}, "carras12"),
    ("Carrasco", {"channel": "web", "card_text": "signed: Carra2019, admin"}, "carra2019"),
]
# more customers than the repeated-document path's floor (_REPEATS_MIN, 64)
JSON_ROWS = 120


def _json_source(url: str) -> str:
    customers: list[tuple[Any, ...]] = []
    for i in range(JSON_ROWS + len(JSON_STEMS)):
        c = trapdb.customer(i)
        doc: dict[str, Any] = {"channel": "web", "card_text": trapdb._fill(trapdb.GIFTS[i % 3], c)}
        if i >= JSON_ROWS:
            c["last_name"], doc, _ = JSON_STEMS[i - JSON_ROWS]
        customers.append((*c.values(), None, None, json.dumps(doc, ensure_ascii=False)))
    trapdb.build(url, (customers, []))
    return url


def _prefs(url: str) -> list[str]:
    got = rows_of(url, f"SELECT prefs FROM customers WHERE id > {JSON_ROWS} ORDER BY id")
    return [g if isinstance(g, str) else json.dumps(g) for (g,) in got]


def test_a_shortened_surname_in_a_batch_of_documents_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    src, tgt = _json_source(make()), make()
    plan = build_plan(src).plan
    assert _plan_table(plan, "customers").columns["prefs"].transformer == "json_mask"
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    texts = {"customers": ["prefs"]}
    refs = {"customers": "id"}
    found = survivors(src, tgt, "customers", trapdb.SENSITIVE, texts, refs, plan=plan)
    got = _prefs(tgt)
    assert (report.passed, found) == (True, {}), (report.to_json(), got)
    for (_, _, text), doc in zip(JSON_STEMS, got, strict=True):
        assert text not in doc.casefold(), doc
        json.loads(doc)

    kept = _with(plan, "customers", "prefs", ColumnPlan(transformer="keep", reason="test: kept"))
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    hits = {(h.column, h.kind): h.cells for h in report.row_hits}
    found = survivors(src, tgt2, "customers", trapdb.SENSITIVE, texts, refs, plan=kept)
    # (every ordinary row's card names its customer; a trap's only by the shortened surname)
    every = JSON_ROWS + len(JSON_STEMS)
    assert (hits, found) == ({("prefs", "name"): every}, {"customers.prefs": every})


def test_json_mask_batches_mask_a_shortened_surname_as_row_by_row() -> None:
    """The repeated-document path against the row-by-row one, on the shapes a
    shortened surname takes in a document (a string, a key's value, an array)."""
    key = MaskingKey("leakgaps", b"l" * 32)
    docs = [
        '{"login": "ganthr7"}',
        '{"login": "GANTHR7", "n": 1}',
        '["ganth2019", "web"]',
        '{"a": {"b": "x carras12 y"}}',
        '{"login": "ganth7"}',  # (a prefix of five: still the surname's)
        '{"login": "gant7"}',  # (four letters: a word, kept)
        '{"channel": "web"}',
    ]
    known = [
        (("last_name", "Ganthriv"),),
        (("full_name", "Jorge Ganthriv"),),
        (("first_name", "Jorge"), ("last_name", "Ganthriv")),
        (("last_name", "Carrasco"),),
        (("last_name", "Ganthriv"),),
        (("last_name", "Ganthriv"),),
        (("last_name", "Ganthriv"),),
    ]
    n = 100
    values = [docs[i % len(docs)] for i in range(n)]
    rows = [known[i % len(known)] for i in range(n)]
    fast = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=key, salt="s")
    ref = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=key, salt="s")
    expected = ref._mask(list(values), list(rows))  # type: ignore[attr-defined]
    got = fast.transform_known(values, rows)  # type: ignore[attr-defined]
    assert got == expected
    for i, doc in enumerate(got[: len(docs)]):
        gone = i < 5
        assert all(w not in doc.casefold() for w in ["ganthr7", "ganth2019", "carras12", "ganth7"])
        assert ("gant7" in doc) is (i == 5), doc
        assert (doc != docs[i]) is gone, (docs[i], doc)


# ---- a surname column the checker must know by the plan, not by its name -------------


def _people_source(url: str, columns: list[str], traps: list[dict[str, str]]) -> str:
    """``customers(id, <columns>, email, notes)``: forty ordinary people, then the
    traps (their values by column; "notes" is their note)."""
    given = ["Anna", "Peter", "Maria", "Lukas", "Elena", "Tomasz", "Ines", "Oskar"]
    family = ["Kowalska", "Novak", "Rossi", "Dubois", "Jensen", "Horvat", "Schmidt"]
    rows: list[list[Any]] = []
    for i in range(1, 41):
        person = {"given": given[i % len(given)], "family": family[(i * 3) % len(family)]}
        vals = [person[_role(c)] for c in columns]
        rows.append([i, *vals, f"p{i}@mail.example.org", "Called back, no answer."])
    for k, trap in enumerate(traps):
        i = 41 + k
        rows.append([i, *(trap[c] for c in columns), f"p{i}@mail.example.org", trap["notes"]])
    cols = ", ".join(f"{c} VARCHAR(60)" for c in columns)
    _execute(
        url,
        [
            (
                f"CREATE TABLE customers (id INTEGER PRIMARY KEY, {cols}, "
                "email VARCHAR(120), notes TEXT)",
                [],
            ),
            (f"INSERT INTO customers VALUES ({', '.join('?' * (len(columns) + 3))})", rows),
        ],
    )
    return url


def _role(column: str) -> str:
    return "given" if column in GIVEN_COLUMNS else "family"


GIVEN_COLUMNS = {"first_name", "nombre", "vorname", "fname"}
NOTES = {"customers": ["notes"]}
IDS = {"customers": "id"}


def _seen(
    make: Callable[[], str], columns: list[str], cases: list[tuple[dict[str, str], str, str]]
) -> None:
    """Traps of ``(the person's names by role, note, repeated text)``: the auto plan
    scrubs each trap's note (verify passes, the checker finds nothing, the repeated
    texts are gone); with the notes kept, verify and the checker see every trap."""
    traps = [{**{c: who[_role(c)] for c in columns}, "notes": note} for who, note, _ in cases]
    texts = [text for _, _, text in cases]
    src, tgt = _people_source(make(), columns, traps), make()
    plan = build_plan(src).plan
    planned = {c: _plan_table(plan, "customers").columns[c].transformer for c in columns}
    assert planned == {c: f"{'first' if _role(c) == 'given' else 'last'}_name" for c in columns}
    kinds = {c: "name" for c in columns}
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    notes = [n for (n,) in rows_of(tgt, "SELECT notes FROM customers WHERE id > 40 ORDER BY id")]
    found = survivors(src, tgt, "customers", kinds, NOTES, IDS, plan=plan)
    assert (report.passed, found) == (True, {}), (report.to_json(), notes)
    for text, note in zip(texts, notes, strict=True):
        assert text.casefold() not in note.casefold(), note

    kept = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason="test: kept"))
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    hits = {(h.column, h.kind): h.cells for h in report.row_hits}
    found = survivors(src, tgt2, "customers", kinds, NOTES, IDS, plan=kept)
    assert (hits, found) == ({("notes", "name"): len(traps)}, {"customers.notes": len(traps)})


STEM_NOTES = [
    ({"given": "Jorge", "family": "Ganthriv"}, "login ganthr7 reset", "ganthr7"),
    ({"given": "Yésica", "family": "Carrasco"}, "user carras12 locked out", "carras12"),
]


@pytest.mark.parametrize("surname", ["family_name", "apellido", "nachname", "lname2"])
def test_the_checker_knows_a_surname_column_by_its_plan(
    surname: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _seen(url_maker(request, tmp_path, "sqlite"), ["first_name", surname], STEM_NOTES)


def test_the_checker_knows_a_surname_column_by_its_plan_on_each_backend(
    make: Callable[[], str],
) -> None:
    _seen(make, ["vorname", "nachname"], STEM_NOTES)


# ---- a surname column before the given-name column ------------------------------------

INITIAL_NOTES = [
    ({"given": "Jorge Manuel", "family": "Ganthriv"}, "login jmganthriv reset", "jmganthriv"),
    ({"given": "Jorge Manuel", "family": "Ganthriv"}, "acct GanthrivJM (old)", "ganthrivjm"),
    ({"given": "Ana María", "family": "Carrasco"}, "user amcarrasco42 again", "amcarrasco"),
]


@pytest.mark.parametrize("columns", [["last_name", "first_name"], ["apellido", "nombre"]])
def test_initials_are_found_when_the_surname_column_comes_first(
    columns: list[str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _seen(url_maker(request, tmp_path, "sqlite"), columns, INITIAL_NOTES)


def test_initials_are_found_when_the_surname_column_comes_first_on_each_backend(
    make: Callable[[], str],
) -> None:
    _seen(make, ["apellido", "nombre"], INITIAL_NOTES)


# ---- two family names; a value's words apart by HTML tags -----------------------------

# (the trap customer's own values, the note that repeats one, the repeated text)
MORE_SHAPES: list[tuple[dict[str, str], str, str]] = [
    # the initial and the first of two family names, a login (a Spanish double surname)
    ({"first_name": "Yésica", "last_name": "Carrasco-Ruiz"}, "login ycarrasco reset", "ycarrasco"),
    (
        {"first_name": "Jorge Manuel", "last_name": "Carrasco Ruiz"},
        "user jmcarrasco42 locked out",
        "jmcarrasco",
    ),
    # a note written as HTML: a tag between a value's words
    ({"street": "Calle Mayor 7"}, "envío a Calle Mayor <b>7</b>, urgente", "mayor <b>7"),
    ({"street": "Hauptstraße 5"}, "<td>Hauptstraße</td><td>5</td>", "hauptstraße</td><td>5"),
    ({"phone": "+34 612 345 678"}, "Tel. <b>612</b> 345 678", "<b>612</b> 345 678"),
]


def test_two_family_names_and_html_tags_are_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, MORE_SHAPES)
