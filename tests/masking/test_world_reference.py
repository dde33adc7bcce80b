"""MySQL's sample "world" database, the unedited auto plan: what is kept and why.

``country.continent`` is constrained by ``CHECK (continent = 'Asia' OR continent =
'Europe' OR …)`` (the PostgreSQL port; PostgreSQL stores it as
``((continent)::text = 'Asia'::text) OR …``). Lint read only ``IN (…)`` and
``= ANY (…)`` as a fixed list, so a transformer on such a column was a warning
(``check-constraint``) and the run stopped part-way with SW600 (exit 2) after
writing rows. Now an ``=`` … ``OR`` chain of literals on one column is a fixed list
too: lint's ``fixed-list`` error stops the run before anything is written.

Not changed, by design (docs/masking.md, the World entry): ``city.name``,
``city.district`` and ``countrylanguage.language`` are masked because some of
their values hold a first name the detector finds (*São Paulo*, *Victoria*; the
languages *Maya*, *Sara*); verify counts a detected name in a kept column as a
leak, so the planner does not keep them. The guard below checks that a people
table's ``name``/``city``/``district`` stay masked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.errors import MaskingError
from stagewall.masking._context import about_people, fixed_list, personal_tables
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.schema import Column, ForeignKey, Schema, Table
from stagewall.masking.types import ColumnKind
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker, with_column
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _execute

CONTINENTS = ["Asia", "Europe", "North America", "Africa", "Oceania", "South America"]
COUNTRIES = [
    ("AFG", "Afghanistan", "Asia"),
    ("FRA", "France", "Europe"),
    ("USA", "United States", "North America"),
    ("NGA", "Nigeria", "Africa"),
    ("AUS", "Australia", "Oceania"),
    ("BRA", "Brazil", "South America"),
]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _country(url: str) -> str:
    check = " OR ".join(f"continent = '{c}'" for c in CONTINENTS)
    _execute(
        url,
        [
            (
                "CREATE TABLE country (code CHAR(3) NOT NULL PRIMARY KEY, "
                "name VARCHAR(52) NOT NULL, continent VARCHAR(40) NOT NULL, "
                f"CONSTRAINT country_continent_check CHECK ({check}))",
                [],
            ),
            ("INSERT INTO country (code, name, continent) VALUES (?, ?, ?)", COUNTRIES),
        ],
    )
    return "public.country" if url.startswith("postgresql") else "country"


def test_an_or_chain_of_values_is_a_fixed_list_caught_before_the_run(
    make: Callable[[], str],
) -> None:
    src, tgt = make(), make()
    table = _country(src)
    result = build_plan(src)
    assert not [p for p in result.problems if p.severity.value == "error"], result.problems
    assert result.plan.tables[table].columns["continent"].transformer == "keep"
    plan = with_column(result.plan, table, "continent", ColumnPlan(transformer="fpe_alnum"))
    # before: a warning only; the run wrote rows, then the target's CHECK refused them
    with pytest.raises(MaskingError, match="fixed-list"):
        run(plan, src, tgt, KEY, RunOptions())
    # nothing was written: the target has no table
    with pytest.raises(Exception, match=r"(?i)no such table|does not exist|doesn.t exist"):
        rows_of(tgt, "SELECT code FROM country")


def _table(*checks: str) -> tuple[Table, Column]:
    col = Column(name="continent", db_type="VARCHAR(40)", kind=ColumnKind.TEXT)
    other = Column(name="code", db_type="CHAR(3)", kind=ColumnKind.TEXT)
    table = Table(schema=None, name="country", columns=(other, col), check_constraints=checks)
    return table, col


@pytest.mark.parametrize(
    "check",
    [
        "CHECK (continent = 'Asia' OR continent = 'Europe')",
        # PostgreSQL's stored form of the port's check
        "CHECK ((((continent)::text = 'Asia'::text) OR ((continent)::text = 'Europe'::text)))",
        # MariaDB's
        "CONSTRAINT `country_continent_check` CHECK (`continent` = 'Asia' or `continent` = 'Europe')",
    ],
)
def test_equalities_joined_by_or_are_a_fixed_list(check: str) -> None:
    table, col = _table(check)
    assert fixed_list(table, col) is not None


@pytest.mark.parametrize(
    "check",
    [
        "CHECK (continent = 'Asia')",  # one value: a check, not a list
        "CHECK (continent = 'Asia' OR length(continent) > 20)",  # another use of it
        "CHECK (continent <> 'Atlantis' AND code <> 'XXX')",
        "CHECK (code = 'AFG' OR code = 'FRA')",  # another column's list
    ],
)
def test_other_checks_stay_checks(check: str) -> None:
    table, col = _table(check)
    assert fixed_list(table, col) is None


def test_a_people_table_still_masks_its_name_city_and_district(
    make: Callable[[], str],
) -> None:
    """Guard: the world tables' place names are kept only where no person is; in a
    table about people the same columns are masked."""
    src = make()
    people = [
        (1, "Maria Silva", "São Paulo", "São Paulo", "maria.silva@example.org"),
        (2, "John Carter", "New York", "New York", "jcarter@example.net"),
        (3, "Anna de Vries", "Amsterdam", "Noord-Holland", "anna.vries@example.com"),
        (4, "Paul Martin", "Paris", "Île-de-France", "pmartin@example.fr"),
    ]
    _execute(
        src,
        [
            (
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(60), "
                "city VARCHAR(35), district VARCHAR(20), email VARCHAR(80))",
                [],
            ),
            ("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", people),
        ],
    )
    plan = build_plan(src).plan
    cols = plan.tables[next(t for t in plan.tables if t.endswith("customers"))].columns
    for name in ("name", "city", "district", "email"):
        assert cols[name].transformer != "keep", (name, cols[name])


def test_the_world_tables_are_not_judged_as_people() -> None:
    """city and countrylanguage have no person column and reference only country."""
    code = Column(name="countrycode", db_type="CHAR(3)", kind=ColumnKind.TEXT)

    fk = ForeignKey(
        name=None, columns=("countrycode",), ref_schema=None, ref_table="country",
        ref_columns=("code",),
    )  # fmt: skip
    city = Table(
        schema=None,
        name="city",
        columns=(
            Column(name="id", db_type="INTEGER", kind=ColumnKind.INTEGER),
            Column(name="name", db_type="VARCHAR(35)", kind=ColumnKind.TEXT),
            code,
            Column(name="district", db_type="VARCHAR(20)", kind=ColumnKind.TEXT),
        ),
        foreign_keys=(fk,),
    )
    country, _ = _table()
    schema = Schema(backend="sqlite", tables=(country, city))
    assert personal_tables(schema) == set()
    assert about_people(schema) == set()
