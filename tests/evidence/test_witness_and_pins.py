"""The two checks that need configuration: witnessed checkpoints and pinned resource identities.

Witnesses are real ``stagewall witness`` servers (HTTP, in a thread) that cosign the
history's checkpoints through the same call the server's sweeper makes; identities
are pinned through the access library's ``verify_resource`` (and, for one case, read
from the real PostgreSQL server), so the checks read what the product wrote.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from stagewall.access.identity import ServerIdentity, read_postgres, verify_resource
from stagewall.audit import AuditLog, witness_checkpoints
from stagewall.audit._checkpoint import Checkpoint, sign_checkpoint
from stagewall.errors import ConfigError, IdentityRefused, PackInvalid, UsageError
from stagewall.evidence import CheckStatus, Evaluation, Window, evaluate
from stagewall.evidence._inputs import parse_stamp
from stagewall.evidence._model import expand
from stagewall.evidence._proofs import ProofMaker
from stagewall.evidence.evaluate import load_witness_key
from stagewall.evidence.pack import build_pack
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key, load_signing_key
from tests.audit.conftest import allow_tampering
from tests.audit.test_witness import RunningWitness
from tests.cli_helpers import run_cli
from tests.evidence.history import History
from tests.evidence.packs import signed_zip

WITNESS = "audit.witnessed_checkpoints"
IDENTITY = "separation.resource_identity"


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[RunningWitness]:
    w = RunningWitness(tmp_path / "w", f"witness.example/{tmp_path.name[-6:]}")
    try:
        yield w
    finally:
        w.stop()


def _configure(h: History, *ws: RunningWitness, quorum: int = 1) -> None:
    lines = "".join(
        f"    - {{public_key: '{w.state.key.public.vkey()}', url: '{w.url}'}}\n" for w in ws
    )
    h.config.write_text(
        h.config.read_text() + f"audit:\n  witness_quorum: {quorum}\n  witnesses:\n{lines}"
    )
    for w in ws:
        w.state.add_log(load_public_key())


def _cosign(h: History, *ws: RunningWitness) -> int:
    log = AuditLog(h.ctx.store)
    cosigs = witness_checkpoints(log, [w.endpoint() for w in ws])
    assert {c.witness for c in cosigs} == {w.state.key.name for w in ws}
    return log.size()


def _run(h: History, **extra: object) -> Evaluation:
    return evaluate(h.inputs(**extra))


def test_a_witness_quorum_covering_the_window_passes(
    history: History, witness: RunningWitness
) -> None:
    _configure(history, witness)
    size = _cosign(history, witness)
    r = _run(history).get(WITNESS)
    assert r.status is CheckStatus.PASS, r.summary
    assert r.figures["covered_size"] == size and r.figures["quorum"] == 1
    assert r.figures["newest_cosigned"] == {witness.state.key.name: size}


def test_a_quorum_of_two_needs_two_witnesses(history: History, tmp_path: Path) -> None:
    ws = [RunningWitness(tmp_path / f"q{i}", f"q{i}.example/{tmp_path.name[-6:]}") for i in (0, 1)]
    try:
        _configure(history, *ws, quorum=2)
        _cosign(history, ws[0])
        far = history.window()
        late = Window(far.start, far.end + timedelta(days=1))
        r = _run(history, window=late).get(WITNESS)
        assert r.status is CheckStatus.FAIL and "not cosigned by 2 witness(es)" in r.summary
        _cosign(history, *ws)
        assert _run(history, window=late).get(WITNESS).status is CheckStatus.PASS
    finally:
        for w in ws:
            w.stop()


def test_events_after_the_last_cosignature(history: History, witness: RunningWitness) -> None:
    """Young uncovered events are not verifiable yet; once older than max_age they fail."""
    _configure(history, witness)
    size = _cosign(history, witness)
    history.scan()
    inputs = history.inputs()
    last = parse_stamp(inputs.events[-1].time)
    assert last is not None
    fresh = Window(inputs.window.start, last + timedelta(minutes=1))
    r = _run(history, window=fresh).get(WITNESS)
    assert r.status is CheckStatus.NOT_VERIFIABLE and r.why
    assert r.summary == f"events {size}..{size} await a witness quorum"
    stale = Window(inputs.window.start, last + timedelta(hours=1))
    r = _run(history, window=stale).get(WITNESS)
    assert r.status is CheckStatus.FAIL
    assert expand(r.events) == [size]


def test_truncation_after_a_cosignature_fails(history: History, witness: RunningWitness) -> None:
    _configure(history, witness)
    size = _cosign(history, witness)
    store = history.ctx.store
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE idx >= :n"), {"n": size - 2})
        conn.execute(text("DELETE FROM audit_checkpoints WHERE size > :n"), {"n": size - 2})
    r = _run(history).get(WITNESS)
    assert r.status is CheckStatus.FAIL
    assert "the witnesses contradict the log" in r.summary and "truncated" in r.summary


def test_rewritten_history_fails(history: History, witness: RunningWitness) -> None:
    """The operator rewrote an event and re-signed: only the witness's root catches it."""
    _configure(history, witness)
    _cosign(history, witness)
    store = history.ctx.store
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(
            text("UPDATE audit_events SET leaf_hash = :h WHERE idx = 3"), {"h": b"\0" * 32}
        )
    r = _run(history).get(WITNESS)
    assert r.status is CheckStatus.FAIL and "rewritten" in r.summary


