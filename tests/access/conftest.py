"""Fixtures for access tests: an estate on the real local PostgreSQL, a fake clock, TOTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pyotp
import pytest
from psycopg import sql

from stagewall import mfa
from stagewall.access import AccessContext
from stagewall.alerts import FileAlertSink
from tests.conftest import PG_ADMIN_DSN as _PG_ADMIN_DSN
from tests.conftest import PgCluster

ESTATE = """
version: 1
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
  devshop:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
  nonda:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    dpa_signed: 2020-01-01
  oldco:
    contract_start: 2020-01-01
    contract_end: 2021-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
principals:
  alice: {{affiliation: internal}}
  bob: {{affiliation: internal}}
  carol: {{affiliation: internal}}
  ghost: {{affiliation: internal, disabled: true}}
  deploybot: {{affiliation: internal, kind: service}}
  dana: {{affiliation: external, vendor: devshop}}
  erin: {{affiliation: external, vendor: devshop}}
  nick: {{affiliation: external, vendor: nonda}}
  olga: {{affiliation: external, vendor: oldco}}
groups:
  sre: {{members: [alice, bob, carol]}}
approval_rules:
  one-sre: {{approvals: 1, from_groups: [sre]}}
  two-sre: {{approvals: 2, from_groups: [sre]}}
roles:
  prod-read:
    environment: production
    resources: [prod-db]
    access: read
    eligible: [group:sre, ghost{extra_eligible}]
    approval: {prod_rule}
    max_duration: 2h
    pending_ttl: 1h
    break_glass: true
    connection_limit: 30
  staging-write:
    environment: staging
    resources: [staging-db]
    access: write
    eligible: [group:sre, dana, nick, olga]
    approval: one-sre
    max_duration: 8h
standing_grants:
{standing}
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Env:
    """One test's world: estate file, store, context, clock, MFA secrets, alerts file."""

    def __init__(
        self, tmp: Path, pg_url: str, store_url: str, template: str = ESTATE, **fmt: str
    ) -> None:
        self.db = pg_url.rsplit("/", 1)[1]
        self.pg_url = pg_url
        self.config = tmp / "stagewall.yaml"
        values = {"db": self.db, "extra_eligible": "", "prod_rule": "one-sre", "standing": "  []"}
        values.update(fmt)
        self.template = template
        self.config.write_text(template.format(**values), encoding="utf-8")
        self.store_url = store_url
        self.alerts_path = tmp / "alerts.jsonl"
        self.clock = Clock()
        self.secrets: dict[str, str] = {}
        self.ctx = self.context()

    def context(self) -> AccessContext:
        return AccessContext.open(
            self.config, self.store_url, sinks=[FileAlertSink(self.alerts_path)], clock=self.clock
        )

    def enrol(self, *names: str) -> None:
        for name in names:
            self.secrets[name] = mfa.enroll(self.ctx.store, self.ctx.estate, name).secret

    def otp(self, name: str) -> str:
        """A fresh code: advances the clock one TOTP step so codes never repeat."""
        self.clock.advance(timedelta(seconds=30))
        return pyotp.TOTP(self.secrets[name]).at(self.clock.now)

    def alerts(self) -> list[dict[str, Any]]:
        if not self.alerts_path.exists():
            return []
        return [json.loads(line) for line in self.alerts_path.read_text().splitlines()]

    def events(self) -> list[Any]:
        return self.ctx.audit.events()


def cleanup_roles(pg_url: str, instance: str | None) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE %s",
            (f'%"instance": "{instance}"%',),
        ).fetchall()
        names = [r[0] for r in rows]
        # logins first, then groups
        for name in sorted(names, key=lambda n: n.startswith("sw_grp_")):
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (name,),
            )
            ident = psycopg.sql.Identifier(name)
            conn.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(ident))
            conn.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(ident))


@pytest.fixture
def make_env(
    tmp_path: Path, pg_url: str, migrated_sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    made: list[Env] = []

    def make(store_url: str | None = None, **fmt: str) -> Env:
        env = Env(tmp_path, pg_url, store_url or migrated_sqlite_store_url, **fmt)
        made.append(env)
        return env

    try:
        yield make
    finally:
        for env in made:
            try:
                instance = env.ctx.instance_id()
            except Exception:
                continue
            cleanup_roles(pg_url, instance)


@pytest.fixture
def env(make_env: Any) -> Env:
    e: Env = make_env()
    e.enrol("alice", "bob", "carol")
    return e


def connect_as(
    env: Env, login: str, password: str, *, port: int = 5432, db: str | None = None
) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host="127.0.0.1",
        port=port,
        dbname=db or env.db,
        user=login,
        password=password,
        autocommit=True,
        connect_timeout=5,
    )


