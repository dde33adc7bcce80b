"""A JSON *key* holding another person's value, in a row that is not that person's
(each test failed before its fix).

``{"friends": {"Ganthriv": "neighbour"}}`` in customer A's ``prefs``, Ganthriv
being customer B's surname (a word no name list holds): ``json_mask`` renames
only keys holding the row's own values or what the detector finds, and verify
read keys row by row only; the whole-target scan's units were a document's
leaves, not its keys. So verify passed while the independent checker (which reads
the JSON text, keys and all) found B's surname, e-mail, phone and passport number
as keys of other rows' documents, nested, in arrays of objects, in json and jsonb.
Now a key is a unit of the whole-target scan as a leaf is (same normalisation);
keys that are field names stay clean (the sample databases' tests, and the
ordinary keys of these documents).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking._units import Hasher
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import survivors_anywhere
from tests.masking.test_leak_traps import _customer as _leak_trap_customer
from tests.masking.test_leak_traps import _execute

N = 30
# customer B, whose values other rows' documents hold as keys (id N + 1)
B = {
    "first_name": "Ana",
    "last_name": "Ganthriv",
    "full_name": "Ana Ganthriv",
    "email": "ana.ganthriv41@mail.example.org",
    "phone": "+34 612 987 654",
    "national_id": "C4424242X",  # a passport number: no validator knows it
}
COLUMNS = ["id", "first_name", "last_name", "full_name", "email", "phone", "national_id"]
SENSITIVE = {
    "first_name": "name",
    "last_name": "name",
    "full_name": "name",
    "email": "email",
    "phone": "phone",
    "national_id": "id",
}
ORDINARY: dict[str, Any] = {"theme": "dark", "friends": {}, "contacts": [{"kind": "mail"}]}
# documents of rows 1.. that hold one of B's values as a key (never B's own row)
PLANTED: list[dict[str, Any]] = [
    {"theme": "dark", "friends": {"Ganthriv": "neighbour"}},
    {"theme": "dark", "friends": {"Novak": "self", "circle": [{"GANTHRIV": "cousin"}]}},
    {"contacts": [{"kind": "mail", "ana.ganthriv41@mail.example.org": "work"}]},
    {"contacts": [{"kind": "phone"}, {"+34 612 987 654": "mobile"}]},
    {"refs": {"referred_by": {"C4424242X": "2023"}}},
    {"theme": "dark", "friends": {"Ana Ganthriv": "neighbour"}},
    [{"Ganthriv": 1}, {"kind": "list"}],
]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _json_columns(url: str) -> list[tuple[str, str]]:
    if url.startswith("postgresql"):
        return [("prefs_json", "json"), ("prefs_jsonb", "jsonb")]
    return [("prefs", "JSON")]


def _customer(i: int) -> dict[str, Any]:
    person = _leak_trap_customer(i)
    return {**person, "full_name": f"{person['first_name']} {person['last_name']}"}


def _source(url: str, docs: dict[int, Any]) -> list[str]:
    """``N`` customers and B (id ``N + 1``); row ``i``'s JSON is ``docs[i]`` or an
    ordinary document. The JSON column names."""
    cols = _json_columns(url)
    decl = ", ".join(f"{c} {t}" for c, t in cols)
    people = [_customer(i) for i in range(1, N + 1)] + [{**B, "id": N + 1}]
    rows = [
        [p[c] for c in COLUMNS] + [json.dumps(docs.get(p["id"], ORDINARY))] * len(cols)
        for p in people
    ]
    _execute(
        url,
        [
            (
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
                "last_name VARCHAR(40), full_name VARCHAR(80), email VARCHAR(100), "
                f"phone VARCHAR(40), national_id VARCHAR(20), {decl})",
                [],
            ),
            (f"INSERT INTO customers VALUES ({', '.join('?' * (len(COLUMNS) + len(cols)))})", rows),
        ],
    )
    return [c for c, _ in cols]


def _hits(report: Any, column: str) -> int:
    return sum(h.hits for h in report.hits if h.column == column)


def test_another_persons_values_as_keys_are_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; B's surname, e-mail, phone, passport number and full
    name then written as keys into other rows' documents of the target (nested, in
    arrays of objects; json and jsonb) make verify fail with each cell counted, as
    the checker counts them. Before: verify passed (0 hits), the checker found 7
    cells per column."""
    src, tgt = make(), make()
    cols = _source(src, {})
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    texts = {"customers": cols}
    assert report.passed, report.to_json()
    assert survivors_anywhere(src, tgt, "customers", SENSITIVE, texts) == {}
    planted = {k + 1: doc for k, doc in enumerate(PLANTED)}
    _execute(
        tgt,
        [
            (f"UPDATE customers SET {c} = ? WHERE id = ?", [(json.dumps(d), i)])
            for c in cols
            for i, d in planted.items()
        ],
    )
    found = survivors_anywhere(src, tgt, "customers", SENSITIVE, texts)
    assert found == {f"customers.{c}": len(PLANTED) for c in cols}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    for c in cols:
        assert _hits(report, c) == len(PLANTED), report.to_json()
    text = json.dumps(report.to_json()).lower()
    assert "ganthriv" not in text and "4424242" not in text  # counts, never values


