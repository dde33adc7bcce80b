"""A server world: an estate, a store, the server's keys, people with local accounts.

The test plays two parts. As the *operator* of the server host it creates
invitations with the library (as ``stagewall server invite`` does). As each
*person* it talks to the server over HTTP only, with that person's own token:
nothing the tests send as a person carries a name the server believes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient

from stagewall.identity import accounts
from stagewall.keys import init_keys
from stagewall.server import ServerState, create_app

ESTATE = """
version: 1
scan: {{reporters: [os:ci]}}  # the actor the tests' scan events carry
environments:
  production: {{tier: production}}
  staging: {{tier: non-production}}
resources:
  prod-db:
    environment: production
    kind: postgresql
    host: 127.0.0.1
    port: 5432
    database: {db}
    admin_connection_env: SW_TEST_ADMIN_URL
  staging-db:
    environment: staging
    kind: postgresql
    host: 127.0.0.1
    port: 5432
    database: {db}
    admin_connection_env: SW_TEST_ADMIN_URL
vendors:
  auditfirm:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
  devshop:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
principals:
  alice: {{affiliation: internal, emails: [alice@example.com]}}
  bob: {{affiliation: internal}}
  carol: {{affiliation: internal}}
  audrey: {{affiliation: external, vendor: auditfirm}}
  dana: {{affiliation: external, vendor: devshop}}
  deploybot: {{affiliation: internal, kind: service}}
groups:
  sre: {{members: [alice, bob, carol]}}
approval_rules:
  one-sre: {{approvals: 1, from_groups: [sre]}}
roles:
  prod-read:
    environment: production
    resources: [prod-db]
    access: read
    eligible: [group:sre, deploybot]
    approval: one-sre
    max_duration: 2h
    break_glass: true
  staging-write:
    environment: staging
    resources: [staging-db]
    access: write
    eligible: [group:sre, dana]
    approval: one-sre
    max_duration: 8h
monitoring:
  sources:
    pg-prod: {{type: postgresql, resource: prod-db, max_gap: 1h}}
    bastion-ssh: {{type: sshd, trust_program_names: true}}
    gh: {{type: github}}
alerts:
  - type: file
    path: alerts.jsonl
server:
  admins: [carol]
  auditors: [audrey]
  sweep_interval_seconds: 0.2
  webauthn:
    rp_id: stagewall.example.com
    origins: [https://stagewall.example.com]
"""

PASSWORD = "correct horse battery staple"


class Clock:
    """The server's clock in tests: real time at the start, moved on explicitly."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Person:
    """One person at their own terminal: their token, their authenticator."""

    def __init__(self, world: World, name: str, secret: str) -> None:
        self.world = world
        self.name = name
        self.secret = secret
        self.token: str | None = None
        self._last_step = -1

    def otp(self) -> str:
        """A code for a fresh TOTP step: the server's test clock moves on 31 s per code."""
        self.world.clock.advance(timedelta(seconds=31))
        return str(pyotp.TOTP(self.secret).at(self.world.clock()))

    def login(self) -> str:
        res = self.world.client.post(
            "/api/v1/session",
            json={"principal": self.name, "password": PASSWORD, "otp": self.otp()},
        )
        assert res.status_code == 200, res.text
        self.token = res.json()["token"]
        return self.token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token or self.login()}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.world.client.get(path, headers=self.headers(), **kw)

    def post(self, path: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.world.client.post(path, json=body or {}, headers=self.headers(), **kw)


class World:
    def __init__(self, tmp: Path, pg_db: str, store_url: str) -> None:
        self.store_url = store_url
        self.config = tmp / "stagewall.yaml"
        self.config.write_text(ESTATE.format(db=pg_db), encoding="utf-8")
        self.home = tmp / "server-home"
        init_keys(self.home)
        self.clock = Clock()
        self.state = ServerState.open(self.config, store_url, self.home)
        self.state.clock = self.clock
        self.state.ctx.clock = self.clock
        self.app = create_app(self.state, run_sweeper=False)
        self.client = TestClient(self.app)
        self.people: dict[str, Person] = {}

    def invite(self, name: str) -> str:
        inv = accounts.create_invitation(
            self.state.ctx.store,
            self.state.estate,
            name,
            created_by="server-operator",
            now=self.clock(),
        )
        return inv.token

    def onboard(self, name: str) -> Person:
        token = self.invite(name)
        res = self.client.post(
            "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD}
        )
        assert res.status_code == 200, res.text
        person = Person(self, name, res.json()["totp_secret"])
        res = self.client.post(
            "/api/v1/invitations/confirm", json={"token": token, "otp": person.otp()}
        )
        assert res.status_code == 200, res.text
        self.people[name] = person
        return person

    def settle(self) -> None:
        """Let a day pass: everyone onboarded by invitation is out of its quarantine.

        A first factor enrolled through an invitation approves nothing for
        ``accounts.RESET_QUARANTINE``; tests of approvals start after that day, as a real
        team's do (logins of the day before have expired, so everyone signs in again).
        """
        self.clock.advance(accounts.RESET_QUARANTINE + timedelta(minutes=1))
        for person in self.people.values():
            person.token = None

    def events(self) -> list[Any]:
        from stagewall.audit import AuditLog

        return AuditLog(self.state.ctx.store).events()

    def alerts(self) -> list[dict[str, Any]]:
        path = self.config.parent / "alerts.jsonl"
        if not path.exists():
            return []
        return [json.loads(x) for x in path.read_text().splitlines()]


@contextmanager
def open_world(
    tmp_path: Path, pg_url: str, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """A World whose store is ``store_url`` (SQLite or PostgreSQL), closed afterwards."""
    from tests.access.conftest import cleanup_roles

    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    w = World(tmp_path, pg_url.rsplit("/", 1)[1], store_url)
    # The CLI of these tests runs on the server host: the server's state directory (its
    # token key signs the pipeline and ingest tokens `stagewall server ...` makes).
    monkeypatch.setenv("STAGEWALL_HOME", str(w.home))
    try:
        yield w
    finally:
        try:
            cleanup_roles(pg_url, w.state.ctx.instance_id())
        finally:
            w.app.state.ingest.close()
            w.state.ci.close()  # its JWKS connections (the test client runs no lifespan)
            w.client.close()


@pytest.fixture
def world(
    tmp_path: Path, pg_url: str, migrated_sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    with open_world(tmp_path, pg_url, migrated_sqlite_store_url, monkeypatch) as w:
        yield w


@pytest.fixture
def pg_world(
    tmp_path: Path, pg_url: str, pg_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """The server world with its store on PostgreSQL (whose driver refuses NUL bytes)."""
    with open_world(tmp_path, pg_url, pg_store_url, monkeypatch) as w:
        yield w


@pytest.fixture
def people(world: World) -> dict[str, Person]:
    return sign_up_people(world)


def sign_up_people(world: World) -> dict[str, Person]:
    """Onboard and log in alice, bob, carol, audrey and dana."""
    for name in ("alice", "bob", "carol", "audrey", "dana"):
        world.onboard(name)
    world.settle()
    for person in world.people.values():
        person.login()
    return world.people


def pg_session(cred: dict[str, Any]) -> Any:
    """A session on the local PostgreSQL with an issued credential (as its holder would)."""
    import psycopg

    return psycopg.connect(
        host="127.0.0.1",
        port=5432,
        dbname=cred["database"],
        user=cred["login"],
        password=cred["password"],
        autocommit=True,
    )