class ScramWorld:
    """A resource database on the SCRAM cluster, run the documented least-privilege way.

    ``app`` (NOLOGIN) owns the database and its tables; ``admin`` is the login
    stagewall uses: LOGIN CREATEROLE, member of ``pg_signal_backend`` and of ``app``
    (docs/access.md, "The admin role"). ``superuser`` is for test set-up only.
    """

    def __init__(self, cluster: PgCluster) -> None:
        tag = uuid.uuid4().hex[:10]
        self.cluster = cluster
        self.port = cluster.port
        self.db = f"sw_test_{tag}"
        self.app = f"app_{tag}"
        self.admin = f"swadm_{tag}"
        self.admin_password = uuid.uuid4().hex + "%/@:"
        self.superuser = cluster.superuser_url()
        with psycopg.connect(self.superuser, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(self.app)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(self.db), sql.Identifier(self.app)
                )
            )
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                    sql.Identifier(self.admin), sql.Literal(self.admin_password)
                )
            )
            conn.execute(
                sql.SQL("GRANT pg_signal_backend, {} TO {}").format(
                    sql.Identifier(self.app), sql.Identifier(self.admin)
                )
            )
        self.admin_url = cluster.url(self.admin, self.admin_password, self.db)

    def as_app(self) -> psycopg.Connection[Any]:
        """A connection to the resource database acting as the owning application role."""
        conn = psycopg.connect(self.cluster.superuser_url(self.db), autocommit=True)
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.app)))
        return conn

    def superuser_conn(self, db: str | None = None) -> psycopg.Connection[Any]:
        return psycopg.connect(self.cluster.superuser_url(db or self.db), autocommit=True)

    def drop(self, instance: str | None) -> None:
        with psycopg.connect(self.superuser, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db))
            )
        if instance is not None:
            cleanup_roles(self.cluster.superuser_url(), instance)
        with psycopg.connect(self.superuser, autocommit=True) as conn:
            for role in (self.admin, self.app):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


SCRAM_ESTATE = """
version: 1
environments:
  production: {{tier: production}}
resources:
  prod-db:
    environment: production
    kind: postgresql
    host: 127.0.0.1
    port: {port}
    database: {db}
    admin_connection_env: SW_TEST_SCRAM_ADMIN_URL
principals:
  alice: {{affiliation: internal}}
  bob: {{affiliation: internal}}
  carol: {{affiliation: internal}}
groups:
  sre: {{members: [alice, bob, carol]}}
approval_rules:
  one-sre: {{approvals: 1, from_groups: [sre]}}
roles:
  prod-read:
    environment: production
    resources: [prod-db]
    access: read
    eligible: [group:sre]
    approval: one-sre
    max_duration: 2h
  prod-admin:
    environment: production
    resources: [prod-db]
    access: admin
    create_objects: true
    eligible: [group:sre]
    approval: one-sre
    max_duration: 2h
{extra_roles}
standing_grants: []
"""


@pytest.fixture
def scram_env(
    tmp_path: Path, pg_scram: PgCluster, sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Env, ScramWorld]]:
    """An access Env whose production database lives on the SCRAM cluster."""
    world = ScramWorld(pg_scram)
    monkeypatch.setenv("SW_TEST_SCRAM_ADMIN_URL", world.admin_url)
    env = Env(
        tmp_path,
        world.cluster.superuser_url(world.db),
        sqlite_store_url,
        template=SCRAM_ESTATE,
        port=str(world.port),
        extra_roles="",
    )
    env.enrol("alice", "bob", "carol")
    try:
        yield env, world
    finally:
        try:
            instance: str | None = env.ctx.instance_id()
        except Exception:
            instance = None
        world.drop(instance)


CLIENT_COMMANDS = {"access", "mfa", "review", "vendor", "whoami", "logout", "gate"}
LOCAL_COMMANDS = {("access", "sweep")}


