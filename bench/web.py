"""Web UI benchmark: server time per page with 10,000 grants and 100,000 audit events.

Usage: python bench/web.py [--grants 10000] [--events 100000] [--runs 40] [--store URL]
Prints JSON: p50/p95 (ms) of inbox, grants and audit pages (and two audit searches),
each also as a ratio to /healthz measured in the same process (the app's floor).
The store is seeded directly (rows as the library writes them); the pages are served
in-process by the real app (create_app) through its ASGI interface, signed in with a
browser session cookie like a person. Target: every page p95 < 200 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from sqlalchemy import insert

from stagewall.access._core import fmt_time, new_id
from stagewall.access._tables import access_grants, access_outcomes, access_requests
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.identity.actor import LoginMethod
from stagewall.identity.tokens import TokenKind, issue_token
from stagewall.keys import init_keys
from stagewall.server import ServerState, create_app
from stagewall.server._auth import SESSION_COOKIE

PEOPLE = [f"dev{i:03d}" for i in range(200)]
ESTATE = """
version: 1
environments:
  production: {tier: production}
  staging: {tier: non-production}
resources:
  prod-db: {environment: production, kind: postgresql, host: 127.0.0.1, port: 5432, database: app}
  staging-db: {environment: staging, kind: postgresql, host: 127.0.0.1, port: 5432, database: app}
vendors:
  devshop:
    contract_start: 2020-01-01
    contract_end: 2099-12-31
    nda_signed: 2020-01-01
    dpa_signed: 2020-01-01
principals:
  bob: {affiliation: internal}
  audrey: {affiliation: external, vendor: devshop}
%s
groups:
  sre: {members: [bob, %s]}
approval_rules:
  one-sre: {approvals: 1, from_groups: [sre]}
roles:
  prod-read:
    {environment: production, resources: [prod-db], access: read, eligible: [group:sre],
     approval: one-sre, max_duration: 8h}
  staging-write:
    {environment: staging, resources: [staging-db], access: write, eligible: [group:sre],
     approval: one-sre, max_duration: 8h}
server:
  auditors: [audrey]
"""


def seed(state: ServerState, n_grants: int, n_events: int, pending: int) -> None:
    store = state.ctx.store
    now = state.now()
    log = AuditLog(store, home=state.home, checkpoint_every=10_000)
    batch = 5_000
    for start in range(0, n_events, batch):
        log.append_many(
            [
                AuditEvent(
                    "access.request.created" if i % 3 else "access.review.recorded",
                    Status.SUCCESS,
                    PEOPLE[i % len(PEOPLE)],
                    f"bench event {i}",
                    resource=f"request:r{i:011d}",
                    details={"role": "prod-read", "n": i},
                )
                for i in range(start, min(n_events, start + batch))
            ]
        )
    with store.transaction() as conn:
        reqs, outs, grants = [], [], []
        for i in range(n_grants + pending):
            who = PEOPLE[i % len(PEOPLE)]
            created = now - timedelta(minutes=(n_grants + pending - i) * 5)
            rid = new_id("r")
            reqs.append(
                {
                    "id": rid,
                    "kind": "access",
                    "requester": who,
                    "subject": "prod-read" if i % 2 else "staging-write",
                    "details": "{}",
                    "reason": f"ticket OPS-{i}",
                    "ticket": f"OPS-{i}",
                    "requested_seconds": 3600,
                    "created_at": fmt_time(created),
                    "expires_at": fmt_time(
                        max(created, now - timedelta(hours=1)) + timedelta(hours=4)
                    ),
                }
            )
            if i >= n_grants:
                continue  # the newest ones stay pending: the inbox's work
            gid = new_id("g")
            outs.append(
                {
                    "request_id": rid,
                    "outcome": "approved",
                    "decided_at": fmt_time(created),
                    "result_ref": gid,
                }
            )
            live = i >= n_grants - 200
            ends = now + timedelta(hours=1) if live else created + timedelta(hours=1)
            grants.append(
                {
                    "id": gid,
                    "principal": who,
                    "role": reqs[-1]["subject"],
                    "environment": "production" if i % 2 else "staging",
                    "production": bool(i % 2),
                    "source": "request",
                    "request_id": rid,
                    "reason": reqs[-1]["reason"],
                    "starts_at": fmt_time(created),
                    "ends_at": fmt_time(ends),
                    "status": "active" if live else "expired",
                    "created_at": fmt_time(created),
                }
            )
        conn.execute(insert(access_requests), reqs)
        conn.execute(insert(access_outcomes), outs)
        conn.execute(insert(access_grants), grants)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] * 1000, 1)


def timed(client: TestClient, path: str, runs: int) -> list[float]:
    client.get(path)  # warm: templates compiled, connections pooled
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = client.get(path)
        out.append(time.perf_counter() - t0)
        if res.status_code != 200:
            raise SystemExit(f"{path}: {res.status_code} {res.text[:300]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--grants", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--pending", type=int, default=25)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--store", default=None, help="store URL (default: a new SQLite file)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sw-bench-web-"))
    people = "\n".join(f"  {p}: {{affiliation: internal}}" for p in PEOPLE)
    (tmp / "stagewall.yaml").write_text(ESTATE % (people, ", ".join(PEOPLE[:20])))
    home = tmp / "home"
    init_keys(home)
    state = ServerState.open(
        tmp / "stagewall.yaml", args.store or f"sqlite:///{tmp / 's.db'}", home
    )
    t0 = time.perf_counter()
    seed(state, args.grants, args.events, args.pending)
    seeded = time.perf_counter() - t0
    client = TestClient(create_app(state, run_sweeper=False))

    def sign_in(name: str) -> None:
        tok = issue_token(
            state.ctx.store,
            name,
            kind=TokenKind.BROWSER,
            method=LoginMethod.LOCAL,
            now=datetime.now(UTC),
            ttl=timedelta(hours=1),
        )
        client.cookies.set(SESSION_COOKIE, tok.secret)

    pages: dict[str, str] = {
        "inbox": "/",
        "grants": "/grants",
        "grants_filtered": f"/grants?principal={PEOPLE[7]}&status=expired",
        "requests": "/requests",
        "audit": "/audit",
        "audit_by_actor": f"/audit?actor={PEOPLE[42]}",
        "audit_by_type_deep": "/audit?type=access.review&before=5000",
    }
    sign_in("bob")
    floor = timed(client, "/healthz", args.runs)
    out: dict[str, Any] = {
        "grants": args.grants,
        "events": args.events,
        "pending_requests": args.pending,
        "runs": args.runs,
        "store": state.ctx.store.backend,
        "seed_s": round(seeded, 1),
        "healthz_ms": {"p50": pct(floor, 50), "p95": pct(floor, 95)},
        "pages": {},
    }
    for name, path in pages.items():
        sign_in("audrey" if name.startswith("audit") else "bob")
        got = timed(client, path, args.runs)
        out["pages"][name] = {
            "p50_ms": pct(got, 50),
            "p95_ms": pct(got, 95),
            "p95_vs_healthz": round(pct(got, 95) / max(pct(floor, 95), 0.1), 1),
            "target_p95_ms": 200,
            "ok": pct(got, 95) < 200,
        }
    out["all_ok"] = all(p["ok"] for p in out["pages"].values())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
