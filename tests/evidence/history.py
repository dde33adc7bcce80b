"""An estate with a recorded history, made through the real library functions.

Access (requests, MFA reviews, break-glass and its follow-up, a campaign, sweeps)
runs on a fake clock; promotions go through the real gate over a real git
repository; a masking run and a scan are recorded as the masking and scan code
records them. Only the database logins of one grant are inserted directly (issuing
them needs a production database); their rows are what the issuer writes.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import insert

from stagewall import mfa
from stagewall.access import (
    AccessContext,
    break_glass,
    close_campaign,
    complete_follow_up,
    decide,
    request_access,
    review_request,
    start_campaign,
    sweep,
)
from stagewall.access._core import fmt_time
from stagewall.access._tables import access_campaign_items, access_credentials
from stagewall.alerts import FileAlertSink
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.estate import load_estate
from stagewall.evidence import EvidenceInputs, Window
from stagewall.gates import Gate
from stagewall.gates import check as gate_check
from stagewall.keys import init_keys, load_public_key, load_signing_key
from stagewall.masking.record import MaskingRecord, RunStatus, Verification, record_run
from stagewall.scan._audit import SCAN_COMPLETED

ESTATE = """\
version: 1
organisation: Evidence Test Ltd
environments:
  production: {tier: production}
  staging: {tier: non-production}
resources:
  prod-db: {environment: production, kind: postgresql, host: db.prod.internal, database: shop}
  staging-db: {environment: staging, kind: postgresql, host: db.staging.internal, database: shop}
vendors:
  devshop:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
principals:
  alice: {affiliation: internal, emails: [alice@example.com]}
  bob: {affiliation: internal, emails: [bob@example.com]}
  carol: {affiliation: internal, emails: [carol@example.com]}
  dana: {affiliation: external, vendor: devshop, emails: [dana@devshop.example]}
  erin: {affiliation: external, vendor: devshop, emails: [erin@devshop.example]}
  ci-bot: {kind: service, affiliation: internal}
  deploy-bot: {kind: service, affiliation: internal}
groups:
  sre: {members: [alice, bob, carol]}
approval_rules:
  one-sre: {approvals: 1, from_groups: [sre]}
roles:
  prod-read:
    environment: production
    resources: [prod-db]
    eligible: [group:sre]
    approval: one-sre
    max_duration: 2h
    break_glass: true
  staging-write:
    environment: staging
    resources: [staging-db]
    access: write
    eligible: [group:sre, dana, erin]
    approval: one-sre
    max_duration: 8h
stages:
  - name: staging
    environment: staging
    checks: [tests]
  - name: production
    environment: production
    checks: [tests]
    approval: one-sre
    deployers: [deploy-bot]
    # the history's commits are unsigned; production requires signatures by default
    require_signed_commits: false
alerts:
  - type: file
    path: alerts.jsonl