class CliWorld:
    """The same estate driven through the real CLI, with the real clock.

    ``otp`` hands out codes for strictly increasing TOTP steps (the current one,
    then the next), so replay protection never trips a test by accident; asking
    for a third code of one principal within one 30-second step is a test bug.
    """

    def __init__(self, tmp: Path, **fmt: str) -> None:
        self.config = tmp / "stagewall.yaml"
        values = {"db": "unused", "extra_eligible": "", "prod_rule": "one-sre", "standing": "  []"}
        values.update(fmt)
        self.config.write_text(ESTATE.format(**values), encoding="utf-8")
        self.db_path = tmp / "cli-store.db"
        self.db = f"sqlite:///{self.db_path}"
        self.env = {"STAGEWALL_CONFIG": str(self.config), "STAGEWALL_DB": self.db}
        self.secrets: dict[str, str] = {}
        self._last_step: dict[str, int] = {}
        self.tokens = {}
        self.stack = ExitStack()

    url: str | None = None
    tokens: dict[str, str]

    def run(self, *args: str, env: dict[str, str] | None = None) -> Any:
        """Run the CLI. Client commands go to a live server with the ``--as`` person's
        own token (``--as`` is taken out; it is not an option of the CLI any more)."""
        from tests.cli_helpers import run_cli

        argv = list(args)
        extra = dict(env or {})
        if argv and argv[0] in CLIENT_COMMANDS and tuple(argv[:2]) not in LOCAL_COMMANDS:
            who = "bob"
            if "--as" in argv:
                i = argv.index("--as")
                who = argv[i + 1]
                del argv[i : i + 2]
            extra.setdefault("STAGEWALL_SERVER", self.server())
            extra.setdefault("STAGEWALL_TOKEN", self.token(who))
        return run_cli(*argv, env={**self.env, **extra})

    def home(self) -> str:
        from stagewall.paths import home

        return self.env.get("STAGEWALL_HOME") or str(home())

    def server(self) -> str:
        """A live ``stagewall serve`` over this world's store (started on first use)."""
        if self.url is None:
            from stagewall.server import ServerState
            from tests.live_server import serve

            state = ServerState.open(self.config, self.db, self.home())
            self.url = self.stack.enter_context(serve(state, run_sweeper=False))
        return self.url

    def token(self, who: str) -> str:
        """``who``'s token, minted by the test as the server's operator."""
        if who not in self.tokens:
            from stagewall.identity.actor import LoginMethod
            from stagewall.identity.tokens import TokenKind, issue_token
            from stagewall.store import open_store

            if who not in ("alice", "bob", "carol", "dana", "erin", "ghost"):
                return "swt_not-a-known-token"
            store = open_store(self.db)
            self.tokens[who] = issue_token(
                store, who, kind=TokenKind.API, method=LoginMethod.LOCAL, now=datetime.now(UTC)
            ).secret
            store.dispose()
        return self.tokens[who]

    def ok(self, *args: str) -> Any:
        res = self.run(*args)
        if res.exit_code != 0:
            raise AssertionError(f"{args} exited {res.exit_code}: {res.stderr}{res.stdout}")
        return res

    def enrol(self, *names: str) -> None:
        """Enrol TOTP for ``names`` with the library (the test is the server's operator)."""
        from stagewall.estate import load_estate
        from stagewall.store import open_store

        store = open_store(self.db)
        estate = load_estate(self.config).estate
        for name in names:
            self.secrets[name] = mfa.enroll(store, estate, name, home=self.home()).secret
        store.dispose()

    def otp(self, name: str) -> str:
        totp = pyotp.TOTP(self.secrets[name])
        current = totp.timecode(datetime.now(UTC))
        step = max(self._last_step.get(name, current - 1) + 1, current)
        if step > current + 1:
            raise RuntimeError(f"test asked for too many codes of {name} in one TOTP step")
        self._last_step[name] = step
        return str(totp.generate_otp(step))

    def context(self) -> AccessContext:
        return AccessContext.open(self.config, self.db)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[CliWorld]:
    w = CliWorld(tmp_path)
    with w.stack:
        yield w


# -- production on the shared cluster, staging on the SCRAM cluster --------------------

SPLIT = ESTATE.replace(
    """    database: {db}
    admin_connection_env: SW_TEST_ADMIN_URL
vendors:""",
    """    database: {staging_db}
    admin_connection_env: SW_TEST_STAGING_ADMIN_URL
vendors:""",
).replace("  staging-db:\n    environment: staging\n    kind: postgresql\n    host: 127.0.0.1\n"
          "    port: 5432", "  staging-db:\n    environment: staging\n    kind: postgresql\n"
          "    host: 127.0.0.1\n    port: {staging_port}")  # fmt: skip


@pytest.fixture
def split(
    tmp_path: Path,
    pg_url: str,
    pg_scram: PgCluster,
    sqlite_store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    assert SPLIT != ESTATE and "{staging_port}" in SPLIT
    world = ScramWorld(pg_scram)
    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    monkeypatch.setenv("SW_TEST_STAGING_ADMIN_URL", world.admin_url)
    env = Env(
        tmp_path,
        pg_url,
        sqlite_store_url,
        template=SPLIT,
        staging_db=world.db,
        staging_port=str(world.port),
    )
    env.enrol("alice", "bob", "carol")
    try:
        yield env, world, monkeypatch
    finally:
        instance = env.ctx.instance_id()
        world.drop(instance)
        cleanup_roles(pg_url, instance)
        with psycopg.connect(_PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(world.db))
            )
