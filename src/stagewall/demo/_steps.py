"""The demo's steps; each runs real CLI commands and returns a one-line summary."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from stagewall.demo._runner import Outcome, Runner
from stagewall.errors import StagewallError

PG_DEMO_DB = "stagewall_demo_orders"


@dataclass
class PgDemo:
    database: str
    admin_url: str
    host: str
    port: int
    _server_url: str

    preexisting: frozenset[str] = frozenset()

    def cleanup(self, instance: str | None) -> list[str]:
        """Drop the demo database and every cluster-wide role the demo created.

        Returns what was left on the server, each with the reason (shown to the user).
        """
        import json

        import psycopg
        from psycopg import sql

        left: list[str] = []
        try:
            with psycopg.connect(self._server_url, autocommit=True, connect_timeout=3) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)
                    )
                )
                rows = conn.execute(
                    "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles "
                    "WHERE rolname LIKE 'sw\\_%'"
                ).fetchall()
                mine: list[str] = []
                for name, comment in rows:
                    try:
                        doc = json.loads(comment) if comment else {}
                    except ValueError:
                        continue
                    if isinstance(doc, dict) and instance and doc.get("instance") == instance:
                        mine.append(str(name))
                # logins before their groups; then the shared roles if the demo made them
                mine.sort(key=lambda n: n.startswith("sw_grp_"))
                shared = sorted({"stagewall_managed", "stagewall_quarantine"} - self.preexisting)
                for name in mine + shared:
                    try:
                        conn.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE usename = %s",
                            (name,),
                        )
                        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
                    except psycopg.Error as exc:
                        reason = (str(exc).strip().splitlines() or [""])[0]
                        left.append(f"role {name} on {self.host}:{self.port}: {reason}")
        except psycopg.Error as exc:
            reason = (str(exc).strip().splitlines() or [""])[0]
            left.append(
                f"database {self.database} and its roles on {self.host}:{self.port}: {reason}"
            )
        return left


def demo_postgres(directory: Path) -> PgDemo | None:
    """A throwaway PostgreSQL database for the access demo, or None if unreachable.

    Its name is derived from the demo directory so two demos never share one.
    """
    import hashlib

    import psycopg

    database = f"{PG_DEMO_DB}_{hashlib.sha256(str(directory).encode()).hexdigest()[:10]}"
    server = os.environ.get("STAGEWALL_DEMO_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=2) as conn:
            preexisting = frozenset(
                str(r[0])
                for r in conn.execute(
                    "SELECT rolname FROM pg_roles "
                    "WHERE rolname IN ('stagewall_managed', 'stagewall_quarantine')"
                ).fetchall()
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
    except psycopg.Error:
        return None
    admin = server.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL, total_cents int)"
        )
        conn.execute(
            "INSERT INTO orders (status, total_cents) "
            "SELECT (ARRAY['new','paid','shipped'])[1 + i % 3], i * 100 "
            "FROM generate_series(1, 50) i"
        )
    info = psycopg.conninfo.conninfo_to_dict(admin)
    host = str(info.get("host") or "127.0.0.1")
    port = int(str(info.get("port") or 5432))
    return PgDemo(database, admin, host, port, server, preexisting)


# seconds a step must still have for the code of the step before it to be sent
_CODE_MARGIN = 10


@dataclass
class Context:
    directory: Path
    home: Path
    prod_db: Path
    staging_db: Path
    rows: dict[str, int]
    pg: PgDemo | None
    run: Runner
    secrets: dict[str, str] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)
    server: ExitStack = field(default_factory=ExitStack)
    server_url: str = ""
    pipeline_tokens: dict[str, str] = field(default_factory=dict)
    _steps: dict[str, int] = field(default_factory=dict)

    def run_as(self, who: str, *args: str, expect: int = 0, input: str | None = None) -> Outcome:
        """Run a client command as ``who``: their own config dir, their own token."""
        env = {
            "XDG_CONFIG_HOME": str(self.directory / "people" / who),
            "STAGEWALL_SERVER": self.server_url,
        }
        return self.run(*args, expect=expect, input=input, env=env)

    def run_pipeline(self, principal: str, *args: str, expect: int = 0) -> Outcome:
        """Run a client command as the pipeline ``principal`` (a service principal), with
        a per-pipeline token the operator created on the server host (in real CI: the
        platform's OIDC token instead, see docs/gates.md)."""
        token = self.pipeline_tokens.get(principal)
        if token is None:
            made = self.run(
                "server", "pipeline-token", "create", principal, "--ttl-days", "1",
                "--format", "json",
            ).json()  # fmt: skip
            token = self.pipeline_tokens[principal] = str(made["token"])
        env = {
            "XDG_CONFIG_HOME": str(self.directory / "pipelines" / principal),
            "STAGEWALL_SERVER": self.server_url,
            "STAGEWALL_TOKEN": token,
        }
        return self.run(*args, expect=expect, env=env)

    def code(self, who: str) -> str:
        """``who``'s next one-time code (each TOTP step is accepted once). The server
        accepts the steps beside the current one, so up to three codes a step; the
        step before is taken only while the current one has :data:`_CODE_MARGIN`
        seconds left, since sent at a step's end on a slow machine it reaches the
        server two steps old and is refused (a demo failed so, 403 on confirm)."""
        import pyotp

        totp = pyotp.TOTP(self.secrets[who])
        while True:
            at = datetime.now(UTC)
            now = totp.timecode(at)
            left = totp.interval - at.timestamp() % totp.interval
            lowest = now - 1 if left > _CODE_MARGIN else now
            step = max(self._steps.get(who, lowest - 1) + 1, lowest)
            if step <= now + 1:
                self._steps[who] = step
                return str(totp.generate_otp(step))
            time.sleep(1)


def step_keys(ctx: Context) -> str:
    ctx.run("keys", "init")
    pub = ctx.run("keys", "export-public").stdout.strip().splitlines()[0]
    return (
        f"signing key and masking keyring created (mode 0600) in {ctx.home.name}/; "
        f"public key {pub[:40]}..."
    )


def step_check(ctx: Context) -> str:
    out = ctx.run("check", "--format", "json").json()
    return f"stagewall.yaml valid, {len(out['violations'])} invariant violations"


def step_audit(ctx: Context) -> str:
    # A running server writes to the log whenever its own work asks (a notification
    # sent, a grant swept), so a checkpoint taken while it runs can be followed by an
    # event it does not cover, and verify then refuses the unproven tail (SW977). The
    # auditor's copy is taken as an operator would: the server stopped, its in-flight
    # work finished, then a checkpoint that covers every event.
    ctx.server.close()
    ctx.run("audit", "checkpoint")
    verify = ctx.run("audit", "verify", "--format", "json").json()
    bundle = ctx.directory / "audit-bundle"
    ctx.run("audit", "export", "--out", str(bundle))
    pub = ctx.home / "public-pinned.key"
    ctx.run("keys", "export-public", "--out", str(pub))
    ctx.run("audit", "verify", "--bundle", str(bundle), "--public-key", str(pub))
    size = verify.get("size", verify.get("tree_size", "?"))
    return (
        f"{size} events verified (chain, Merkle tree, signed checkpoints); "
        f"offline bundle in {bundle.name}/ verifies against the pinned public key"
    )


def step_masking(ctx: Context) -> str:
    source = f"sqlite:///{ctx.prod_db}"
    target = f"sqlite:///{ctx.staging_db}"
    plan = ctx.directory / "plan.yaml"
    ctx.staging_db.parent.mkdir(parents=True, exist_ok=True)
    ctx.run("mask", "plan", "--source", source, "--out", str(plan))
    ctx.run("mask", "lint", "--plan", str(plan), "--source", source)
    ctx.run("mask", "run", "--plan", str(plan), "--source", source, "--target", target, "--replace")
    verify = ctx.run(
        "mask",
        "verify",
        "--plan",
        str(plan),
        "--source",
        source,
        "--target",
        target,
        "--format",
        "json",
    ).json()
    runs = ctx.run("mask", "runs", "--format", "json").json()
    rows = sum(ctx.rows.values())
    masked = sum(
        1
        for line in plan.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("transformer:") and line.split(":", 1)[1].strip() != "keep"
    )
    return (
        f"{rows} production rows masked into {ctx.staging_db.parent.name}/"
        f"{ctx.staging_db.name} ({masked} sensitive columns); verify found "
        f"{verify['total_hits']} production values; "
        f"{len(runs)} masking record(s) in the audit log"
    )


PEOPLE = ("alice", "bob", "carol", "dana")
_DEMO_PASSWORD = "demo password, not a real one"  # noqa: S105 - the demo's throwaway accounts


def step_server(ctx: Context) -> str:
    """Start ``stagewall serve`` on a loopback port; each person gets an account and logs in."""
    import httpx

    from stagewall.demo._server import start_server

    ctx.stack.callback(ctx.server.close)
    ctx.server_url = ctx.server.enter_context(
        start_server(ctx.directory / "stagewall.yaml", ctx.home)
    )
    for who in PEOPLE:
        inv = ctx.run("server", "invite", who, "--format", "json").json()
        got = httpx.post(
            f"{ctx.server_url}/api/v1/invitations/accept",
            json={"token": inv["token"], "password": _DEMO_PASSWORD},
            timeout=30,
        )
        got.raise_for_status()
        ctx.secrets[who] = got.json()["totp_secret"]
        httpx.post(
            f"{ctx.server_url}/api/v1/invitations/confirm",
            json={"token": inv["token"], "otp": ctx.code(who)},
            timeout=30,
        ).raise_for_status()
        ctx.run_as(who, "login", "--password", input=f"{who}\n{_DEMO_PASSWORD}\n{ctx.code(who)}\n")
    who_am_i = ctx.run_as("dana", "whoami", "--format", "json").json()
    return (
        f"stagewall serve on {ctx.server_url} holds every key; {len(PEOPLE)} people invited, "
        f"accounts with password + TOTP, each logged in with a personal token "
        f"(dana is {', '.join(who_am_i['classes'])})"
    )


def step_access(ctx: Context) -> str:
    refused = ctx.run_as(
        "dana",
        "access",
        "request",
        "--role",
        "prod-pg-read",
        "--for",
        "1h",
        "--reason",
        "debug checkout bug",
        expect=1,
    )
    parts = [f"external dana refused ({refused.stderr.split(':', 1)[0].strip()})"]
    seconds = 6
    req = ctx.run_as(
        "alice",
        "access",
        "request",
        "--role",
        "prod-pg-read",
        "--for",
        f"{seconds}s",
        "--reason",
        "INC-1042 slow checkout",
        "--ticket",
        "INC-1042",
        "--format",
        "json",
    ).json()["request"]
    grant = ctx.run_as(
        "bob",
        "access",
        "review",
        req,
        "--approve",
        "--otp",
        ctx.code("bob"),
        "--reason",
        "on-call incident",
        "--format",
        "json",
    ).json()["grant"]
    parts.append(f"alice's request approved by bob with MFA (grant {grant}, {seconds}s)")
    session = None
    if ctx.pg is not None:
        import psycopg

        creds = ctx.run_as(
            "alice", "access", "credentials", grant, "--otp", ctx.code("alice"), "--format", "json"
        ).json()[0]
        session = psycopg.connect(
            host=ctx.pg.host,
            port=ctx.pg.port,
            dbname=creds["database"],
            user=creds["login"],
            password=creds["password"],
            connect_timeout=5,
        )
        count = session.execute("SELECT count(*) FROM orders").fetchone()
        parts.append(f"login {creds['login']} read {count[0] if count else 0} orders")
    else:
        parts.append("PostgreSQL not reachable: no credentials issued (SQLite-only demo)")
    # No sweep command: the server's own sweeper ends the grant.
    status = "active"
    deadline = time.monotonic() + seconds + 20
    while status == "active" and time.monotonic() < deadline:
        time.sleep(0.5)
        status = next(
            g
            for g in ctx.run_as("alice", "access", "grants", "--format", "json").json()
            if g["id"] == grant
        )["status"]
    if status == "active":
        raise StagewallError(f"grant {grant} is still active after its end")
    if session is not None:
        import psycopg

        try:
            session.execute("SELECT 1")
            alive = True
        except psycopg.Error:
            alive = False
        finally:
            session.close()
        if alive:
            raise StagewallError(f"the session of grant {grant} survived expiry")
        parts.append("at expiry the server's sweeper ended the grant and killed the open session")
    else:
        parts.append(f"at expiry the server's sweeper ended the grant (status {status})")
    return "; ".join(parts)


def _git(repo: Path, *args: str, author: tuple[str, str] | None = None) -> str:
    import subprocess

    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    if author:
        env.update(
            {
                "GIT_AUTHOR_NAME": author[0],
                "GIT_AUTHOR_EMAIL": author[1],
                "GIT_COMMITTER_NAME": author[0],
                "GIT_COMMITTER_EMAIL": author[1],
            }
        )
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def step_gates(ctx: Context) -> str:
    import hashlib

    repo = ctx.directory / "app"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    dana = ("Dana Contractor", "dana@devshop.example")
    for n, text in enumerate(["checkout v1\n", "checkout v2: faster totals\n"]):
        (repo / "checkout.txt").write_text(text, encoding="utf-8")
        _git(repo, "add", "checkout.txt")
        _git(repo, "commit", "-q", "-m", f"checkout change {n + 1}", author=dana)
    sha = _git(repo, "rev-parse", "HEAD")
    digest = "sha256:" + hashlib.sha256((repo / "checkout.txt").read_bytes()).hexdigest()
    common = ["--change", sha, "--artifact", digest]
    for stage in ("staging", "production"):
        sub = ctx.run_pipeline(
            "ci-bot",
            "gate",
            "submit",
            "--repo",
            str(repo),
            *common,
            "--to",
            stage,
            "--format",
            "json",
        ).json()
        ctx.run_pipeline(
            "ci-bot",
            "gate",
            "report",
            "--change",
            sha,
            "--stage",
            stage,
            "--check",
            "tests",
            "--status",
            "pass",
        )
        if stage == "staging":
            ctx.run_pipeline("deploy-bot", "gate", "check", *common, "--to", stage)
    promotion = sub["promotion"] if "promotion" in sub else sub["id"]
    refused = ctx.run_pipeline(
        "deploy-bot", "gate", "check", *common, "--to", "production", expect=1
    )
    ctx.run_as(
        "carol",
        "gate",
        "approve",
        promotion,
        "--otp",
        ctx.code("carol"),
        "--reason",
        "reviewed the checkout diff",
    )
    attestation = ctx.directory / "attestation.json"
    ctx.run_pipeline(
        "deploy-bot",
        "gate",
        "check",
        *common,
        "--to",
        "production",
        "--out",
        str(attestation),
    )
    pinned = ctx.home / "public-pinned.pem"
    ctx.run("keys", "export-public", "--out", str(pinned))
    ctx.run("gate", "verify", str(attestation), "--public-key", str(pinned))
    first_line = (refused.stderr or refused.stdout).strip().splitlines()[0]
    first_reason = first_line.split("refused:", 1)[-1].strip()[:70]
    return (
        f"dana's change {sha[:10]} went to staging; production refused before approval "
        f"({first_reason}...); approved by carol with MFA; signed attestation "
        f"{attestation.name} verifies offline"
    )


_INFRA = {
    "envs/prod/app.env": (
        "# production settings (secrets come from the vault at deploy time)\n"
        "DATABASE_URL=postgresql://app@10.20.0.5:5432/orders?sslmode=require\n"
    ),
    "envs/staging/app.env": (
        "# staging settings: someone pointed staging at the production database\n"
        "DATABASE_URL=postgresql://app@10.20.0.5:5432/orders?sslmode=disable\n"
    ),
    "envs/staging/refresh.sh": (
        "#!/bin/sh\n"
        "# nightly refresh of staging, copying production without masking\n"
        "pg_dump -h 10.20.0.5 -U app orders | psql -h db.staging.demo-shop.internal orders\n"
    ),
}


def step_scan(ctx: Context) -> str:
    infra = ctx.directory / "infra"
    for rel, text in _INFRA.items():
        target = infra / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    sarif = ctx.directory / "scan.sarif"
    ctx.run("scan", str(infra), "--format", "sarif", "--out", str(sarif), expect=1)
    out = ctx.run("scan", str(infra), "--format", "json", expect=1).json()
    by_rule = out["counts"]["by_rule"]
    rules = ", ".join(f"{rule} x{n}" for rule, n in sorted(by_rule.items()))
    return (
        f"planted configuration mistakes found in {infra.name}/ ({rules}); "
        f"SARIF for code scanning in {sarif.name}"
    )


Step = Callable[[Context], str]
STEPS: list[tuple[str, Step]] = [
    ("keys", step_keys),
    ("estate check", step_check),
    ("masked staging data", step_masking),
    ("the server", step_server),
    ("production access", step_access),
    ("promotion gates", step_gates),
    ("configuration scan", step_scan),
    ("audit log", step_audit),
]
