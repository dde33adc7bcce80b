"""Two gaps of the masking round ``maskmisc`` (each test failed before its fix).

- IPv6 spellings of one address in a unique column under MariaDB's
  case-insensitive collation stopped the run (SW600, a duplicate entry on the
  target's unique index): a spelling the masked address could not follow
  (``2001:0db8::1`` beside ``2001:db8::1``) was told apart by a keyed mix of
  letter cases alone, which the collation does not see.
- A lone word of a schema name that is an ordinary word and a source value of a
  name column (``tenant_grace`` beside a customer called Grace) was not reported
  at all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import SchemaNameUnconfirmed, SchemaPersonalData
from stagewall.masking._schemanames import Named, judge_names, lone_words, ordinary_words
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.lint import Rule, Severity
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_maskresid import unique_ips


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# ---- IPv6 spellings under a case-insensitive collation ----------------------------------

# spellings of three addresses, no two equal once lower-cased (a MariaDB unique
# column holds them all), the case of each as written
V6_CI_DISTINCT = [
    "2001:db8::1", "2001:0db8::1", "2001:DB8:0:0:0:0:0:1", "2001:0DB8:0000:0000:0000:0000:0000:0001",
    "2001:db8::0.0.0.1", "2001:Db8::0001", "2001:db8:0::1",
    "fe80::a:b", "FE80:0:0:0:0:0:A:B", "fe80::000a:000b", "FE80::0A:B",
    "::ffff:192.0.2.7", "::ffff:c000:207", "::FFFF:C000:0207", "0:0:0:0:0:ffff:192.0.2.7",
    "2001:DB8::A", "2001:0db8::a", "2001:DB8::000A",
]  # fmt: skip


def test_ipv6_spellings_distinct_under_the_collation_stay_distinct(
    make: Callable[[], str],
) -> None:
    """Every backend, MariaDB's case-insensitive collation included: the run
    completes (it stopped with SW600 on MariaDB), the outputs are distinct once
    lower-cased, none is a source address, each keeps its input's case, and the
    target verifies."""
    assert len({v.lower() for v in V6_CI_DISTINCT}) == len(V6_CI_DISTINCT)
    src = make()
    plan = unique_ips(src, V6_CI_DISTINCT)
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    got = [r[0] for r in rows_of(tgt, "SELECT ip FROM hits ORDER BY id")]
    assert len({g.lower() for g in got}) == len(V6_CI_DISTINCT), got
    sources = {ipaddress.ip_address(v) for v in V6_CI_DISTINCT}
    assert not {ipaddress.ip_address(g) for g in got} & sources
    for v, g in zip(V6_CI_DISTINCT, got, strict=True):
        if v == v.upper() and any(c.isalpha() for c in v):
            assert g == g.upper(), (v, g)
        elif v == v.lower():
            assert g == g.lower(), (v, g)
    assert verify(plan, src, tgt, KEY).passed


@pytest.mark.mysql
def test_mariadb_case_only_spellings_are_one_row_and_one_masked_row(
    mysql_url_factory: Callable[[], str],
) -> None:
    """``2001:DB8::A`` and ``2001:db8::a`` are one value to a case-insensitive
    unique column; in a plain column both are kept, and their outputs are one
    value to the collation (``=`` finds both rows by either)."""
    from tests.masking.test_leak_traps import _execute

    src = mysql_url_factory()
    values = ["2001:DB8::A", "2001:db8::a", "2001:Db8::a", "2001:0DB8::A", "2001:0db8::a"]
    _execute(
        src,
        [
            ("CREATE TABLE seen (id INTEGER PRIMARY KEY, ip VARCHAR(60))", []),
            ("INSERT INTO seen VALUES (?, ?)", list(enumerate(values, 1))),
        ],
    )
    keep = ColumnPlan(transformer="keep", params={}, reason="test")
    col = ColumnPlan(transformer="ip_address", params={}, reason="test")
    plan = Plan(tables={"seen": TablePlan(columns={"id": keep, "ip": col})})
    tgt = mysql_url_factory()
    run(plan, src, tgt, KEY, RunOptions())
    got = [r[0] for r in rows_of(tgt, "SELECT ip FROM seen ORDER BY id")]
    assert got[0] == got[1].upper() and got[1] == got[1].lower()
    assert got[2].lower() == got[1]
    assert got[3] == got[4].upper() and got[4].lower() != got[1]
    same = rows_of(tgt, f"SELECT COUNT(*) FROM seen WHERE ip = '{got[1]}'")
    assert same[0][0] == 3
    assert verify(plan, src, tgt, KEY).passed


# ---- ordinary words that are names of people in the source -------------------------------


def _people(url: str, named: list[tuple[str, str]], tables: list[str]) -> None:
    from tests.masking.test_redteam_maskgaps import _customers

    _execute(
        url,
        [
            *_customers(url, named),
            *[
                (f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, note_count INTEGER)", [])
                for t in tables
            ],
        ],
    )


def _word_problems(result: Any) -> tuple[list[str], list[str]]:
    """(errors, ordinary-word warnings) of the schema's names, objects as shown."""
    errs = [p.table for p in result.problems if p.rule is Rule.SCHEMA_PERSONAL_DATA]
    words = [p.table for p in result.problems if p.rule is Rule.SCHEMA_NAME_WORD]
    assert all(
        p.severity is Severity.WARNING for p in result.problems if p.rule is Rule.SCHEMA_NAME_WORD
    )
    return errs, words


