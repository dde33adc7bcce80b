"""A real git repository, an estate, a store, keys and enrolled TOTP secrets per test."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

from stagewall.estate import load_estate
from stagewall.keys import init_keys
from stagewall.mfa import enroll
from stagewall.store import open_store
from tests.cli_helpers import Result, run_cli

ESTATE = """\
version: 1
organisation: Gate Test Ltd
environments:
  staging: {tier: non-production}
  production: {tier: production}
vendors:
  devshop: {contract_start: 2026-01-01, contract_end: 2030-12-31}
principals:
  alice: {affiliation: internal, emails: [alice@example.com, alice@home.example]}
  bob: {affiliation: internal, emails: [bob@example.com]}
  carol: {affiliation: internal, emails: [carol@example.com]}
  dana: {affiliation: external, vendor: devshop, emails: [dana@devshop.example]}
  ci-bot: {kind: service, affiliation: internal}
  deploy-bot: {kind: service, affiliation: internal}
groups:
  sre: {members: [alice, bob, carol]}
approval_rules:
  one-sre: {approvals: 1, from_groups: [sre]}
stages:
  - name: staging
    environment: staging
    checks: [tests]
  - name: production
    environment: production
    checks: [tests]
    approval: one-sre
    deployers: [deploy-bot]
    require_signed_commits: false  # explicit opt-out: these tests use unsigned commits
alerts:
  - type: file
    path: alerts.jsonl
"""

NAMES = {
    "alice@example.com": "Alice",
    "alice@home.example": "Alice (home)",
    "bob@example.com": "Bob",
    "carol@example.com": "Carol",
    "dana@devshop.example": "Dana",
    "mallory@nowhere.example": "Mallory",
}


def git_env(author: str, committer: str | None = None) -> dict[str, str]:
    committer = committer or author
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": NAMES.get(author, author),
            "GIT_AUTHOR_EMAIL": author,
            "GIT_COMMITTER_NAME": NAMES.get(committer, committer),
            "GIT_COMMITTER_EMAIL": committer,
        }
    )
    return env


@dataclass
class World:
    root: Path
    repo: Path
    config: Path
    db: str
    secrets: dict[str, str]
    used: dict[str, int] = field(default_factory=dict)
    counter: int = 0
    stack: ExitStack = field(default_factory=ExitStack)
    _url: str | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    def server(self) -> str:
        """A live ``stagewall serve`` over this world's store (started on first use)."""
        if self._url is None:
            from stagewall.paths import home
            from stagewall.server import ServerState
            from tests.live_server import serve

            state = ServerState.open(self.config, self.db, home())
            self._url = self.stack.enter_context(serve(state, run_sweeper=False))
        return self._url

    def token(self, who: str) -> str:
        """``who``'s token, minted by the test as the server's operator: a personal token
        for a person, a pipeline token for a service principal."""
        if who not in self._tokens:
            from datetime import UTC, datetime

            from stagewall.identity.actor import LoginMethod
            from stagewall.identity.tokens import TokenKind, issue_token

            loaded = load_estate(self.config)
            p = loaded.estate.principals.get(who)
            service = p is not None and p.kind.value == "service"
            store = open_store(self.db)
            self._tokens[who] = issue_token(
                store,
                who,
                kind=TokenKind.PIPELINE if service else TokenKind.API,
                method=LoginMethod.PIPELINE_TOKEN if service else LoginMethod.LOCAL,
                now=datetime.now(UTC),
            ).secret
            store.dispose()
        return self._tokens[who]

    def as_person(self, who: str, *args: str) -> Result:
        """Run a client command of the CLI with ``who``'s token against the live server."""
        return run_cli(
            *args, env={"STAGEWALL_SERVER": self.server(), "STAGEWALL_TOKEN": self.token(who)}
        )

    def git(
        self, *args: str, author: str = "alice@example.com", committer: str | None = None
    ) -> str:
        proc = subprocess.run(
            ["git", "-C", str(self.repo), *args],
            env=git_env(author, committer),
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout.strip()

    def commit(
        self,
        author: str,
        committer: str | None = None,
        *,
        message: str = "change",
        sign: list[str] | None = None,
    ) -> str:
        self.counter += 1
        (self.repo / f"file{self.counter}.txt").write_text(f"{author} {self.counter}\n")
        self.git("add", "-A", author=author)
        self.git(*(sign or []), "commit", "-q", "-m", message, author=author, committer=committer)
        return self.git("rev-parse", "HEAD")

    def otp(self, principal: str) -> str:
        """A fresh code: the current 30 s step, then the next (each code works once)."""
        n = self.used.get(principal, 0)
        self.used[principal] = n + 1
        if n > 1:
            raise RuntimeError(f"test uses more than two codes of {principal} in one step")
        totp = pyotp.TOTP(self.secrets[principal])
        import time

        return totp.at(time.time() + 30 * n)

    def cli(self, *args: str) -> Result:
        return run_cli(*args, "--config", str(self.config), "--db", self.db)

    def gate(self, *args: str) -> Result:
        """``stagewall gate ...`` against the server with the token of the test's
        ``--as NAME`` (the CLI has no --as: the token says who acts). Default: alice for
        people's commands, ci-bot for report and check. ``verify`` runs offline."""
        if args and args[0] == "verify":
            return run_cli("gate", *args)
        argv = list(args)
        who = "ci-bot" if args and args[0] in ("report", "check") else "alice"
        if "--as" in argv:
            i = argv.index("--as")
            who = argv[i + 1]
            del argv[i : i + 2]
        return self.as_person(who, "gate", *argv)


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def make_world(root: Path, estate_text: str = ESTATE, db: str | None = None) -> World:
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=git_env("x@x"))
    config = root / "stagewall.yaml"
    config.write_text(estate_text, encoding="utf-8")
    db = db or f"sqlite:///{root / 'store.db'}"
    init_keys(name="gates.test/key")
    store = open_store(db)
    loaded = load_estate(config)
    secrets = {
        p: enroll(store, loaded.estate, p).secret
        for p in ("alice", "bob", "carol", "dana")
        if p in loaded.estate.principals
    }
    store.dispose()
    return World(root, repo, config, db, secrets)