def test_the_auto_plan_never_passes_with_such_a_key(make: Callable[[], str]) -> None:
    """The same keys in the source, through the unedited auto plan: whatever the
    copy holds, verify never passes while the checker finds one of B's values in
    another row's document. Before: the surname and passport keys were copied as
    they were and verify passed."""
    src, tgt = make(), make()
    cols = _source(src, {k + 1: doc for k, doc in enumerate(PLANTED)})
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    found = survivors_anywhere(src, tgt, "customers", SENSITIVE, {"customers": cols})
    assert not (report.passed and found), (found, report.to_json())
    for c in cols:
        assert _hits(report, c) >= found.get(f"customers.{c}", 0), (found, report.to_json())


def test_keys_are_units_as_leaves_are() -> None:
    """A document's keys give the units its leaves would give (same normalisation,
    the short and common ones dropped alike), at any depth and inside arrays."""
    h = Hasher(b"k" * 16, None)

    def units(docs: list[Any]) -> list[set[int]]:
        got = h.flat(docs)
        out: list[set[int]] = [set() for _ in docs]
        for o, x in zip(got.owner.tolist(), got.hashes.tolist(), strict=True):
            out[o].add(x)
        return out

    as_keys = [
        {"a": {"  Ganthriv ": 1}},
        [{"x": [{"ANA.GANTHRIV41@mail.example.org": None}]}],
        {"ok": {"null": 1, "abc": 2}},
    ]
    as_leaves = [
        {"a": {"k": "  Ganthriv "}},
        [{"x": [{"k": "ANA.GANTHRIV41@mail.example.org"}]}],
        {"ok": {"k": "null", "j": "abc"}},
    ]
    wholes = units([json.dumps(d, sort_keys=True, ensure_ascii=False) for d in as_keys])
    leaves = units(as_leaves)
    keys = units(as_keys)
    for k, (got, leaf, whole) in enumerate(zip(keys, leaves, wholes, strict=True)):
        assert got - {h.h(_canon(as_keys[k]))} == leaf - {h.h(_canon(as_leaves[k]))}, k
        assert got == whole  # a document and its JSON text: the same units
    assert h.h("ganthriv") in keys[0]
    assert h.h("ana.ganthriv41@mail.example.org") in keys[1]
    assert keys[2] == {h.h(_canon(as_keys[2]))}  # "null", "abc", "ok": no unit


def _canon(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False).lower()


def test_a_key_scrubbed_in_part_is_renamed_whole() -> None:
    """A key text_scrub would rewrite only in part (the given name it knows replaced,
    the surname it does not know left: ``Ana Ganthriv`` → ``… Ganthriv``) is renamed
    to a pseudonym of the whole key, with or without the row's known values; a key
    replaced whole (an e-mail) keeps text_scrub's pseudonym, field names stay.
    Before: the surname stayed in the key."""
    mask = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY, salt="t")
    doc = json.dumps(
        {"friends": {"Ana Ganthriv": "n", "Ana's Ganthriv lane": 1}, B["email"]: 1, "name": 2}
    )
    known = [(("last_name", "Novak"), ("first_name", "Anna"))]
    for out in (mask.transform([doc]), mask.transform_known([doc], known)):  # type: ignore[attr-defined]
        got = json.loads(str(out[0]))
        keys = [*got, *got["friends"]]
        assert not [k for k in keys if "ganthriv" in k.casefold()], keys
        assert len(got) == 3 and len(got["friends"]) == 2 and "name" in got, keys
        assert [k for k in got if "@" in k] and B["email"] not in got, keys