scan:
  reporters: [os:ci]  # the CI runner's OS user, as `stagewall scan` records it
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def _git(repo: Path, *args: str, email: str = "dana@devshop.example") -> str:
    env = {
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": email.split("@")[0],
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": email.split("@")[0],
        "GIT_COMMITTER_EMAIL": email,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass
class History:
    root: Path
    config: Path
    db: str
    ctx: AccessContext
    clock: Clock
    secrets: dict[str, str]
    repo: Path
    grants: dict[str, str] = field(default_factory=dict)
    promotions: list[str] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    _gate_steps: dict[str, int] = field(default_factory=dict)

    def otp(self, name: str) -> str:
        self.clock.advance(timedelta(seconds=30))
        return pyotp.TOTP(self.secrets[name]).at(self.clock.now)

    def gate_otp(self, name: str) -> str:
        """Codes on the real clock (the gate checks them against the wall clock)."""
        totp = pyotp.TOTP(self.secrets[name])
        current = totp.timecode(datetime.now(UTC))
        step = max(self._gate_steps.get(name, current - 1) + 1, current)
        self._gate_steps[name] = step
        return str(totp.generate_otp(step))

    def window(self) -> Window:
        return Window(self.start - timedelta(days=1), self.clock.now + timedelta(seconds=1))

    def inputs(self, **extra: Any) -> EvidenceInputs:
        store = self.ctx.store
        return EvidenceInputs(
            store=store,
            audit=AuditLog(store),
            estate=load_estate(self.config).estate,
            window=extra.pop("window", None) or self.window(),
            public_key=extra.pop("public_key") if "public_key" in extra else load_public_key(),
            **extra,
        )

    def gate(self) -> Gate:
        return Gate(self.ctx.store, load_estate(self.config), home=None)

    def commit(self, email: str, n: int) -> str:
        (self.repo / f"f{n}.txt").write_text(f"{email} {n}\n")
        _git(self.repo, "add", "-A", email=email)
        _git(self.repo, "commit", "-q", "-m", f"change {n}", email=email)
        return _git(self.repo, "rev-parse", "HEAD")

    def promote(self, sha: str, approver: str, n: int) -> str:
        gate = self.gate()
        art = "sha256:" + hashlib.sha256(f"artifact {n}".encode()).hexdigest()
        gate.submit(
            repo=str(self.repo), change=sha, artifact=art, stage="staging", submitter="dana"
        )
        gate.report(change=sha, stage="staging", check="tests", status="pass", reporter="ci-bot")
        key = load_signing_key()
        gate_check(gate, change=sha, artifact=art, stage="staging", deployer=None, key=key)
        promo = gate.submit(
            repo=str(self.repo), change=sha, artifact=art, stage="production", submitter="dana"
        )
        gate.report(change=sha, stage="production", check="tests", status="pass", reporter="ci-bot")
        gate.approve(promo.id, approver=approver, otp=self.gate_otp(approver))
        gate_check(
            gate, change=sha, artifact=art, stage="production", deployer="deploy-bot", key=key
        )
        self.promotions.append(promo.id)
        return promo.id

    def scan(self, high: int = 0) -> int:
        return AuditLog(self.ctx.store).append(
            AuditEvent(
                SCAN_COMPLETED.code,
                Status.FAILURE if high else Status.SUCCESS,
                "os:ci",
                f"scan of 12 files: {high} findings",
                details={
                    "counts_by_rule": {"SW-SCAN-001": high},
                    "counts_by_severity": {"high": high, "medium": 0, "low": 0},
                    "suppressed": 0,
                    "files_scanned": 12,
                    "files_skipped": 0,
                    "paths_sha256": "0" * 64,
                    "estate_used": True,
                },
            )
        )

    def mask(self, *, hits: int = 0, verification: Verification = Verification.PASSED) -> str:
        run_id = f"run-{time.monotonic_ns()}"
        rec = MaskingRecord(
            run_id=run_id,
            status=RunStatus.COMPLETED,
            plan_sha256="a" * 64,
            key_id="k1",
            source={
                "backend": "postgresql",
                "host": "db.prod.internal",
                "port": 5432,
                "database": "shop",
            },
            target={"backend": "sqlite", "path": "/tmp/staging.db"},
            started_at=fmt_time(self.clock.now),
            finished_at=fmt_time(self.clock.now + timedelta(seconds=5)),
            duration_s=5.0,
            rows={"customers": 100},
            verification=verification,
            verify={"total_hits": hits, "failed": bool(hits)},
        )
        record_run(rec, self.ctx.store, actor="alice")
        return run_id

    def breakglass(self, who: str, reviewer: str | None) -> str:
        grant, fu = break_glass(
            self.ctx, principal=who, role="prod-read", reason="incident 42", otp=self.otp(who)
        )
        if reviewer is not None:
            self.clock.advance(timedelta(hours=1))
            complete_follow_up(
                self.ctx, fu.id, reviewer=reviewer, otp=self.otp(reviewer), note="checked queries"
            )
        return grant.id

    def set_credential(self, grant_id: str, state: str) -> None:
        with self.ctx.store.transaction() as conn:
            conn.execute(
                insert(access_credentials).values(
                    grant_id=grant_id,
                    resource="prod-db",
                    login=f"sw_{grant_id}",
                    issued_at=fmt_time(self.clock.now),
                    state=state,
                    verified_at=fmt_time(self.clock.now) if state == "revoked" else None,
                )
            )

    def request(self, who: str, role: str, approver: str, hours: int = 1) -> str:
        req = request_access(
            self.ctx, requester=who, role=role, duration=timedelta(hours=hours), reason="work"
        )
        res = review_request(
            self.ctx, req.id, reviewer=approver, approve=True, otp=self.otp(approver), reason="ok"
        )
        assert res.result_ref is not None
        return res.result_ref


def build_history(root: Path) -> History:
    """The good history: every measured check passes."""
    init_keys(name="evidence.test/audit")
    config = root / "stagewall.yaml"
    config.write_text(ESTATE, encoding="utf-8")
    db = f"sqlite:///{root / 'store.db'}"
    clock = Clock()
    ctx = AccessContext.open(config, db, sinks=[FileAlertSink(root / "alerts.jsonl")], clock=clock)
    secrets = {p: mfa.enroll(ctx.store, ctx.estate, p).secret for p in ("alice", "bob", "carol")}
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, capture_output=True)
    h = History(root, config, db, ctx, clock, secrets, repo, start=clock.now)
    # promotions: a vendor's change approved by an internal non-author
    h.promote(h.commit("dana@devshop.example", 1), "carol", 1)
    # production access by request, approved by another internal with MFA
    h.grants["alice_prod"] = h.request("alice", "prod-read", "bob")
    h.set_credential(h.grants["alice_prod"], "revoked")
    # the vendor's developer on staging
    h.grants["dana_staging"] = h.request("dana", "staging-write", "bob", hours=8)
    # break-glass with its follow-up
    h.grants["alice_bg"] = h.breakglass("alice", "bob")
    # masking and scan
    h.mask()
    h.scan()
    # an access review: bob revokes dana's staging access
    camp = start_campaign(h.ctx, name="Q4 review", due=(clock.now + timedelta(days=7)).date())
    with h.ctx.store.read() as conn:
        items = [dict(r._mapping) for r in conn.execute(access_campaign_items.select())]
    for it in items:
        decide(h.ctx, it["id"], reviewer="bob", keep=False, otp=h.otp("bob"), note="not needed")
    close_campaign(h.ctx, camp["id"])
    # time passes; the sweeper ends what expired
    clock.advance(timedelta(hours=3))
    sweep(h.ctx)
    AuditLog(h.ctx.store).checkpoint(key=load_signing_key())
    return h


__all__ = ["ESTATE", "History", "build_history"]
