"""Red-team findings on issue 11's promise (staging holds no production values, and
verify proves it): each test failed before its fix.

- A PostgreSQL domain over an extension's type (an e-mail domain over ``citext``)
  made the unedited auto plan's run fail creating the tables: the extension was
  looked for among the columns' own types only, not behind a domain.
"""

from __future__ import annotations

from typing import Any

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY
from tests.masking.survivors import _rows as rows_of

# ---- a domain over an extension's type, an enum behind a domain --------------------

PG_DOMAINS = [
    "CREATE EXTENSION IF NOT EXISTS citext",
    "CREATE DOMAIN email_addr AS citext CHECK (VALUE ~ '^[^@]+@[^@]+$')",
    "CREATE TYPE tier AS ENUM ('free', 'gold')",
    "CREATE DOMAIN tier_d AS tier",
    "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, "
    "email email_addr UNIQUE NOT NULL, tier tier_d NOT NULL)",
]


@pytest.mark.postgres
def test_a_domain_over_an_extension_type_is_recreated(pg_url_factory: Any) -> None:
    """``email email_addr`` with ``email_addr`` a domain over ``citext`` (as Rails
    and Django applications declare case-insensitive e-mails): the run failed with
    'type "public.citext" does not exist' before any row moved."""
    import psycopg

    src, tgt = pg_url_factory(), pg_url_factory()
    with psycopg.connect(src, autocommit=True) as conn:
        for stmt in PG_DOMAINS:
            conn.execute(stmt.encode())
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO customers VALUES (%s, %s, %s, %s)",
                [
                    (i, f"Anna Kowalska{i}", f"Anna.K{i}@Mail.Example.org", "gold")
                    for i in range(30)
                ],
            )
    plan = build_plan(src).plan
    assert plan.tables["public.customers"].columns["email"].transformer == "email"
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    emails = {r[0] for r in rows_of(tgt, "SELECT email::text FROM customers")}
    assert len(emails) == 30 and not emails & {f"Anna.K{i}@Mail.Example.org" for i in range(30)}
    (typ,) = rows_of(tgt, "SELECT pg_typeof(email)::text FROM customers LIMIT 1")[0]
    assert typ == "email_addr"
