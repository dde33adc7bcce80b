"""Evidence benchmark: prints JSON.

A 90-day window over a log of N events (default 100,000) holding G production
grants (default 5,000), each with its request, MFA review and audit events; the
rest of the log is other activity. Measures ``build_pack`` (with the PDF) and the
offline ``verify_pack``, against the audit bundle export and its offline verify of
the same log in the same run (the baseline). Targets: pack < 30 s, verify < 10 s.

Usage: python bench/evidence.py [--events N] [--grants G]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from stagewall.access._tables import access_grants, access_requests, access_reviews
from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.audit._bundle import export_bundle, verify_bundle
from stagewall.estate import parse_estate
from stagewall.evidence import EvidenceInputs, Window
from stagewall.evidence.pack import build_pack
from stagewall.evidence.verify import verify_pack
from stagewall.keys import init_keys, load_public_key, load_signing_key
from stagewall.store import open_store

NOISE = register_event_type(
    EventType("bench.evidence.activity", 6003, "API Activity", 1, "Create", "bench filler")
)
PEOPLE = 50


def estate_text() -> str:
    people = "\n".join(f"  u{i}: {{affiliation: internal}}" for i in range(PEOPLE))
    return f"""\
version: 1
organisation: Bench Ltd
environments:
  production: {{tier: production}}
  staging: {{tier: non-production}}
resources:
  prod-db: {{environment: production, kind: postgresql, host: db.prod, database: shop}}
principals:
{people}
  ext: {{affiliation: external, vendor: v}}
vendors:
  v: {{contract_start: 2020-01-01, contract_end: 2099-01-01, nda_signed: 2020-01-01,
       dpa_signed: 2020-01-01}}
approval_rules:
  one: {{approvals: 1}}
roles:
  prod-read:
    environment: production
    resources: [prod-db]
    eligible: [{", ".join(f"u{i}" for i in range(PEOPLE))}]
    approval: one
alerts:
  - {{type: file, path: alerts.jsonl}}
"""


def fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def populate(url: str, events: int, grants: int) -> None:
    store = open_store(url)
    log = AuditLog(store, checkpoint_every=None, checkpoint_interval=None)
    now = datetime.now(UTC)
    per_grant = 3
    noise = max(0, events - grants * per_grant)
    batch: list[AuditEvent] = []
    rows: dict[str, list[dict[str, Any]]] = {"req": [], "rev": [], "grant": []}
    spread = noise // max(1, grants)
    for i in range(grants):
        who, approver = f"u{i % PEOPLE}", f"u{(i + 1) % PEOPLE}"
        start = now - timedelta(days=89) + timedelta(seconds=i * 1500)
        rid, gid = f"r{i:06d}", f"g{i:06d}"
        rows["req"].append(
            dict(
                id=rid,
                kind="access",
                requester=who,
                subject="prod-read",
                details="{}",
                reason="work",
                ticket=None,
                requested_seconds=3600,
                created_at=fmt(start),
                expires_at=fmt(start + timedelta(hours=4)),
            )
        )
        rows["rev"].append(
            dict(
                request_id=rid,
                reviewer=approver,
                decision="approve",
                reason="ok",
                mfa_method="totp",
                mfa_time=fmt(start),
                created_at=fmt(start),
            )
        )
        g = dict(
            id=gid,
            principal=who,
            role="prod-read",
            environment="production",
            production=True,
            source="request",
            request_id=rid,
            reason="work",
            starts_at=fmt(start),
            ends_at=fmt(start + timedelta(hours=1)),
            status="expired",
            created_at=fmt(start),
            revoked_at=None,
            revoked_by=None,
            revoke_reason=None,
        )
        rows["grant"].append(g)
        batch += [
            AuditEvent(
                "access.request.created",
                Status.SUCCESS,
                who,
                "request",
                resource=f"request:{rid}",
                details={"role": "prod-read"},
            ),
            AuditEvent(
                "access.review.recorded",
                Status.SUCCESS,
                approver,
                "review",
                resource=f"request:{rid}",
                details={"decision": "approve"},
            ),
            AuditEvent(
                "access.grant.created",
                Status.SUCCESS,
                approver,
                "grant",
                resource=f"grant:{gid}",
                details={**g, "source": "request"},
            ),
        ]
        batch += [
            AuditEvent(
                NOISE.code,
                Status.SUCCESS,
                who,
                f"activity {i}.{k}",
                resource=f"stage:s/{k}",
                details={"n": k},
            )
            for k in range(spread)
        ]
        if len(batch) >= 5000:
            log.append_many(batch)
            batch = []
    batch += [
        AuditEvent(NOISE.code, Status.SUCCESS, "u0", "activity", details={"n": 0})
        for _ in range(events - log.size() - len(batch))
    ]
    for k in range(0, len(batch), 5000):
        log.append_many(batch[k : k + 5000])
    with store.transaction() as conn:
        conn.execute(insert(access_requests), rows["req"])
        conn.execute(insert(access_reviews), rows["rev"])
        conn.execute(insert(access_grants), rows["grant"])
    store.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--grants", type=int, default=5_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STAGEWALL_HOME"] = str(Path(tmp) / "home")
        init_keys(name="bench.evidence/audit")
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        t0 = time.perf_counter()
        populate(url, args.events, args.grants)
        setup = time.perf_counter() - t0
        store = open_store(url)
        estate = parse_estate(estate_text(), "bench.yaml").estate
        now = datetime.now(UTC) + timedelta(seconds=1)
        inputs = EvidenceInputs(
            store=store,
            audit=AuditLog(store),
            estate=estate,
            window=Window(now - timedelta(days=90), now),
            public_key=load_public_key(),
        )
        key = load_signing_key()
        t0 = time.perf_counter()
        res = build_pack(inputs, Path(tmp) / "pack.zip", signing_key=key)
        pack_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = verify_pack(res.path, public_key=key.public)
        verify_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        export_bundle(AuditLog(store), Path(tmp) / "bundle", signing_key=key, public_key=key.public)
        bundle_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        verify_bundle(Path(tmp) / "bundle", public_key=key.public)
        bundle_verify_s = time.perf_counter() - t0
        store.dispose()
        out = {
            "events": res.tree_size,
            "grants": args.grants,
            "pack_events": res.events,
            "pack_bytes": res.path.stat().st_size,
            "population_rows_bound": report.rows_bound,
            "check_counts": report.counts,
            "setup_s": round(setup, 2),
            "pack_s": round(pack_s, 2),
            "verify_s": round(verify_s, 2),
            "baseline_bundle_export_s": round(bundle_s, 2),
            "baseline_bundle_verify_s": round(bundle_verify_s, 2),
            "pack_over_bundle_export": round(pack_s / bundle_s, 2),
            "verify_over_bundle_verify": round(verify_s / bundle_verify_s, 2),
            "target_pack_s": 30,
            "target_verify_s": 10,
            "pack_within_target": pack_s < 30,
            "verify_within_target": verify_s < 10,
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