def test_an_ordinary_word_that_is_a_source_name_must_be_acknowledged(
    make: Callable[[], str],
) -> None:
    """``hope_scores`` beside a customer called Hope (``grace_period`` beside a
    Grace) was silent: now a warning of plan and lint, refused by the run (SW528)
    until the plan acknowledges it, and recorded when it does."""
    src, tgt = make(), make()
    _people(src, [("Hope", "Quispe"), ("Ana", "Rose")], ["hope_scores"])
    result = build_plan(src)
    errs, words = _word_problems(result)
    assert errs == [] and "table #2 of 2 (by name)" in [w.replace(" of public", "") for w in words]
    # (on PostgreSQL its primary key's index, named after it, too)
    assert len(words) == (2 if "postgresql" in src else 1), words
    assert not any("hope" in w for w in words)  # never the value
    with pytest.raises(SchemaNameUnconfirmed) as exc:
        run(result.plan, src, tgt, KEY, RunOptions())
    assert exc.value.code == "SW528" and "hope" not in str(exc.value).lower()
    acks = {"table hope_scores": "scores of hope, a product line: nobody's name"}
    if "postgresql" in src:
        acks = {
            "table public.hope_scores": acks["table hope_scores"],
            "index public.hope_scores_pkey": "its table's primary key",
        }
    plan = result.plan.model_copy(update={"acknowledged": acks})
    got = run(plan, src, tgt, KEY, RunOptions())
    assert sorted(o for o, _ in got.schema_acknowledged) == sorted(words)
    assert all("ordinary word" in w for _, w in got.schema_acknowledged)
    assert verify(plan, src, tgt, KEY).passed


def test_an_ordinary_word_beside_a_word_naming_people_is_a_name(
    make: Callable[[], str],
) -> None:
    """``tenant_grace`` and ``customers_june`` beside customers called Grace and
    June were not reported at all: refused (SW520) like ``tenant_maria``."""
    src, tgt = make(), make()
    _people(src, [("Grace", "Quispe"), ("June", "Rose")], ["tenant_grace", "customers_june"])
    result = build_plan(src)
    errs, words = _word_problems(result)
    tables = [e for e in errs if e.startswith("table #")]
    assert len(tables) == 2 and words == [], (errs, words)
    with pytest.raises(SchemaPersonalData):
        run(result.plan, src, tgt, KEY, RunOptions())


def test_an_ordinary_word_no_source_name_is_stays_silent(make: Callable[[], str]) -> None:
    """``grace_period``, ``tenant_grace`` with no customer called Grace: nothing."""
    src, tgt = make(), make()
    _people(src, [("Ana", "Quispe")], ["grace_period", "tenant_grace", "price_list"])
    result = build_plan(src)
    assert _word_problems(result) == ([], [])
    run(result.plan, src, tgt, KEY, RunOptions())
    assert verify(result.plan, src, tgt, KEY).passed


def test_the_judgement_of_ordinary_words() -> None:
    tables = [
        Named("table", ("public",), n)
        for n in (
            "grace_period",
            "grace_rebate",
            "tenant_grace",
            "GraceUser",
            "hope",
            "june_report",
        )
    ]
    cols = [Named("column", ("public", t), "june_total") for t in ("a", "b")]
    found = {"grace", "hope", "june"}
    assert lone_words(found, tables + cols) == set()
    words = ordinary_words(found, tables + cols)
    # june, the schema's own word (two tables), was left out and every name holding
    # it passed; a repeated word is no proof (schemawords): to acknowledge too
    assert words == {"grace", "hope", "june"}
    got = {f.label: f.confirm for f in judge_names(tables + cols, found, set(), None, words)}
    # grace_period is a reviewed technical sense of the word (schemanoise): silent;
    # grace_rebate is not, and is to acknowledge
    assert got == {
        "table public.grace_rebate": True,
        "table public.tenant_grace": False,
        "table public.GraceUser": False,
        "table public.hope": True,
        "table public.june_report": True,
        "column public.a.june_total": True,
        "column public.b.june_total": True,
    }


def test_chinook_has_no_ordinary_word_finding(tmp_path: Path) -> None:
    """Chinook (SQLite; its customers include Mark Philips and Margaret Park, both
    ordinary words): no schema finding, warnings included."""
    import gzip
    import sqlite3

    from tests.masking.test_chinook import DATA

    conn = sqlite3.connect(tmp_path / "src.sqlite")
    conn.executescript(gzip.decompress(DATA.read_bytes()).decode("utf-8-sig"))
    conn.close()
    result = build_plan(f"sqlite:///{tmp_path / 'src.sqlite'}")
    assert _word_problems(result) == ([], [])
