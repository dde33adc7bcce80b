"""Witnessed checkpoints: truncation of the audit log is caught by the witnesses.

A real ``stagewall witness`` HTTP server runs in a thread on a free port; the log
submits checkpoints to it (C2SP tlog-witness) and ``verify_store`` checks the
cosignatures (C2SP tlog-cosignature).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from stagewall.audit import (
    AuditLog,
    LogBroken,
    WitnessEndpoint,
    WitnessPolicy,
    witness_checkpoints,
)
from stagewall.audit._bundle import export_bundle, verify_bundle
from stagewall.audit._checkpoint import CheckpointInvalid
from stagewall.audit._verify import verify_store
from stagewall.errors import KeyMissing, WitnessConflict, WitnessQuorumMissing
from stagewall.keys import init_keys, load_public_key, load_signing_key
from stagewall.store import Store, open_store
from stagewall.witness import Witness, WitnessState, init_witness, make_server
from tests.audit.conftest import allow_tampering, forget_signed, make_event


class RunningWitness:
    def __init__(self, directory: Path, name: str) -> None:
        self.state = init_witness(directory, name)
        self.server = make_server(Witness(self.state), "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def endpoint(self) -> WitnessEndpoint:
        return WitnessEndpoint(self.state.key.public, self.url, timeout=5)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[list[RunningWitness]]:
    running = [
        RunningWitness(tmp_path / f"w{i}", f"witness{i}.example/{tmp_path.name[-6:]}")
        for i in range(2)
    ]
    try:
        yield running
    finally:
        for w in running:
            w.stop()


def _trust(*ws: RunningWitness) -> None:
    public = load_public_key()
    for w in ws:
        w.state.add_log(public)


def _witnessed_log(store: Store, ws: list[RunningWitness], n: int = 10) -> AuditLog:
    init_keys()
    _trust(*ws)
    log = AuditLog(store, checkpoint_every=None, checkpoint_interval=None)
    log.append_many([make_event(i) for i in range(n)])
    return log


def _policy(ws: list[RunningWitness], quorum: int = 1, minutes: int = 10) -> WitnessPolicy:
    return WitnessPolicy(tuple(w.endpoint() for w in ws), quorum, timedelta(minutes=minutes))


def _delete_from(store: Store, size: int) -> None:
    """What an attacker with the store's DDL rights does: drop events and their proofs."""
    allow_tampering(store)
    with store.transaction() as conn:
        if store.backend == "postgresql":
            conn.execute(
                text("DROP TRIGGER IF EXISTS audit_cosignatures_append_only ON audit_cosignatures")
            )
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_cosignatures_no_delete"))
        conn.execute(text("DELETE FROM audit_events WHERE idx >= :n"), {"n": size})
        conn.execute(text("DELETE FROM audit_checkpoints WHERE size > :n"), {"n": size})
        conn.execute(text("DELETE FROM audit_cosignatures WHERE size > :n"), {"n": size})


def test_witnessed_log_verifies_with_a_fresh_quorum(
    sqlite_store: Store, witnesses: list[RunningWitness]
) -> None:
    log = _witnessed_log(sqlite_store, witnesses)
    cosigs = witness_checkpoints(log, [w.endpoint() for w in witnesses])
    assert sorted(c.witness for c in cosigs) == sorted(w.state.key.name for w in witnesses)
    assert {c.size for c in cosigs} == {10}
    log.append_many([make_event(i) for i in range(10, 13)])
    again = witness_checkpoints(log, [w.endpoint() for w in witnesses])
    assert {c.size for c in again} == {13}  # consistency proof 10 -> 13 accepted
    report = verify_store(log, load_public_key(), policy=_policy(witnesses, 2), online=True)
    assert report.witnesses is not None
    assert report.witnesses.newest_cosigned_size == 13
    assert len(report.witnesses.fresh_witnesses) == 2
    for w in witnesses:
        with w.state.connect() as conn:
            latest = w.state.latest(conn, load_public_key().name or "")
        assert latest is not None and latest.size == 13


