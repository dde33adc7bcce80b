"""Web UI benchmark: server time per page with 10,000 grants and 100,000 audit events.

Usage: python bench/web.py [--grants 10000] [--events 100000] [--runs 40] [--store URL]
Prints JSON: p50/p95 (ms) of every table page (inbox, grants, requests, promotions,
break-glass, vendors, evidence, audit), filtered variants, a row's audit events and the
break-glass form, each also as a ratio to /healthz measured in the same process (the
app's floor). The evidence page is measured cold (no evaluation yet: it answers at once
and queues one) and warm; the background evaluation it queued is timed too.
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
from stagewall.access._tables import (
    access_followups,
    access_grants,
    access_outcomes,
    access_requests,
)
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.gates._tables import gate_promotions
from stagewall.identity.actor import LoginMethod
from stagewall.identity.tokens import TokenKind, issue_token
from stagewall.keys import init_keys
from stagewall.server import ServerState, create_app
from stagewall.server._auth import SESSION_COOKIE

PEOPLE = [f"dev{i:03d}" for i in range(200)]
VENDORS = [f"vendor{i:02d}" for i in range(30)]
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
%s
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
     approval: one-sre, max_duration: 8h, break_glass: true}
  staging-write:
    {environment: staging, resources: [staging-db], access: write, eligible: [group:sre],
     approval: one-sre, max_duration: 8h}
stages:
  - {name: production, environment: production, checks: [tests], approval: one-sre,
     require_signed_commits: false}
server:
  auditors: [audrey]
"""


