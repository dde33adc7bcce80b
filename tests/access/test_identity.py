"""Resource identity: a staging declaration that reaches production is refused, pins hold.

Production lives on the shared local cluster, staging on the SCRAM cluster, so the
two really are different servers; pointing staging's admin URL at production (or
at another database) is the reproduced break.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from stagewall.access import (
    AccessContext,
    Outcome,
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    revoke_grant,
    sweep,
)
from stagewall.access.identity import pinned
from stagewall.errors import IdentityRefused
from tests.access.conftest import Env, ScramWorld
from tests.cli_helpers import run_cli
from tests.conftest import PG_ADMIN_DSN

pytestmark = pytest.mark.postgres


def _staging_grant(env: Env) -> str:
    req = request_access(
        env.ctx, requester="dana", role="staging-write", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    return res.result_ref


def _staging_db_on_production(env: Env, world: ScramWorld, monkeypatch: Any) -> None:
    """Point staging's admin URL at the production cluster, which has a database of that name."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(world.db)))
    monkeypatch.setenv("SW_TEST_STAGING_ADMIN_URL", env.pg_url)


def test_staging_admin_url_pointing_at_production_is_refused_and_alerted(split: Any) -> None:
    env, world, monkeypatch = split
    _staging_db_on_production(env, world, monkeypatch)
    gid = _staging_grant(env)
    with pytest.raises(IdentityRefused, match="resolves to the server of production resource"):
        issue_credentials(env.ctx, gid, holder="dana")
    with psycopg.connect(env.pg_url) as admin:
        assert (
            admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", ("sw_" + gid,)).fetchone()
            is None
        )
    [alert] = [a for a in env.alerts() if a["kind"] == "access.resource.refused"]
    assert alert["severity"] == "critical" and "staging-db" in alert["text"]
    refused = [e for e in env.events() if e.code == "access.resource.refused"]
    assert refused and refused[-1].status.value == "Failure"
    assert pinned(env.ctx.store, "staging-db") is None


def test_identity_is_pinned_and_a_changed_identity_refuses_issuance_and_revocation(
    split: Any,
) -> None:
    env, world, monkeypatch = split
    gid = _staging_grant(env)
    [cred] = issue_credentials(env.ctx, gid, holder="dana")
    pin = pinned(env.ctx.store, "staging-db")
    assert pin is not None and pin.database == world.db and pin.port == world.port
    [ev] = [e for e in env.events() if e.code == "access.resource.pinned"]
    assert ev.details["server"] == pin.server and ev.details["database_oid"] == pin.database_oid
    # The variable now reaches another server that has a database of the same name.
    _staging_db_on_production(env, world, monkeypatch)
    moved = AccessContext.open(env.config, env.store_url, clock=env.clock)
    gid2 = _staging_grant(env)
    with pytest.raises(IdentityRefused, match="changed identity"):
        issue_credentials(moved, gid2, holder="dana")
    # Revocation through the moved URL would "verify" a login that is not there: refused.
    rep = revoke_grant(moved, gid, actor="carol", reason="done", otp=env.otp("carol"))
    assert not rep.verified and "changed identity" in (rep.proofs[0].error or "")
    [g] = [g for g in list_grants(moved) if g.id == gid]
    assert g.revocation == "pending"
    with world.superuser_conn() as su:
        assert su.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (cred.login,)
        ).fetchone() == (True,)
    monkeypatch.setenv("SW_TEST_STAGING_ADMIN_URL", world.admin_url)
    rep2 = sweep(AccessContext.open(env.config, env.store_url, clock=env.clock))
    assert gid in rep2.retried and cred.login not in rep2.unverified


def test_check_live_proves_separation_and_names_a_shared_server(split: Any) -> None:
    env, world, monkeypatch = split
    res = run_cli("check", "--live", "--config", str(env.config), "--format", "json")
    doc = json.loads(res.stdout)
    pair = {(p["non_production"], p["production"]): p for p in doc["live"]["pairs"]}
    assert pair[("staging-db", "prod-db")]["statement"] == (
        "not the same server, not the same database"
    )
    assert not [v for v in doc["violations"] if v["rule"].startswith("SW-LIVE")]
    ids = doc["live"]["identities"]
    assert ids["staging-db"]["server"] != ids["prod-db"]["server"]
    _staging_db_on_production(env, world, monkeypatch)
    res = run_cli("check", "--live", "--config", str(env.config))
    assert res.exit_code == 1
    assert "staging-db vs prod-db: SAME SERVER" in res.stdout
    assert "SW-LIVE-001" in res.stdout


@pytest.mark.mysql
def test_mysql_identity_and_a_staging_database_on_the_production_server(
    tmp_path: Path, mysql_url_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod_url, staging_url = mysql_url_factory(), mysql_url_factory()
    monkeypatch.setenv("SW_PROD_MY", prod_url)
    monkeypatch.setenv("SW_STAGING_MY", staging_url)
    config = tmp_path / "stagewall.yaml"
    config.write_text(
        f"""version: 1
environments:
  production: {{tier: production}}
  staging: {{tier: non-production}}
resources:
  shop-prod:
    environment: production
    kind: mysql
    database: {prod_url.rsplit("/", 1)[1]}
    connection_env: SW_PROD_MY
  shop-staging:
    environment: staging
    kind: mysql
    database: {staging_url.rsplit("/", 1)[1]}
    connection_env: SW_STAGING_MY
""",
        encoding="utf-8",
    )
    res = run_cli("check", "--live", "--config", str(config), "--format", "json")
    doc = json.loads(res.stdout)
    ids = doc["live"]["identities"]
    assert ids["shop-prod"]["kind"] == "mysql" and ids["shop-prod"]["server"]
    assert ids["shop-prod"]["database"] == prod_url.rsplit("/", 1)[1]
    assert ids["shop-staging"]["server"] == ids["shop-prod"]["server"]
    [pair] = doc["live"]["pairs"]
    assert pair["separation"] == "same_server"
    assert res.exit_code == 1 and "SW-LIVE-001" in [v["rule"] for v in doc["violations"]]