def test_deleting_events_after_the_newest_checkpoint_fails(
    store: Store, witnesses: list[RunningWitness]
) -> None:
    """Issue 12: events after the newest checkpoint are removed (with what covers them)."""
    log = _witnessed_log(store, witnesses[:1])
    policy = _policy(witnesses[:1])
    witness_checkpoints(log, [witnesses[0].endpoint()])  # checkpoint at 10, cosigned
    log.append_many([make_event(i) for i in range(10, 14)])  # a privileged act...
    witness_checkpoints(log, [witnesses[0].endpoint()])  # ...is witnessed at once (14)
    _delete_from(store, 10)
    # Before this change the store was self-consistent again and verified.
    assert verify_store(log, load_public_key()).size == 10
    with pytest.raises(WitnessConflict, match=r"cosigned a tree of 14 events .* only 10"):
        verify_store(log, load_public_key(), policy=policy, online=True)
    later = datetime.now(UTC) + timedelta(minutes=11)
    with pytest.raises(WitnessQuorumMissing, match="only 0 of the required 1"):
        verify_store(log, load_public_key(), policy=policy, now=later)
    # the server that signed 14 refuses to sign the cut log ...
    with pytest.raises(CheckpointInvalid, match="rolled back"):
        witness_checkpoints(log, [witnesses[0].endpoint()])
    forget_signed()  # ... one that does not remember it signs, and
    # the witness never cosigns the truncated log again
    with pytest.raises(WitnessConflict, match="removed"):
        witness_checkpoints(log, [witnesses[0].endpoint()])
    log.append_many([make_event(i) for i in range(20, 26)])  # regrow past 14
    with pytest.raises(WitnessConflict, match="not consistent"):
        witness_checkpoints(log, [witnesses[0].endpoint()])
    assert witnesses[0].state.refused_count() >= 1


def test_deleting_the_newest_checkpoint_and_events_back_to_an_older_one_fails(
    store: Store, witnesses: list[RunningWitness]
) -> None:
    log = _witnessed_log(store, witnesses[:1], n=5)
    endpoint = witnesses[0].endpoint()
    witness_checkpoints(log, [endpoint])  # 5
    log.append_many([make_event(i) for i in range(5, 9)])
    witness_checkpoints(log, [endpoint])  # 9
    log.append_many([make_event(i) for i in range(9, 12)])
    witness_checkpoints(log, [endpoint])  # 12
    assert [c.size for c in log.checkpoints()] == [5, 9, 12]
    _delete_from(store, 5)
    assert [c.size for c in log.checkpoints()] == [5]
    with pytest.raises(WitnessConflict, match=r"12 events .* only 5"):
        verify_store(log, load_public_key(), policy=_policy(witnesses[:1]), online=True)


def test_stored_cosignature_larger_than_the_log_is_truncation(
    sqlite_store: Store, witnesses: list[RunningWitness]
) -> None:
    log = _witnessed_log(sqlite_store, witnesses[:1])
    witness_checkpoints(log, [witnesses[0].endpoint()])
    allow_tampering(sqlite_store)
    with sqlite_store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE idx >= 7"))
        conn.execute(text("DELETE FROM audit_checkpoints"))
    with pytest.raises(LogBroken, match=r"cosigned a tree of 10 events .* has only 7"):
        verify_store(log, load_public_key(), policy=_policy(witnesses[:1]))


def test_quorum_needs_enough_distinct_recent_witnesses(
    sqlite_store: Store, witnesses: list[RunningWitness]
) -> None:
    log = _witnessed_log(sqlite_store, witnesses)
    witnesses[1].stop()  # the second witness is down
    cosigs = witness_checkpoints(log, [w.endpoint() for w in witnesses])
    assert [c.witness for c in cosigs] == [witnesses[0].state.key.name]
    assert verify_store(log, load_public_key(), policy=_policy(witnesses, 1)).witnesses
    with pytest.raises(WitnessQuorumMissing, match="only 1 of the required 2"):
        verify_store(log, load_public_key(), policy=_policy(witnesses, 2))


