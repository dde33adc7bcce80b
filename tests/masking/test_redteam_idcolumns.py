"""Red-team finding: identifiers of one person in columns the auto plan kept.

A customer table's ``nif``, ``vat_number``, ``driver_license``, ``account_number``,
``nhs_number``, ``codice_fiscale``, ``insurance_number`` (and ``tax_number``,
``personnummer``, ``cif``, ``nie``…) matched no name rule and no value validator
(a tax number, a licence or a bank account written without its IBAN has no
checksum the planner knows), so the unedited auto plan planned them ``keep``: the
copy held every production value and verify passed, a kept column being the
plan's decision. Now the name rules know them (``classify/_rules.py``), planned
``fpe_alnum`` (``fpe_integer`` for an integer column): the same format, keyed, so
joins on them hold. Compacts ending in ``no`` match whole words only:
``tax_notes`` and ``account_notes`` stay free text.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.classify import Category, classify_column
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.types import ColumnKind as K
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_redteam_schema import _execute


@pytest.mark.parametrize(
    "column",
    [
        "nif", "nie", "cif", "customer_nif", "vat_id", "vat_number", "VatNo",
        "vat_identification_number", "tax_number", "tax_no", "TaxNo", "steuernummer",
        "codice_fiscale", "personnummer", "id_number", "driver_license",
        "DriversLicenceNumber", "driving_licence_no", "license_plate", "nhs_number",
        "insurance_number", "medicare_id", "account_number", "AccountNo", "bank_account",
        "bban", "kontonummer",
    ],
)  # fmt: skip
def test_a_persons_identifier_is_masked_by_its_name(column: str) -> None:
    f = classify_column(table="customers", column=column, kind=K.TEXT, samples=[])
    assert (f.category, f.transformer) == (Category.NATIONAL_ID, "fpe_alnum"), f
    assert "name rule" in f.reason


def test_an_integer_account_number_keeps_its_digits() -> None:
    f = classify_column(table="customers", column="account_number", kind=K.INTEGER, samples=[])
    assert (f.category, f.transformer) == (Category.NATIONAL_ID, "fpe_integer"), f


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("tax_notes", None), ("account_notes", None), ("vat_rate", None), ("tax_code", None),
        ("tax_rate", None), ("account_type", None), ("account_number_type", None),
        ("license_key", None), ("licenses", None), ("bank_account_holder", Category.PERSON_NAME),
        ("account_holder_name", Category.PERSON_NAME),
    ],
)  # fmt: skip
def test_words_that_only_start_like_one_are_not(column: str, category: Category | None) -> None:
    f = classify_column(table="customers", column=column, kind=K.TEXT, samples=[])
    assert f.category is not Category.NATIONAL_ID, f
    if category is not None:
        assert f.category is category, f


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


_DNI = "TRWAGMYFPDXBNJZSQVHLCKE"
_ID_COLUMNS = [
    "nif",
    "vat_number",
    "driver_license",
    "account_number",
    "nhs_number",
    "codice_fiscale",
    "insurance_number",
]


def _values(rng: random.Random) -> list[str]:
    digits = rng.randrange(10_000_000, 99_999_999)
    letters = "".join(rng.choice("ABCDEFGHLMNPRSTVZ") for _ in range(6))
    return [
        f"{digits}{_DNI[digits % 23]}",  # a DNI
        f"ESB{rng.randrange(10_000_000, 99_999_999)}",
        f"D{rng.randrange(1_000_000, 9_999_999)}",
        f"{rng.randrange(10**9, 10**10):010d}",
        f"{rng.randrange(100, 999)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        f"{letters}85T10A{rng.randrange(100, 999)}S",
        f"INS-{rng.randrange(10**7, 10**8)}",
    ]


def test_the_auto_plans_copy_holds_none_of_them(make: Callable[[], str]) -> None:
    """The unedited auto plan masks every identifier column: no source value of
    them is in the target (any row), verify passes. On the code before, the plan
    kept them and the copy held all of them."""
    src, tgt = make(), make()
    text = "VARCHAR(40)" if src.startswith("mysql") else "TEXT"
    rng = random.Random(11)
    rows = [
        [i, f"Anna{i}", f"Novak{i}", f"anna{i}@mail-example.com", *_values(rng)]
        for i in range(1, 41)
    ]
    decl = ", ".join(f"{c} {text}" for c in ["first_name", "last_name", "email", *_ID_COLUMNS])
    _execute(
        src,
        [
            f"CREATE TABLE customers (id INTEGER PRIMARY KEY, {decl})",
            f"INSERT INTO customers VALUES ({', '.join('?' * len(rows[0]))})",
        ],
        [tuple(r) for r in rows],
    )
    plan = build_plan(src).plan
    planned = next(
        t for q, t in plan.tables.items() if q.rsplit(".", 1)[-1].strip('"`') == "customers"
    )
    kept = [c for c in _ID_COLUMNS if planned.columns[c].transformer == "keep"]
    assert kept == [], kept  # (an NHS number reads as a phone: masked as one)
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    select = f"SELECT {', '.join(_ID_COLUMNS)} FROM customers ORDER BY id"
    before = {v for row in rows_of(src, select) for v in row}
    after = [v for row in rows_of(tgt, select) for v in row]
    assert len(after) == 40 * len(_ID_COLUMNS) and None not in after
    assert before.isdisjoint(after)
