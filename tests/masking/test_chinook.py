"""The unedited auto plan on the real Chinook database (SQLite, vendored in data/chinook):
it runs, verify passes with 0 hits, and the independent checker (survivors.py)
finds none of a customer's, an employee's or a composer's values in their rows.

Chinook's catalogue is the trap: composers are people ("Steve Harris", "Harris",
"roger glover"); album titles and song names are public text that sometimes equals
a masked person's value ("Frank" the album and Frank Harris the customer, "New York"
the song and a customer's city, "Love" the song and "Calling Dr. Love").
"""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.lint import errors
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan, dump_plan, load_plan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY
from tests.masking.survivors import survivors

DATA = Path(__file__).parent / "data" / "chinook" / "Chinook_Sqlite.sql.gz"
PEOPLE = {
    "FirstName": "name",
    "LastName": "name",
    "Email": "email",
    "Phone": "phone",
    "Fax": "phone",
    "Address": "street",
    "PostalCode": "postcode",
}
CUSTOMER_TEXT = ["FirstName", "LastName", "Company", "Address", "City", "State", "Country"]
CUSTOMER_TEXT += ["PostalCode", "Phone", "Fax", "Email"]
INVOICE_TEXT = ["BillingAddress", "BillingCity", "BillingState", "BillingCountry"]
INVOICE_TEXT += ["BillingPostalCode"]
EMPLOYEE_TEXT = ["LastName", "FirstName", "Title", "Address", "City", "State", "Country"]
EMPLOYEE_TEXT += ["PostalCode", "Phone", "Fax", "Email"]
CARRY = frozenset({"keep", "text_scrub", "json_mask"})


@pytest.fixture(scope="module")
def chinook(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Plan]:
    d = tmp_path_factory.mktemp("chinook")
    conn = sqlite3.connect(d / "src.sqlite")
    conn.executescript(gzip.decompress(DATA.read_bytes()).decode("utf-8-sig"))
    conn.close()
    src, tgt = f"sqlite:///{d / 'src.sqlite'}", f"sqlite:///{d / 'tgt.sqlite'}"
    result = build_plan(src)
    assert errors(list(result.problems)) == []
    (d / "plan.yaml").write_text(dump_plan(result.plan))
    plan = load_plan(d / "plan.yaml")  # what a user runs: the file, unedited
    run(plan, src, tgt, KEY, RunOptions())
    return src, tgt, plan


def test_unedited_plan_runs_and_verifies_clean(chinook: tuple[str, str, Plan]) -> None:
    src, tgt, plan = chinook
    report = verify(plan, src, tgt, KEY)
    assert report.total_hits == 0, report.to_json()
    assert report.row_hits == (), report.to_json()
    assert report.passed, report.to_json()


def test_composers_are_people_and_are_replaced(chinook: tuple[str, str, Plan]) -> None:
    src, tgt, plan = chinook
    composer = plan.tables["Track"].columns["Composer"]
    assert composer.transformer == "full_name", composer
    q = 'SELECT "TrackId", "Composer" FROM "Track" WHERE "Composer" IS NOT NULL ORDER BY 1'
    before = dict(sqlite3.connect(src.removeprefix("sqlite:///")).execute(q).fetchall())
    after = dict(sqlite3.connect(tgt.removeprefix("sqlite:///")).execute(q).fetchall())
    assert before.keys() == after.keys()
    assert not [k for k in before if before[k] == after[k]]


def _carried(plan: Plan, table: str, columns: list[str]) -> list[str]:
    """The columns of ``table`` whose target text comes from the source text (kept or
    scrubbed). A column a pseudonymiser replaces whole holds a dictionary draw that
    may share a word with a row's real value by chance ("9866 Howard Park" for a
    customer whose support rep is Margaret Park); that it holds no source value is
    checked whole, in :func:`test_replaced_columns_hold_no_source_value`."""
    return [c for c in columns if plan.tables[table].columns[c].transformer in CARRY]


def test_independent_checker_finds_no_survivor(chinook: tuple[str, str, Plan]) -> None:
    src, tgt, plan = chinook
    # every customer column is masked whole today: nothing of the rep's can be carried
    customer = _carried(plan, "Customer", CUSTOMER_TEXT)
    checks: list[tuple[str, dict[str, str], dict[str, list[str]], dict[str, str]]] = [
        (
            "Customer",
            PEOPLE,
            {"Customer": CUSTOMER_TEXT, "Invoice": INVOICE_TEXT},
            {"Customer": "CustomerId", "Invoice": "CustomerId"},
        ),
        (
            "Employee",
            PEOPLE,
            {"Employee": EMPLOYEE_TEXT, **({"Customer": customer} if customer else {})},
            {"Employee": "EmployeeId", "Customer": "SupportRepId"},
        ),
        ("Track", {"Composer": "name"}, {"Track": ["Name", "Composer"]}, {"Track": "TrackId"}),
    ]
    found: dict[str, int] = {}
    for parent, sensitive, texts, refs in checks:
        found |= survivors(src, tgt, parent, sensitive, texts, refs, key=f"{parent}Id", plan=plan)
    assert found == {}


def test_replaced_columns_hold_no_source_value(chinook: tuple[str, str, Plan]) -> None:
    src, tgt, plan = chinook
    for table, columns in [("Customer", CUSTOMER_TEXT), ("Employee", EMPLOYEE_TEXT)]:
        replaced = [c for c in columns if c not in _carried(plan, table, columns)]
        assert replaced
        for c in replaced:
            q = f'SELECT "{table}Id", "{c}" FROM "{table}" WHERE "{c}" IS NOT NULL'
            before = dict(sqlite3.connect(src.removeprefix("sqlite:///")).execute(q).fetchall())
            after = dict(sqlite3.connect(tgt.removeprefix("sqlite:///")).execute(q).fetchall())
            same = [k for k, v in after.items() if before.get(k) == v and len(v) > 3]
            assert not same, (table, c, len(same))


def test_the_checker_sees_a_weakened_plan(chinook: tuple[str, str, Plan], tmp_path: Path) -> None:
    """The same checks can fail: with composers kept, they survive in the target."""
    src, _, plan = chinook
    tables = dict(plan.tables)
    cols = dict(tables["Track"].columns)
    cols["Composer"] = ColumnPlan(transformer="keep", reason="weakened for the test")
    tables["Track"] = TablePlan(columns=cols)
    weak = Plan(schemas=plan.schemas, tables=tables)
    tgt = f"sqlite:///{tmp_path / 'weak.sqlite'}"
    run(weak, src, tgt, KEY, RunOptions())
    assert not verify(weak, src, tgt, KEY).passed
    found = survivors(
        src,
        tgt,
        "Track",
        {"Composer": "name"},
        {"Track": ["Composer"]},
        {"Track": "TrackId"},
        key="TrackId",
        plan=weak,
    )
    assert found.get("Track.Composer", 0) > 500
