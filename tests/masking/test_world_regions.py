"""Continents and world regions are reference data, not people (found on MySQL's
sample "world" database, PostgreSQL port: the unedited auto plan's run failed).

"North America", "South America" (continents) and "Western Africa", "Southeast
Asia" (regions) end in a word that is also a first name (America, Africa, Asia).
The detector read them as person names: a continent column constrained by
``CHECK (continent = 'Asia' OR continent = 'Europe' OR …)`` was planned
``text_scrub``, whose outputs the CHECK refused, so ``mask run`` stopped with exit
2 (SW600); kept (an enum, or a ``CHECK … IN`` list), verify reported every
"… America" and every row whose continent was "Africa" (a word of a masked
region) as a leak, so the run ended with exit 1. Now the UN M49 regions and
continents are reference values like countries: the auto plan keeps them, the
run completes and verify passes on SQLite, PostgreSQL and MariaDB. A person named
America or Africa is still a name: a bare first name is no region.

And a CHECK that refuses a transformer's outputs now says so: the run's SW600
hint named the server's reachability and credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import BackendError
from stagewall.masking.classify import detect_in_text
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker, with_column
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _execute

CONTINENTS = ["Asia", "Europe", "North America", "Africa", "Oceania", "South America"]
# (code, name, continent, region): real countries, the world database's regions
COUNTRIES = [
    ("AFG", "Afghanistan", "Asia", "Southern and Central Asia"),
    ("IDN", "Indonesia", "Asia", "Southeast Asia"),
    ("CHN", "China", "Asia", "Eastern Asia"),
    ("IRN", "Iran", "Asia", "Southern and Central Asia"),
    ("FRA", "France", "Europe", "Western Europe"),
    ("ITA", "Italy", "Europe", "Southern Europe"),
    ("POL", "Poland", "Europe", "Eastern Europe"),
    ("SWE", "Sweden", "Europe", "Nordic Countries"),
    ("USA", "United States", "North America", "North America"),
    ("MEX", "Mexico", "North America", "Central America"),
    ("CUB", "Cuba", "North America", "Caribbean"),
    ("CAN", "Canada", "North America", "North America"),
    ("NGA", "Nigeria", "Africa", "Western Africa"),
    ("EGY", "Egypt", "Africa", "Northern Africa"),
    ("KEN", "Kenya", "Africa", "Eastern Africa"),
    ("ZAF", "South Africa", "Africa", "Southern Africa"),
    ("CMR", "Cameroon", "Africa", "Central Africa"),
    ("AUS", "Australia", "Oceania", "Australia and New Zealand"),
    ("FJI", "Fiji", "Oceania", "Melanesia"),
    ("WSM", "Samoa", "Oceania", "Polynesia"),
    ("BRA", "Brazil", "South America", "South America"),
    ("ARG", "Argentina", "South America", "South America"),
    ("PER", "Peru", "South America", "South America"),
    ("CHL", "Chile", "South America", "South America"),
]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _country_table(url: str, listed: str) -> None:
    """The world database's ``country`` (in short): ``listed`` is how the continent's
    CHECK lists its values: ``or`` (the PostgreSQL port's), ``in``; ``initial``: a
    check on the first letter only, which lint cannot read as a list."""
    if listed == "or":
        check = " OR ".join(f"continent = '{c}'" for c in CONTINENTS)
    elif listed == "initial":
        check = "upper(substr(continent, 1, 1)) IN ('A', 'E', 'N', 'O', 'S')"
    else:
        check = "continent IN (" + ", ".join(f"'{c}'" for c in CONTINENTS) + ")"
    _execute(
        url,
        [
            (
                "CREATE TABLE country (code CHAR(3) NOT NULL PRIMARY KEY, "
                "name VARCHAR(52) NOT NULL, continent VARCHAR(40) NOT NULL, "
                "region VARCHAR(30) NOT NULL, population INTEGER NOT NULL, "
                f"CONSTRAINT country_continent_check CHECK ({check}))",
                [],
            ),
            (
                "INSERT INTO country (code, name, continent, region, population) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*c, 1000 * (i + 1)) for i, c in enumerate(COUNTRIES)],
            ),
        ],
    )


def _countries(url: str) -> list[tuple[Any, ...]]:
    got = rows_of(url, "SELECT code, name, continent, region FROM country ORDER BY code")
    return [tuple(str(v).strip() for v in r) for r in got]


@pytest.mark.parametrize("listed", ["or", "in"])
def test_unedited_plan_keeps_continents_and_regions_and_verifies(
    make: Callable[[], str], listed: str
) -> None:
    src, tgt = make(), make()
    _country_table(src, listed)
    plan = build_plan(src).plan
    # before: the OR check refused text_scrub's outputs (SW600, exit 2); the IN
    # list's keep was reported by verify as a leak of every "… America"
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert report.total_hits == 0
    cols = plan.tables[next(t for t in plan.tables if t.endswith("country"))].columns
    assert cols["continent"].transformer == "keep", cols["continent"]
    assert cols["region"].transformer == "keep", cols["region"]
    assert _countries(tgt) == sorted(c[:4] for c in COUNTRIES)


@pytest.mark.parametrize(
    "text",
    ["North America", "South America", "Western Africa", "Southeast Asia", "Central Africa"],
)
def test_a_region_is_no_person_name(text: str) -> None:
    assert detect_in_text(text) == []


@pytest.mark.parametrize(
    "text", ["America", "America Ferrera", "call America tomorrow", "Africa Smith moved"]
)
def test_a_first_name_alone_is_still_a_name(text: str) -> None:
    assert [m.category.value for m in detect_in_text(text)] == ["person_name"], text


def test_a_check_refusing_masked_values_says_how_to_fix(make: Callable[[], str]) -> None:
    """A plan edited to encrypt the continent (`fpe_alnum`) writes values a CHECK refuses
    (lint only warns: the check is on the first letter, no list of values; an ``=`` …
    ``OR`` list is a lint error since, test_world_reference.py): the run stops with
    SW600 (exit 2), and the hint names the check and `mask lint`, not the server's
    reachability and credentials (the hint before)."""
    src, tgt = make(), make()
    _country_table(src, "initial")
    plan = build_plan(src).plan
    table = next(t for t in plan.tables if t.endswith("country"))
    plan = with_column(plan, table, "continent", ColumnPlan(transformer="fpe_alnum"))
    with pytest.raises(BackendError) as got:
        run(plan, src, tgt, KEY, RunOptions())
    assert "country_continent_check" in got.value.message, got.value.message
    assert got.value.hint.startswith("a transformer wrote values a CHECK constraint"), got.value
    assert "stagewall mask lint" in got.value.hint
    assert got.value.exit_code == 2
