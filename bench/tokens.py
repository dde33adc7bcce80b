"""Token check benchmark: microseconds per resolve_token (the per-request token check).

Usage: PYTHONPATH=src python bench/tokens.py [--requests 3000] [--tokens 2000]
Prints JSON: per backend (SQLite in a temporary file, PostgreSQL at 127.0.0.1:5432 when
reachable), the median and 95th percentile of one resolve_token of a live token, wall
time and this thread's CPU time (on SQLite the query runs in this thread; on PostgreSQL
the server's share is not in it), with
``--tokens`` rows in identity_tokens, half of them revoked (so, on a version that
records revocations, as many identity.token.revoked events in the audit log), and
5000 other audit events. Runs against whatever ``stagewall`` is on the path, so the
same script times the code before a change (PYTHONPATH=<old tree>/src).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import stagewall.identity._events  # noqa: F401 - registers identity.login (the filler)
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.identity.actor import LoginMethod
from stagewall.identity.tokens import TokenKind, issue_token, resolve_token, revoke_token
from stagewall.store import Store


def _filled(store: Store, tokens: int) -> str:
    now = datetime.now(UTC)
    made = [
        issue_token(store, f"p{i % 50}", kind=TokenKind.API, method=LoginMethod.LOCAL, now=now)
        for i in range(tokens)
    ]
    for new in made[::2]:
        revoke_token(store, new.info.id, now=now)
    log = AuditLog(store, checkpoint_every=None, checkpoint_interval=None)
    filler = [
        AuditEvent("identity.login", Status.SUCCESS, f"p{i % 50}", "x", resource=f"principal:p{i}")
        for i in range(500)
    ]
    for _ in range(10):
        log.append_many(filler)
    return made[1].secret


def _time(store: Store, secret: str, requests: int) -> dict[str, float]:
    now = datetime.now(UTC)
    assert resolve_token(store, secret, now=now) is not None
    for _ in range(200):  # warm up: the statement cache, the connection pool
        resolve_token(store, secret, now=now)
    spent: list[float] = []
    cpu: list[float] = []
    for _ in range(requests):
        t0, c0 = time.perf_counter(), time.thread_time()
        resolve_token(store, secret, now=now)
        cpu.append(time.thread_time() - c0)
        spent.append(time.perf_counter() - t0)
    return {"wall_" + k: v for k, v in _stats(spent).items()} | {
        "cpu_" + k: v for k, v in _stats(cpu).items()
    }


def _stats(values: list[float]) -> dict[str, float]:
    """Median and 95th percentile in microseconds."""
    values = sorted(values)
    return {
        "median_us": round(values[len(values) // 2] * 1e6, 1),
        "p95_us": round(values[int(len(values) * 0.95)] * 1e6, 1),
    }


def _run(url: str, home: str, requests: int, tokens: int) -> dict[str, float]:
    store = Store(url)
    store.key_home = home
    store.migrate()
    try:
        return _time(store, _filled(store, tokens), requests)
    finally:
        store.dispose()


def main(requests: int = 3000, tokens: int = 2000) -> None:
    out: dict[str, object] = {"requests": requests, "tokens": tokens}
    home = tempfile.mkdtemp()
    os.environ["STAGEWALL_HOME"] = home
    out["sqlite"] = _run(f"sqlite:///{Path(home) / 'store.db'}", home, requests, tokens)
    try:
        import psycopg

        admin = "postgresql://postgres@127.0.0.1:5432/postgres"
        db = f"sw_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{db}"')
        try:
            url = f"postgresql://postgres@127.0.0.1:5432/{db}"
            out["postgresql"] = _run(url, home, requests, tokens)
        finally:
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
    except OSError as exc:
        out["postgresql"] = f"skipped: {exc}"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    args = sys.argv[1:]
    opts = dict(zip(args[::2], args[1::2], strict=False))
    main(int(opts.get("--requests", 3000)), int(opts.get("--tokens", 2000)))
