"""Residual gaps of the masking red team (each test failed before its fix).

- ip_address wrote every output digit in the script of the input's first
  non-ASCII digit and every separator as ASCII, so two spellings of one address
  (``١٩٢.١٦٨.1.1`` and ``١٩٢.١٦٨.١.١``, an Arabic decimal separator or a dot)
  got one output: the run stopped on the target's unique constraint.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _execute

ARABIC, PERSIAN = "\u0660", "\u06f0"


def _digits_in(text: str, zero: str) -> str:
    return text.translate({48 + d: ord(zero) + d for d in range(10)})


def _ascii(text: str) -> str:
    return "".join(str(int(c)) if c.isdecimal() else c for c in text).replace("\u066b", ".")


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# ---- ip_address: spellings of one address ---------------------------------------------


def _spellings(address: str) -> list[str]:
    octets = address.split(".")
    return [
        address,
        _digits_in(address, ARABIC),
        _digits_in(".".join(octets[:2]), ARABIC) + "." + ".".join(octets[2:]),  # two scripts
        _digits_in(octets[0][0], ARABIC) + address[1:],
        _digits_in(address, ARABIC).replace(".", "\u066b", 1),  # an Arabic decimal separator
        _digits_in(address, ARABIC).replace(".", "\u066b"),
        _digits_in(address, PERSIAN),
        _digits_in(octets[0], PERSIAN) + "." + _digits_in(".".join(octets[1:]), ARABIC),
    ]


def test_spellings_of_one_address_get_one_masked_address_and_own_outputs() -> None:
    ip = build_transformer("ip_address", {}, key=KEY, salt="s")
    values = [s for a in ("192.168.1.1", "10.20.30.40", "172.16.5.9") for s in _spellings(a)]
    out = [str(v) for v in ip.transform(values)]
    assert len(set(out)) == len(out), out  # unique: one output per spelling
    for k, (src, new) in enumerate(zip(values, out, strict=True)):
        first = values[k - k % 8]
        # consistent: the masked address is the ASCII spelling's, in every spelling
        assert _ascii(new) == out[k - k % 8], (src, new)
        assert ipaddress.ip_address(_ascii(new)) != ipaddress.ip_address(_ascii(src))
        assert _ascii(src) == first
        if len({ord(c) - int(c) for c in src if c.isdecimal()}) == 1:  # one script: kept
            assert {ord(c) - int(c) for c in new if c.isdecimal()} == {
                ord(c) - int(c) for c in src if c.isdecimal()
            }


def test_a_unique_column_of_spellings_of_one_address_runs_and_verifies(
    make: Callable[[], str],
) -> None:
    src = make()
    values = [s for a in ("192.168.1.1", "10.20.30.40") for s in _spellings(a)]
    _execute(
        src,
        [
            ("CREATE TABLE hits (id INTEGER PRIMARY KEY, ip VARCHAR(60) UNIQUE)", []),
            ("INSERT INTO hits VALUES (?, ?)", list(enumerate(values, 1))),
        ],
    )
    keep = ColumnPlan(transformer="keep", params={}, reason="test")
    col = ColumnPlan(transformer="ip_address", params={}, reason="test")
    plan = Plan(tables={"hits": TablePlan(columns={"id": keep, "ip": col})})
    if "postgresql" in src:
        plan = Plan(tables={"public.hits": plan.tables["hits"]}, schemas=["public"])
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())  # stopped on the unique constraint
    got = [r[0] for r in rows_of(tgt, "SELECT ip FROM hits ORDER BY id")]
    assert len(set(got)) == len(values)
    assert not set(got) & set(values)
    assert verify(plan, src, tgt, KEY).passed


# ---- look-alike letters: another row's name in a table with no link to it ----------------


def _people_and_notes(make: Callable[[], str]) -> tuple[str, Plan]:
    src = make()
    _execute(
        src,
        [
            ("CREATE TABLE people (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
             "last_name VARCHAR(40))", []),
            ("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, tag VARCHAR(40))", []),
            ("INSERT INTO people VALUES (?, ?, ?)",
             [(1, "Gwendolyn", "Ganthriv"), (2, "Ola", "Nordmann"), (3, "Maria", "Quispe")]),
            ("INSERT INTO notes VALUES (?, ?, ?)",
             [(1, "nothing to see here", "misc"), (2, "all good", "misc")]),
        ],
    )  # fmt: skip
    keep = ColumnPlan(transformer="keep", params={}, reason="test")
    scrub = ColumnPlan(transformer="text_scrub", params={}, reason="test")
    tag = ColumnPlan(transformer="text_scrub", params={"max_length": 40}, reason="test")
    plan = Plan(
        tables={
            "people": TablePlan(
                columns={
                    "id": keep,
                    "first_name": ColumnPlan(transformer="first_name", params={}, reason="t"),
                    "last_name": ColumnPlan(transformer="last_name", params={}, reason="t"),
                }
            ),
            "notes": TablePlan(columns={"id": keep, "body": scrub, "tag": tag}),
        }
    )
    if "postgresql" in src:
        plan = Plan(tables={f"public.{t}": tp for t, tp in plan.tables.items()}, schemas=["public"])
    return src, plan


LOOK_ALIKE_NOTES = [
    # (body, tag) written into the target: another row's name in look-alike letters
    pytest.param("Spoke with Gw\u0435ndolyn today", "misc", id="cyrillic-e-first-name"),
    pytest.param("Spoke with \u039c\u0430ria today", "misc", id="greek-cyrillic-first-name"),
    pytest.param("nothing to see here", "G\u0430nthriv", id="cyrillic-a-surname-cell"),
    pytest.param("nothing to see here", "N\u03bfrdm\u0430nn", id="greek-cyrillic-surname-cell"),
]


@pytest.mark.parametrize(("body", "tag"), LOOK_ALIKE_NOTES)
def test_another_rows_name_in_look_alike_letters_fails_verify(
    make: Callable[[], str], body: str, tag: str
) -> None:
    """A clean run verifies; a person's name written with Cyrillic or Greek
    look-alike letters into a note that refers to no one is a hit of the
    whole-target scan (it passed: only the row's own values were read as Latin)."""
    src, plan = _people_and_notes(make)
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    _execute(tgt, [("UPDATE notes SET body = ?, tag = ? WHERE id = 1", [(body, tag)])])
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert {(h.table.rsplit(".", 1)[-1], h.column) for h in report.hits} == {
        ("notes", "body" if tag == "misc" else "tag")
    }, report.to_json()


def test_words_of_another_script_are_not_read_as_latin() -> None:
    from stagewall.masking.transformers._confusables import latin_readings

    assert (
        latin_readings(
            ["\u041c\u0430\u0440\u0438\u044f", "plain", "\u0391\u03b8\u03ae\u03bd\u03b1"]
        )
        == []
    )
    assert latin_readings(["x G\u0430nthriv \u041c\u0430\u0440\u0438\u044f"]) == [
        (0, "x Ganthriv \u041c\u0430\u0440\u0438\u044f")
    ]
