"""Audit log benchmark: prints JSON.

- durable append rate on SQLite and PostgreSQL, single appends (one transaction
  each) and batches (append_many), as a ratio to plain INSERTs of the same rows
  into an identical table in the same run;
- full verify rate (store and offline bundle);
- inclusion proof verification time.

Usage: python bench/audit.py [--events N] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import column, insert, select, table, text

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.audit._bundle import export_bundle, verify_bundle
from stagewall.audit._merkle import verify_inclusion
from stagewall.audit._tables import audit_events
from stagewall.audit._verify import verify_store
from stagewall.keys import init_keys, load_public_key, load_signing_key
from stagewall.store import Store, open_store

CODE = "bench.audit.event"
register_event_type(
    EventType(
        code=CODE, class_uid=6003, class_name="API Activity", activity_id=1, activity_name="Create"
    )
)
PLAIN = "bench_plain_events"


def event(i: int) -> AuditEvent:
    return AuditEvent(
        code=CODE,
        status=Status.SUCCESS,
        actor=f"user{i % 50}",
        resource=f"prod-db-{i % 7}",
        message=f"user{i % 50} did thing {i}",
        details={"request_id": f"req-{i}", "duration": "2h", "n": i},
    )


def _plain_table(store: Store) -> None:
    blob = "BYTEA" if store.backend == "postgresql" else "BLOB"
    with store.transaction() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {PLAIN}"))
        conn.execute(
            text(
                f"CREATE TABLE {PLAIN} (idx BIGINT PRIMARY KEY, time VARCHAR(32) NOT NULL, "
                "code VARCHAR(128) NOT NULL, status VARCHAR(16) NOT NULL, "
                "actor VARCHAR(256) NOT NULL, resource VARCHAR(512), "
                f"canonical {blob} NOT NULL, leaf_hash {blob} NOT NULL, chain_hash {blob} NOT NULL)"
            )
        )
        conn.execute(text(f"CREATE INDEX ix_{PLAIN}_code ON {PLAIN} (code)"))


def _rows(store: Store, start: int, n: int) -> list[dict[str, Any]]:
    with store.transaction() as conn:
        res = (
            conn.execute(
                select(audit_events)
                .where(audit_events.c.idx >= start)
                .order_by(audit_events.c.idx)
                .limit(n)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in res]


def bench_backend(url: str, n: int, batch: int) -> dict[str, Any]:
    store = open_store(url)
    log = AuditLog(store)  # default: checkpoint every 1000 events (a key exists)
    _plain_table(store)
    plain = table(PLAIN, *[column(c.name) for c in audit_events.columns])
    out: dict[str, Any] = {}

    t0 = time.perf_counter()
    for i in range(n):
        log.append(event(i))
    t_append = time.perf_counter() - t0
    rows = _rows(store, 0, n)
    t0 = time.perf_counter()
    for r in rows:
        with store.transaction() as conn:
            conn.execute(insert(plain), r)
    t_plain = time.perf_counter() - t0
    out["single"] = {
        "events": n,
        "append_per_s": round(n / t_append),
        "plain_insert_per_s": round(n / t_plain),
        "ratio": round(t_plain / t_append, 3),
    }

    nb = n * 10
    start = log.size()
    t0 = time.perf_counter()
    for b in range(0, nb, batch):
        log.append_many([event(i) for i in range(b, b + batch)])
    t_append = time.perf_counter() - t0
    rows = _rows(store, start, nb)
    for r in rows:
        r["idx"] += 10**9
    t0 = time.perf_counter()
    for b in range(0, nb, batch):
        with store.transaction() as conn:
            conn.execute(insert(plain), rows[b : b + batch])
    t_plain = time.perf_counter() - t0
    out["batch"] = {
        "events": nb,
        "batch_size": batch,
        "append_per_s": round(nb / t_append),
        "plain_insert_per_s": round(nb / t_plain),
        "ratio": round(t_plain / t_append, 3),
    }

    t0 = time.perf_counter()
    report = verify_store(log, load_public_key())
    t_verify = time.perf_counter() - t0
    out["verify_store"] = {
        "events": report.size,
        "events_per_s": round(report.size / t_verify),
        "checkpoints": len(report.checkpoints),
    }
    with store.transaction() as conn:
        conn.execute(text(f"DROP TABLE {PLAIN}"))
    store.dispose()
    return out


def _best(fn: Any, runs: int = 3) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds over ``runs`` runs (the machine may be shared)."""
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def bench_offline(tmp: Path, n: int) -> dict[str, Any]:
    store = open_store(f"sqlite:///{tmp / 'big.db'}")
    log = AuditLog(store, checkpoint_every=50_000)
    for b in range(0, n, 5000):
        log.append_many([event(i) for i in range(b, min(n, b + 5000))])
    out_dir = tmp / "bundle"
    export_bundle(log, out_dir, signing_key=load_signing_key(), public_key=load_public_key())
    t_bundle, c_bundle = _best(lambda: verify_bundle(out_dir, public_key=load_public_key()))
    t_store, c_store = _best(lambda: verify_store(log, load_public_key()))
    report = verify_bundle(out_dir, public_key=load_public_key())
    store_report = verify_store(log, load_public_key())
    proof = log.inclusion_proof(n // 3)
    reps = 2000
    t0 = time.perf_counter()
    for _ in range(reps):
        ok = verify_inclusion(proof.leaf_hash, proof.index, proof.tree_size, proof.path, proof.root)
    t_proof = (time.perf_counter() - t0) / reps
    store.dispose()
    return {
        "events": report.size,
        "verify_bundle_events_per_s": round(report.size / t_bundle),
        "verify_bundle_events_per_cpu_s": round(report.size / c_bundle),
        "verify_store_sqlite_events_per_s": round(store_report.size / t_store),
        "verify_store_sqlite_events_per_cpu_s": round(store_report.size / c_store),
        "inclusion_proof_verify_us": round(t_proof * 1e6, 1),
        "inclusion_proof_ok": ok,
        "inclusion_path_len": len(proof.path),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--verify-events", type=int, default=200_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["STAGEWALL_HOME"] = str(tmp / "home")
        init_keys()
        result: dict[str, Any] = {
            "sqlite": bench_backend(f"sqlite:///{tmp / 's.db'}", args.events, args.batch)
        }
        try:
            import psycopg

            name = f"sw_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(args.pg, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            try:
                result["postgresql"] = bench_backend(
                    args.pg.rsplit("/", 1)[0] + "/" + name, args.events, args.batch
                )
            finally:
                with psycopg.connect(args.pg, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.OperationalError as exc:
            result["postgresql"] = {"skipped": str(exc).splitlines()[0]}
        result["offline"] = bench_offline(tmp, args.verify_events)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