@pytest.fixture
def world(tmp_path: Path, migrated_sqlite_store_url: str) -> Iterator[World]:
    w = make_world(tmp_path, db=migrated_sqlite_store_url)
    with w.stack:
        yield w


@pytest.fixture
def gnupghome(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short GNUPGHOME (gpg-agent's socket path must stay short)."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = Path(tempfile.mkdtemp(prefix="swg", dir="/tmp"))
    home.chmod(0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    try:
        yield home
    finally:
        subprocess.run(
            ["gpgconf", "--kill", "all"], env={**os.environ, "GNUPGHOME": str(home)}, check=False
        )
        shutil.rmtree(home, ignore_errors=True)


def submit(w: World, sha: str, art: str, stage: str, who: str) -> str:
    r = w.gate(
        "submit",
        "--repo",
        str(w.repo),
        "--change",
        sha,
        "--artifact",
        art,
        "--to",
        stage,
        "--as",
        who,
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    import json

    pid: str = json.loads(r.stdout)["id"]
    return pid


def report(w: World, sha: str, stage: str, status: str = "pass", check: str = "tests") -> None:
    r = w.gate(
        "report",
        "--change",
        sha,
        "--stage",
        stage,
        "--check",
        check,
        "--status",
        status,
        "--as",
        "ci-bot",
    )
    assert r.exit_code == 0, r.stderr


def gate_check(w: World, sha: str, art: str, stage: str, out: str | None = None) -> Result:
    args = ["check", "--change", sha, "--artifact", art, "--to", stage]
    if stage == "production":
        args += ["--as", "deploy-bot"]
    if out:
        args += ["--out", out]
    return w.gate(*args)


def to_staging(w: World, sha: str, art: str, who: str = "dana") -> None:
    submit(w, sha, art, "staging", who)
    report(w, sha, "staging")
    r = gate_check(w, sha, art, "staging")
    assert r.exit_code == 0, r.stderr


def approve(w: World, pid: str, who: str) -> Result:
    """``gate approve`` by ``who``, logged in to the server with their own token."""
    return w.as_person(who, "gate", "approve", pid, "--otp", w.otp(who))