def seed(
    state: ServerState, n_grants: int, n_events: int, pending: int, n_promotions: int, n_glass: int
) -> dict[str, str]:
    """Rows as the library writes them; the events name the seeded requests and grants.
    Returns a request id and a grant id whose events the audit page lists."""
    store = state.ctx.store
    now = state.now()
    reqs, outs, grants, followups = [], [], [], []
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
                "expires_at": fmt_time(max(created, now - timedelta(hours=1)) + timedelta(hours=4)),
            }
        )
        if i >= n_grants:
            continue  # the newest ones stay pending: the inbox's work
        gid = new_id("g")
        outs.append(
            {"request_id": rid, "outcome": "approved", "decided_at": fmt_time(created),
             "result_ref": gid}
        )  # fmt: skip
        live = i >= n_grants - 200
        ends = now + timedelta(hours=1) if live else created + timedelta(hours=1)
        glass = i % max(1, n_grants // max(1, n_glass)) == 0 and len(followups) < n_glass
        grants.append(
            {
                "id": gid,
                "principal": who,
                "role": reqs[-1]["subject"],
                "environment": "production" if i % 2 else "staging",
                "production": bool(i % 2),
                "source": "break_glass" if glass else "request",
                "request_id": None if glass else rid,
                "reason": reqs[-1]["reason"],
                "starts_at": fmt_time(created),
                "ends_at": fmt_time(ends),
                "status": "active" if live else "expired",
                "created_at": fmt_time(created),
            }
        )
        if glass:
            done = len(followups) % 3 != 0
            followups.append(
                {
                    "id": new_id("f"),
                    "grant_id": gid,
                    "holder": who,
                    "opened_at": fmt_time(created),
                    "due_at": fmt_time(created + timedelta(hours=24)),
                    "completed_by": "bob" if done else None,
                    "completed_at": fmt_time(created + timedelta(hours=2)) if done else None,
                    "note": "reviewed" if done else None,
                    "overdue_alerted": False,
                }
            )
    promos, promo_reqs, promo_outs = [], [], []
    for i in range(n_promotions):
        created = now - timedelta(minutes=(n_promotions - i) * 30)
        pid = new_id("r")
        sha = f"{i:040x}"
        details = {
            "stage": "production",
            "environment": "production",
            "sha": sha,
            "digest": "sha256:" + f"{i:064x}",
            "repo": "bench",
            "base": None,
            "commits": 3,
            "contributions": [
                {"sha": sha, "role": "author", "email": f"{PEOPLE[i % 50]}@example.com",
                 "principal": PEOPLE[i % 50]}
            ],
            "rules_hash": "bench",
            "break_glass": False,
            "signed_verified": False,
        }  # fmt: skip
        promo_reqs.append(
            {
                "id": pid,
                "kind": "promotion",
                "requester": "ci",
                "subject": "production",
                "details": json.dumps(details),
                "reason": f"promote {sha[:12]} to production",
                "ticket": None,
                "requested_seconds": 0,
                "created_at": fmt_time(created),
                "expires_at": fmt_time(created + timedelta(days=365)),
            }
        )
        promos.append(
            {"request_id": pid, "stage": "production", "sha": sha, "digest": details["digest"],
             "submitter": "ci", "break_glass": False, "created_at": fmt_time(created)}
        )  # fmt: skip
        if i < n_promotions - 10:  # the newest 10 wait for an approval
            promo_outs.append(
                {"request_id": pid, "outcome": "approved", "decided_at": fmt_time(created),
                 "result_ref": pid}
            )  # fmt: skip
    with store.transaction() as conn:
        conn.execute(insert(access_requests), reqs + promo_reqs)
        conn.execute(insert(access_outcomes), outs + promo_outs)
        conn.execute(insert(access_grants), grants)
        if followups:
            conn.execute(insert(access_followups), followups)
        if promos:
            conn.execute(insert(gate_promotions), promos)
    names = [f"request:{r['id']}" for r in reqs[: n_grants // 2]] + [
        f"grant:{g['id']}" for g in grants[: n_grants // 2]
    ]
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
                    resource=names[i % len(names)],
                    details={"role": "prod-read", "n": i},
                )
                for i in range(start, min(n_events, start + batch))
            ]
        )
    return {"request": str(reqs[7]["id"]), "grant": str(grants[8]["id"])}


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
    ap.add_argument("--promotions", type=int, default=300)
    ap.add_argument("--break-glass", type=int, default=500)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--store", default=None, help="store URL (default: a new SQLite file)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sw-bench-web-"))
    people = "\n".join(f"  {p}: {{affiliation: internal}}" for p in PEOPLE)
    vendors = "\n".join(
        f"  {v}: {{contract_start: 2020-01-01, contract_end: {2025 + i % 5}-12-31, "
        "nda_signed: 2020-01-01}"
        for i, v in enumerate(VENDORS)
    )
    (tmp / "stagewall.yaml").write_text(ESTATE % (vendors, people, ", ".join(PEOPLE[:20])))
    home = tmp / "home"
    init_keys(home)
    state = ServerState.open(
        tmp / "stagewall.yaml", args.store or f"sqlite:///{tmp / 's.db'}", home
    )
    t0 = time.perf_counter()
    ids = seed(state, args.grants, args.events, args.pending, args.promotions, args.break_glass)
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
        "grants_by_environment_and_date": "/grants?environment=production&from=2026-01-01",
        "requests": "/requests",
        "requests_filtered": f"/requests?status=approved&environment=production"
        f"&requester={PEOPLE[9]}",
        "promotions": "/promotions",
        "promotions_pending": "/promotions?status=pending&stage=production",
        "break_glass": "/break-glass",
        "break_glass_overdue": "/break-glass?status=overdue",
        "break_glass_form": "/break-glass/new",
        "vendors": "/vendors",
        "audit": "/audit",
        "audit_by_actor": f"/audit?actor={PEOPLE[42]}",
        "audit_by_type_deep": "/audit?type=access.review&before=5000",
        "audit_of_request": f"/audit?of=request:{ids['request']}",
        "audit_of_grant": f"/audit?of=grant:{ids['grant']}",
    }
    readers = ("audit", "vendors", "break_glass")
    sign_in("bob")
    floor = timed(client, "/healthz", args.runs)
    out: dict[str, Any] = {
        "grants": args.grants,
        "events": args.events,
        "pending_requests": args.pending,
        "promotions": args.promotions,
        "break_glass_uses": args.break_glass,
        "runs": args.runs,
        "store": state.ctx.store.backend,
        "seed_s": round(seeded, 1),
        "healthz_ms": {"p50": pct(floor, 50), "p95": pct(floor, 95)},
        "pages": {},
    }

    def result(got: list[float]) -> dict[str, Any]:
        return {
            "p50_ms": pct(got, 50),
            "p95_ms": pct(got, 95),
            "p95_vs_healthz": round(pct(got, 95) / max(pct(floor, 95), 0.1), 1),
            "target_p95_ms": 200,
            "ok": pct(got, 95) < 200,
        }

    # The evidence page: cold (nothing evaluated yet: answers at once, queues one) ...
    sign_in("audrey")
    t0 = time.perf_counter()
    cold = client.get("/evidence")
    cold_s = time.perf_counter() - t0
    if cold.status_code != 200 or "Evaluating" not in cold.text:
        raise SystemExit(f"/evidence cold: {cold.status_code} {cold.text[:300]}")
    t0 = time.perf_counter()
    state.evaluate_in_background().result()
    out["evidence_background_evaluation_s"] = round(time.perf_counter() - t0, 2)
    out["evidence_cold_page_ms"] = round(cold_s * 1000, 1)
    # ... and warm (the evaluation it queued, served from memory)
    out["pages"]["evidence"] = result(timed(client, "/evidence", args.runs))
    for name, path in pages.items():
        sign_in("audrey" if name.startswith(readers) else "bob")
        out["pages"][name] = result(timed(client, path, args.runs))
    out["all_ok"] = all(p["ok"] for p in out["pages"].values())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
