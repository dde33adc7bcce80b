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

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows as rows_of
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
    from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
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
