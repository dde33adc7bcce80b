"""The gate on PostgreSQL: the whole flow, and concurrent approvals decided once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from stagewall.errors import StagewallError
from stagewall.estate import load_estate
from stagewall.gates import Gate
from stagewall.store import open_store
from tests.gates.conftest import (
    World,
    approve,
    digest,
    gate_check,
    make_world,
    report,
    submit,
    to_staging,
)

ART = digest("pg")
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(tmp_path: Path, pg_store_url: str) -> World:
    return make_world(tmp_path, db=pg_store_url)


def test_full_flow_on_postgresql(pg_world: World) -> None:
    w = pg_world
    sha = w.commit("dana@devshop.example")
    to_staging(w, sha, ART)
    pid = submit(w, sha, ART, "production", "dana")
    report(w, sha, "production")
    assert approve(w, pid, "dana").exit_code == 1
    assert approve(w, pid, "alice").exit_code == 0
    r = gate_check(w, sha, ART, "production")
    assert r.exit_code == 0, r.stderr
    assert '"state": "deployed"' in w.gate("list", "--format", "json").stdout


def test_concurrent_approvals_decide_once(pg_world: World) -> None:
    w = pg_world
    sha = w.commit("dana@devshop.example")
    to_staging(w, sha, ART)
    pid = submit(w, sha, ART, "production", "dana")
    codes = {who: w.otp(who) for who in ("alice", "bob", "carol")}
    results: dict[str, str] = {}
    barrier = threading.Barrier(3)

    def run(who: str) -> None:
        store = open_store(w.db)
        try:
            gate = Gate(store, load_estate(w.config))
            barrier.wait()
            _p, outcome = gate.approve(pid, approver=who, otp=codes[who])
            results[who] = outcome.value
        except StagewallError as exc:
            results[who] = exc.message
        finally:
            store.dispose()

    threads = [threading.Thread(target=run, args=(who,)) for who in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()).count("approved") == 1, results
    assert sum("already approved" in v for v in results.values()) == 2, results
