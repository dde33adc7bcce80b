"""The sweep: unattributable marked roles are reported, never dropped, and stop nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from stagewall.access import (
    Outcome,
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    sweep,
)
from stagewall.errors import AccessDenied
from tests.access.conftest import Env, cleanup_roles, connect_as

pytestmark = pytest.mark.postgres


def test_unattributed_marked_roles_are_alerted_not_dropped_and_expiry_still_runs(
    env: Env,
) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    gid = res.result_ref
    issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    tag = uuid.uuid4().hex[:8]
    # One looks like a stagewall login but carries no marker comment; one is a person's role
    # somebody added to the marker role.
    strays = [f"sw_stray_{tag}", f"dba_{tag}"]
    with psycopg.connect(env.pg_url, autocommit=True) as admin:
        for name in strays:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
            admin.execute(sql.SQL("GRANT stagewall_managed TO {}").format(sql.Identifier(name)))
    try:
        env.clock.advance(timedelta(hours=3))
        rep = sweep(env.ctx)
        assert rep.expired == [gid]
        # prod-db and staging-db are the same database here, so each is seen twice.
        assert sorted(n for n in rep.unattributed if n in strays) == sorted(strays * 2)
        assert not rep.ok and rep.errors == []
        with psycopg.connect(env.pg_url) as admin:
            for name in strays:
                assert admin.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)
                ).fetchone() == (1,)

        def alerted() -> list[str]:
            return sorted(
                a["details"]["login"]
                for a in env.alerts()
                if a["kind"] == "access.orphan.unattributed" and a["details"]["login"] in strays
            )

        assert alerted() == sorted(strays * 2)
        # Alerted once per role and resource, not at every sweep.
        sweep(env.ctx)
        assert alerted() == sorted(strays * 2)
    finally:
        with psycopg.connect(env.pg_url, autocommit=True) as admin:
            for name in strays:
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


MOVED = """
version: 1
environments:
  production: {{tier: production}}
  staging: {{tier: non-production}}
resources:
  shop-db:
    environment: {shop_env}
    kind: postgresql
    host: 127.0.0.1
    port: 5432
    database: {db}
    admin_connection_env: SW_TEST_ADMIN_URL
  shop-db-next:
    environment: staging
    kind: postgresql
    host: db-next.staging.example.internal
vendors:
  devshop:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
principals:
  alice: {{affiliation: internal}}
  bob: {{affiliation: internal}}
  dana: {{affiliation: external, vendor: devshop}}
  erin: {{affiliation: external, vendor: devshop}}
groups:
  sre: {{members: [alice, bob]}}
approval_rules:
  one-sre: {{approvals: 1, from_groups: [sre]}}
roles:
  stg-write:
    environment: staging
    resources: [{stg_resources}]
    access: write
    eligible: [dana, erin]
    approval: one-sre
    max_duration: 8h
{extra_roles}
standing_grants:
  - {{principal: dana, role: stg-write, expires: 2099-01-01}}
"""


def _staging_shop(tmp_path: Path, pg_url: str, store_url: str) -> Env:
    """The MOVED estate with shop-db still a staging database."""
    return Env(
        tmp_path,
        pg_url,
        store_url,
        template=MOVED,
        shop_env="staging",
        stg_resources="shop-db",
        extra_roles="",
    )


PROD_ROLE = """\
  shop-read:
    environment: production
    resources: [shop-db]
    access: read
    eligible: [group:sre]
    approval: one-sre
    max_duration: 2h