def test_an_auditor_pinned_witness_key(
    history: History, witness: RunningWitness, tmp_path: Path
) -> None:
    """--witness-key adds a witness the estate does not name; an unrelated key proves nothing."""
    witness.state.add_log(load_public_key())
    size = _cosign(history, witness)  # the cosignature reached the store another way
    assert _run(history).get(WITNESS).status is CheckStatus.NOT_VERIFIABLE
    f = tmp_path / "w.vkey"
    f.write_text(witness.state.key.public.vkey() + "\n")
    r = _run(history, witness_keys=[load_witness_key(f)]).get(WITNESS)
    assert r.status is CheckStatus.PASS and r.figures["covered_size"] == size
    other = RunningWitness(tmp_path / "o", f"other.example/{tmp_path.name[-6:]}")
    other.stop()
    late = Window(history.window().start, history.window().end + timedelta(days=1))
    r = _run(history, window=late, witness_keys=[other.state.key.public]).get(WITNESS)
    assert r.status is CheckStatus.FAIL and "no cosignature at all" in r.summary
    f.write_text("not a key\n")
    with pytest.raises(ConfigError, match="witness key"):
        load_witness_key(f)


def _pin(h: History, name: str, server: str) -> None:
    verify_resource(
        h.ctx,
        name,
        ServerIdentity("postgresql", server, "shop"),
        actor="alice",
        purpose="test pin",
    )


def test_store_pins_distinct_pass(history: History) -> None:
    _pin(history, "prod-db", "7300000000000000001")
    _pin(history, "staging-db", "7300000000000000002")
    ev = _run(history)
    r = ev.get(IDENTITY)
    assert r.status is CheckStatus.PASS, r.summary
    assert (r.figures["pinned"], r.figures["unpinned"], r.figures["shared"]) == (2, 0, 0)
    log = history.inputs().audit.events()
    assert {log[i].code for i in expand(r.events)} == {"access.resource.pinned"}
    assert ev.get("access.external_production").status is CheckStatus.PASS


def test_store_pins_shared_fail(history: History) -> None:
    """Staging pinned first, production later to the same cluster: the pin guard cannot
    see it (production was unknown), the evidence check does."""
    _pin(history, "staging-db", "7300000000000000001")
    _pin(history, "prod-db", "7300000000000000001")
    ev = _run(history)
    r = ev.get(IDENTITY)
    assert r.status is CheckStatus.FAIL and r.figures["shared"] == 1
    assert r.items[0]["resources"] == ["prod-db", "staging-db"]
    assert r.items[0]["source"] == "pinned"
    ext = ev.get("access.external_production")
    assert ext.status is CheckStatus.FAIL
    assert any("same server as production prod-db" in i["where"] for i in ext.items)


def test_the_pin_guard_refuses_the_other_order(history: History) -> None:
    _pin(history, "prod-db", "7300000000000000001")
    with pytest.raises(IdentityRefused):
        _pin(history, "staging-db", "7300000000000000001")
    r = _run(history).get(IDENTITY)
    assert r.status is CheckStatus.NOT_VERIFIABLE and "staging-db" in r.summary


