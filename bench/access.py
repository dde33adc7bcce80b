"""Access benchmark: issuance latency and expiry→kill latency on the local PostgreSQL.

Usage: python bench/access.py [--grants 20] [--sessions 20]
Prints JSON. Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth).
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.access.conftest import Env, cleanup_roles

from stagewall.access import issue_credentials, request_access, review_request, sweep_loop


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] * 1000, 1)


def main(n_grants: int = 20, n_sessions: int = 20) -> None:
    import os

    db = f"sw_bench_{uuid.uuid4().hex[:8]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{db}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{db}"
    os.environ["SW_TEST_ADMIN_URL"] = url
    tmp = Path(tempfile.mkdtemp())
    os.environ["STAGEWALL_HOME"] = str(tmp / "home")
    env = Env(tmp, url, f"sqlite:///{tmp / 'store.db'}")
    env.enrol("alice", "bob")
    issuance: list[float] = []
    creds = []
    try:
        for _ in range(n_grants):
            rid = request_access(
                env.ctx,
                requester="alice",
                role="prod-read",
                duration=timedelta(minutes=30),
                reason="bench",
            ).id
            code_b, code_a = env.otp("bob"), env.otp("alice")
            t0 = time.perf_counter()
            gid = (
                review_request(env.ctx, rid, reviewer="bob", approve=True, otp=code_b).result_ref
                or ""
            )
            [cred] = issue_credentials(env.ctx, gid, holder="alice", otp=code_a)
            psycopg.connect(
                host="127.0.0.1", dbname=db, user=cred.login, password=cred.password
            ).close()
            issuance.append(time.perf_counter() - t0)
            creds.append(cred)
        sessions = [
            psycopg.connect(
                host="127.0.0.1",
                dbname=db,
                user=creds[i % len(creds)].login,
                password="x",
                autocommit=True,
            )
            for i in range(n_sessions)
        ]
        # Expire every grant now: move the clock past the end, then run the sweep loop.
        env.clock.advance(timedelta(hours=1))
        stop = threading.Event()
        expired_at = time.perf_counter()
        loop = threading.Thread(
            target=sweep_loop, args=(env.ctx,), kwargs={"interval": 1.0, "stop": stop}
        )
        loop.start()
        kill: list[float] = []
        pending = list(sessions)
        while pending and time.perf_counter() - expired_at < 30:
            for s in list(pending):
                try:
                    s.execute("SELECT 1")
                except psycopg.OperationalError:
                    kill.append(time.perf_counter() - expired_at)
                    pending.remove(s)
            time.sleep(0.02)
        stop.set()
        loop.join()
        print(
            json.dumps(
                {
                    "grants": n_grants,
                    "issuance_ms": {"p50": pct(issuance, 50), "p95": pct(issuance, 95)},
                    "sessions": n_sessions,
                    "expiry_to_kill_ms": {"p50": pct(kill, 50), "p99": pct(kill, 99)}
                    if kill
                    else None,
                    "sessions_surviving_revocation": len(pending),
                    "targets": {"issuance_p95_ms": 200, "expiry_to_kill_p99_ms": 5000},
                },
                indent=2,
            )
        )
    finally:
        cleanup_roles(url, env.ctx.instance_id())
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
