"""The demo leaves nothing on the user's PostgreSQL: its database and every role it made go."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from stagewall.access.issuers import CredentialSpec
from stagewall.access.issuers.postgres import PostgresIssuer
from stagewall.demo._steps import demo_postgres
from stagewall.estate import Access
from tests.conftest import IN_CI, PG_ADMIN_DSN

pytestmark = pytest.mark.postgres


def test_demo_cleanup_drops_its_database_logins_and_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEWALL_DEMO_PG", PG_ADMIN_DSN)
    pg = demo_postgres(tmp_path / "demo")
    if pg is None:
        if IN_CI:
            pytest.fail("PostgreSQL is required under CI=true")
        pytest.skip("PostgreSQL unreachable")
    instance = f"demo{uuid.uuid4().hex[:12]}"
    issuer = PostgresIssuer("orders-pg-prod", pg.admin_url)
    cred = issuer.issue(
        CredentialSpec(
            grant_id=f"g{uuid.uuid4().hex[:12]}",
            instance_id=instance,
            resource="orders-pg-prod",
            role="prod-pg-read",
            access=Access.READ,
            schemas=("public",),
            connection_limit=2,
            valid_until=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    session = psycopg.connect(pg.admin_url.replace("postgres@", f"{cred.login}@"))

    def ours() -> list[str]:
        with psycopg.connect(PG_ADMIN_DSN) as conn:
            rows = conn.execute(
                "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE %s",
                (f'%"instance": "{instance}"%',),
            ).fetchall()
        return sorted(str(r[0]) for r in rows)

    assert len(ours()) == 2  # the login and its sw_grp_ group
    try:
        assert pg.cleanup(instance) == []
        assert ours() == []
        with psycopg.connect(PG_ADMIN_DSN) as conn:
            assert (
                conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (pg.database,)
                ).fetchone()
                is None
            )
    finally:
        session.close()