def test_real_postgres_identities_of_one_cluster_fail(history: History, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        ident = read_postgres(conn)
    verify_resource(history.ctx, "staging-db", ident, actor="alice", purpose="test pin")
    verify_resource(history.ctx, "prod-db", ident, actor="alice", purpose="test pin")
    r = _run(history).get(IDENTITY)
    assert r.status is CheckStatus.FAIL
    assert r.items[0]["identity"] == f"postgresql:{ident.server}"


# -- the pack carries the witnesses' cosignatures; `evidence verify` checks them offline --


def _witnessed_pack(h: History, w: RunningWitness, out: Path) -> Path:
    _configure(h, w)
    _cosign(h, w)
    build_pack(h.inputs(), out, signing_key=load_signing_key(), pdf=False)
    return out


def test_a_witnessed_pack_verifies_against_the_witness_key(
    history: History, witness: RunningWitness, tmp_path: Path
) -> None:
    pack = _witnessed_pack(history, witness, tmp_path / "pack.zip")
    name = witness.state.key.name
    report = verify_pack(
        pack, public_key=load_public_key(), witness_keys=[witness.state.key.public]
    )
    assert [(w["witness"], w["verified"], w["covers_window"]) for w in report.witnessed] == [
        (name, True, True)
    ]
    assert report.warnings == ()
    # without the witness key the names are reported, unchecked
    unchecked = verify_pack(pack, public_key=load_public_key())
    assert "witness cosignatures were NOT checked" in unchecked.warnings[0]
    assert unchecked.witnessed[0]["verified"] is False
    # a witness that never saw this log is not a quorum
    other = RunningWitness(tmp_path / "o", f"other.example/{tmp_path.name[-6:]}")
    other.stop()
    with pytest.raises(PackInvalid, match="only 0 of the required 1 witness"):
        verify_pack(pack, public_key=load_public_key(), witness_keys=[other.state.key.public])
    with pytest.raises(UsageError, match="quorum 2"):
        verify_pack(pack, witness_keys=[witness.state.key.public], witness_quorum=2)
    with pytest.raises(UsageError, match="quorum 1 must be between 1 and the 0"):
        verify_pack(pack, witness_quorum=1)  # a quorum of no witness is not a check
    # and through the command line
    vkey = tmp_path / "w.vkey"
    vkey.write_text(witness.state.key.public.vkey() + "\n")
    pub = tmp_path / "audit.pub"
    pub.write_text(load_public_key().vkey() + "\n")
    r = run_cli(
        "evidence", "verify", str(pack), "--public-key", str(pub), "--witness-key", str(vkey)
    )
    assert r.exit_code == 0, r.stderr
    assert f"witnessed: {name} cosigned the log" in r.stdout


def test_history_rewritten_and_re_signed_by_the_operator_is_refused(
    history: History, witness: RunningWitness, tmp_path: Path
) -> None:
    """The operator holds the log key: they rewrite an event, recompute the tree, sign a new
    checkpoint and manifest. The log key alone cannot tell; the witness's cosigned root can."""
    pack = _witnessed_pack(history, witness, tmp_path / "pack.zip")
    with zipfile.ZipFile(pack) as z:
        files = {n: z.read(n) for n in z.namelist()}
    key = load_signing_key()
    index = json.loads(files["index.json"])
    lines = files["events.jsonl"].split(b"\n")[:-1]
    pos = index["events"].index(2)
    doc = json.loads(lines[pos])
    doc["message"] = "nothing happened here"
    lines[pos] = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    leaves = [files["leaves.bin"][i : i + 32] for i in range(0, len(files["leaves.bin"]), 32)]
    leaves[2] = hashlib.sha256(b"\x00" + lines[pos]).digest()
    tree = ProofMaker(leaves)
    proofs = json.loads(files["proofs.json"])
    for p in proofs["proofs"]:
        p["path"] = [h.hex() for h in tree.path(p["index"])]
    manifest = json.loads(files["manifest.json"])
    note = sign_checkpoint(Checkpoint(key.name, tree.n, tree.root()), key)
    files.update(
        {
            "events.jsonl": b"\n".join(lines) + b"\n",
            "leaves.bin": b"".join(leaves),
            "proofs.json": json.dumps(proofs).encode(),
            "checkpoint.txt": note.encode(),
        }
    )
    manifest["log"]["root_hash"] = tree.root().hex()
    forged = signed_zip(files, manifest, tmp_path / "forged.zip")
    with pytest.raises(PackInvalid, match="does not recompute: the log was rewritten"):
        verify_pack(forged, public_key=load_public_key())
    with pytest.raises(PackInvalid, match="does not recompute"):
        verify_pack(forged, public_key=load_public_key(), witness_keys=[witness.state.key.public])
    # dropping the witnesses' notes as well passes the log key alone: only the auditor's
    # own witness keys (--witness-key) catch it
    for name in [n for n in files if n.startswith("witness/")]:
        del files[name]
    stripped = signed_zip(files, manifest, tmp_path / "stripped.zip")
    assert verify_pack(stripped, public_key=load_public_key()).witnessed == ()
    with pytest.raises(PackInvalid, match="only 0 of the required 1 witness"):
        verify_pack(stripped, public_key=load_public_key(), witness_keys=[witness.state.key.public])


def test_the_pack_is_bound_to_a_checkpoint_the_witnesses_cosign_when_it_is_made(
    history: History, witness: RunningWitness, tmp_path: Path
) -> None:
    _configure(history, witness)  # nothing cosigned yet: the pack asks the witness itself
    res = build_pack(
        history.inputs(), tmp_path / "p.zip", signing_key=load_signing_key(), pdf=False
    )
    assert res.evaluation.get(WITNESS).status is CheckStatus.PASS
    report = verify_pack(
        res.path, public_key=load_public_key(), witness_keys=[witness.state.key.public]
    )
    assert [(w["size"], w["verified"]) for w in report.witnessed] == [(res.tree_size, True)]