"""


def test_logins_on_a_resource_the_role_no_longer_covers_are_revoked_by_the_sweep(
    tmp_path: Path, pg_url: str, sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An external's staging login outlived the move of its database to production: the
    role still existed and the principal could still hold it, so the sweep kept the grant
    (a standing grant: up to a year) and the login on what is now a production database."""
    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    env = _staging_shop(tmp_path, pg_url, sqlite_store_url)
    try:
        env.enrol("alice", "bob", "dana", "erin")
        sweep(env.ctx)  # materialises dana's standing grant
        [standing] = [g for g in list_grants(env.ctx) if g.principal == "dana"]
        [kept] = issue_credentials(env.ctx, standing.id, holder="dana", otp=env.otp("dana"))
        req = request_access(
            env.ctx, requester="erin", role="stg-write", duration=timedelta(hours=4), reason="x"
        )
        res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
        assert res.result_ref
        [jit] = issue_credentials(env.ctx, res.result_ref, holder="erin", otp=env.otp("erin"))
        for cred in (kept, jit):
            connect_as(env, cred.login, cred.password).close()

        # shop-db becomes a production database; staging gets a new one.
        env.config.write_text(
            MOVED.format(
                db=env.db,
                shop_env="production",
                stg_resources="shop-db-next",
                extra_roles=PROD_ROLE,
            ),
            encoding="utf-8",
        )
        env.ctx = env.context()
        rep = sweep(env.ctx)
        assert rep.errors == []
        for cred in (kept, jit):
            with pytest.raises(psycopg.OperationalError):
                connect_as(env, cred.login, cred.password)
        with psycopg.connect(env.pg_url) as admin:
            left = admin.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", ([kept.login, jit.login],)
            ).fetchall()
        assert left == []
        alerts = [a for a in env.alerts() if a["kind"] == "access.invariant.violated"]
        assert {a["details"]["grant"] for a in alerts} == {standing.id, res.result_ref}
        assert all("shop-db" in a["text"] and "production" in a["text"] for a in alerts)
        revoked = [e for e in env.events() if e.code == "access.credential.revoked"]
        assert {e.details["login"] for e in revoked} == {kept.login, jit.login}
        # The grants themselves stay: nothing else about them changed.
        live = {g.id for g in list_grants(env.ctx) if g.live(env.clock.now)}
        assert {standing.id, res.result_ref} <= live
        # A second sweep finds nothing left to do.
        again = sweep(env.ctx)
        assert again.errors == [] and again.unverified == []
    finally:
        cleanup_roles(pg_url, env.ctx.instance_id())


def test_a_grant_made_under_non_production_rules_ends_when_its_role_becomes_production(
    make_env: Any,
) -> None:
    """staging's tier changed to production: 8-hour staging-write grants (one approval, no
    production cap, credentials without MFA) were kept by the sweep as they were, and
    credentials for what is now production could still be issued from them."""
    env: Env = make_env()
    env.enrol("alice", "bob", "carol")
    grants = []
    for who in ("alice", "carol"):
        req = request_access(
            env.ctx, requester=who, role="staging-write", duration=timedelta(hours=8), reason="x"
        )
        res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
        assert res.outcome is Outcome.APPROVED and res.result_ref
        grants.append(res.result_ref)
    text = env.config.read_text("utf-8")
    env.config.write_text(
        text.replace("staging: {tier: non-production}", "staging: {tier: production}"),
        encoding="utf-8",
    )
    env.ctx = env.context()
    with pytest.raises(AccessDenied, match="now a production role"):
        issue_credentials(env.ctx, grants[1], holder="carol", otp=env.otp("carol"))
    rep = sweep(env.ctx)
    assert rep.invalidated == [grants[0]]
    ended = {g.id: g for g in list_grants(env.ctx)}
    for gid in grants:
        assert ended[gid].status.value == "revoked"
        assert "now a production role" in (ended[gid].revoke_reason or "")


def test_a_role_narrowed_in_the_estate_reaches_its_live_logins_at_the_next_sweep(
    tmp_path: Path, pg_url: str, sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role changed from write to read kept writing through every login already
    issued until the role's next issuance (the group was reconciled only there): the
    reload of the estate in the same process (as the server does) must reach them at
    the next sweep."""
    from stagewall.estate import load_estate

    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    with psycopg.connect(pg_url, autocommit=True) as su:
        su.execute("CREATE TABLE public.tickets (id int)")
    env = _staging_shop(tmp_path, pg_url, sqlite_store_url)
    try:
        env.enrol("alice", "bob", "erin")
        req = request_access(
            env.ctx, requester="erin", role="stg-write", duration=timedelta(hours=4), reason="x"
        )
        res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
        [cred] = issue_credentials(env.ctx, res.result_ref, holder="erin", otp=env.otp("erin"))
        with connect_as(env, cred.login, cred.password) as c:
            c.execute("INSERT INTO public.tickets VALUES (1)")
        narrowed = env.config.read_text(encoding="utf-8").replace(
            "    resources: [shop-db]\n    access: write",
            "    resources: [shop-db]\n    access: read",
        )
        assert narrowed != env.config.read_text(encoding="utf-8")
        env.config.write_text(narrowed, encoding="utf-8")
        env.ctx.loaded = load_estate(env.config)  # the server's reload: same context
        rep = sweep(env.ctx)
        assert rep.errors == []
        with connect_as(env, cred.login, cred.password) as c:
            assert c.execute("SELECT count(*) FROM public.tickets").fetchone() == (1,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("INSERT INTO public.tickets VALUES (2)")
    finally:
        cleanup_roles(pg_url, env.ctx.instance_id())