def test_a_cosignature_from_an_unconfigured_key_does_not_count(
    sqlite_store: Store, witnesses: list[RunningWitness], tmp_path: Path
) -> None:
    log = _witnessed_log(sqlite_store, witnesses[:1])
    witness_checkpoints(log, [witnesses[0].endpoint()])
    impostor = init_witness(tmp_path / "impostor", witnesses[0].state.key.name).key.public
    policy = WitnessPolicy((WitnessEndpoint(impostor, None),), 1, timedelta(minutes=10))
    with pytest.raises(WitnessQuorumMissing):
        verify_store(log, load_public_key(), policy=policy)


def test_bundle_carries_cosignatures_and_needs_a_pinned_key(
    sqlite_store: Store, witnesses: list[RunningWitness], tmp_path: Path
) -> None:
    log = _witnessed_log(sqlite_store, witnesses[:1])
    witness_checkpoints(log, [witnesses[0].endpoint()])
    out = tmp_path / "bundle"
    export_bundle(log, out, signing_key=load_signing_key(), public_key=load_public_key())
    assert list((out / "cosignatures").glob("*.txt"))
    policy = _policy(witnesses[:1])
    report = verify_bundle(out, public_key=load_public_key(), policy=policy)
    assert report.witnesses is not None and report.witnesses.newest_cosigned_size == 10
    with pytest.raises(KeyMissing, match="needs a pinned public key"):
        verify_bundle(out, public_key=None)
    # the auditor verifying a month later states when the bundle was received
    with pytest.raises(WitnessQuorumMissing):
        verify_bundle(
            out,
            public_key=load_public_key(),
            policy=policy,
            now=datetime.now(UTC) + timedelta(days=30),
        )
    # a bundle cut back below a cosigned size fails offline too
    lines = (out / "events.jsonl").read_bytes().splitlines(keepends=True)
    (out / "events.jsonl").write_bytes(b"".join(lines[:6]))
    (out / "chain.txt").write_bytes(
        b"".join((out / "chain.txt").read_bytes().splitlines(keepends=True)[:6])
    )
    for f in (out / "checkpoints").glob("*.txt"):
        f.unlink()
    with pytest.raises(LogBroken, match="removed"):
        verify_bundle(out, public_key=load_public_key(), policy=policy)


def test_witness_state_survives_restart_and_refuses_rollback(
    sqlite_store: Store, witnesses: list[RunningWitness]
) -> None:
    log = _witnessed_log(sqlite_store, witnesses[:1])
    witness_checkpoints(log, [witnesses[0].endpoint()])
    reopened = Witness(WitnessState(witnesses[0].state.dir))
    note = log.checkpoints()[0].note
    from stagewall.audit._witness import request_body

    answer = reopened.add_checkpoint(request_body(0, [], note))
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"10\n")


def test_cli_witness_and_verify_with_the_estate_policy(
    tmp_path: Path, witnesses: list[RunningWitness]
) -> None:
    from tests.cli_helpers import run_cli

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    log = _witnessed_log(store, witnesses[:1], n=4)
    store.dispose()
    config = tmp_path / "stagewall.yaml"
    config.write_text(
        "version: 1\nenvironments:\n  staging: {tier: non-production}\naudit:\n"
        f"  witnesses:\n    - public_key: {witnesses[0].state.key.public.vkey()}\n"
        f"      url: {witnesses[0].url}\n  witness_quorum: 1\n  witness_max_age: 5m\n"
    )
    r = run_cli("audit", "verify", "--db", db, "--config", str(config))
    assert r.exit_code == 1 and "error[SW511]: only 0 of the required 1" in r.stderr
    r = run_cli("audit", "witness", "--db", db, "--config", str(config))
    assert r.exit_code == 0 and "tree size 4" in r.stdout
    r = run_cli("audit", "verify", "--db", db, "--config", str(config))
    assert r.exit_code == 0, r.stderr
    assert f"witnessed by {witnesses[0].state.key.name} (quorum 1)" in r.stdout
    assert log.size() == 4
    r = run_cli("audit", "witness", "--db", db)
    assert r.exit_code == 2 and "no witnesses are configured" in r.stderr
