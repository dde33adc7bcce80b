"""`stagewall audit ...` end to end: exit codes and messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from stagewall.audit import AuditLog
from stagewall.keys import SigningKey, init_keys
from stagewall.store import open_store
from tests.audit.conftest import allow_tampering, make_event
from tests.cli_helpers import run_cli


def _populate(n: int = 9) -> None:
    init_keys(name="test.example/cli")
    store = open_store()
    log = AuditLog(store, checkpoint_every=4, checkpoint_interval=None)
    for i in range(n):
        log.append(make_event(i))
    store.dispose()


def test_verify_ok_text_and_json() -> None:
    _populate()
    # event 8 is after the newest checkpoint: accepted only when asked, with a warning
    res = run_cli("audit", "verify", "--allow-uncheckpointed")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("ok: audit log verified: 9 events")
    assert "events 8..8 are not yet covered by a signed checkpoint" in res.stderr
    res = run_cli("audit", "verify", "--allow-uncheckpointed", "--format", "json")
    data = json.loads(res.stdout)
    assert data["ok"] is True and data["size"] == 9 and data["checkpoints_verified"] == [4, 8]


def test_verify_names_the_first_bad_index(tmp_path: Path) -> None:
    _populate()
    store = open_store()
    from sqlalchemy import text

    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("UPDATE audit_events SET canonical = canonical || x'20' WHERE idx = 5"))
    store.dispose()
    res = run_cli("audit", "verify")
    assert res.exit_code == 1
    assert "error[SW501]: audit log broken at index 5: the event bytes do not match" in res.stderr
    res = run_cli("audit", "verify", "--format", "json")
    assert res.exit_code == 1
    assert json.loads(res.stdout)["index"] == 5


def test_checkpoint_export_and_offline_verify(tmp_path: Path) -> None:
    _populate()
    res = run_cli("audit", "checkpoint")
    assert res.exit_code == 0 and res.stdout.startswith("test.example/cli\n9\n")
    assert "\n\n\u2014 test.example/cli " in res.stdout
    out = tmp_path / "bundle"
    res = run_cli("audit", "export", "--out", str(out))
    assert res.exit_code == 0, res.stderr
    assert "exported 9 events and 3 checkpoint(s)" in res.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "README.txt",
        "chain.txt",
        "checkpoints",
        "events.jsonl",
        "public.key",
    ]
    pub = tmp_path / "trusted.pub"
    assert run_cli("keys", "export-public", "--out", str(pub)).exit_code == 0
    older = tmp_path / "older.txt"
    shutil.copy(out / "checkpoints" / "checkpoint-000000000004.txt", older)
    shutil.rmtree(Path.cwd() / ".nonexistent", ignore_errors=True)
    res = run_cli(
        "audit",
        "verify",
        "--bundle",
        str(out),
        "--public-key",
        str(pub),
        "--checkpoint",
        str(older),
    )
    assert res.exit_code == 0, res.stderr
    assert "ok: bundle" in res.stdout and "(size 4 -> 9)" in res.stdout
    assert "NOT pinned" not in res.stderr
    res = run_cli("audit", "verify", "--bundle", str(out))
    assert res.exit_code == 0  # the key in STAGEWALL_HOME is pinned: it is not the bundle's
    assert "NOT pinned" not in res.stderr
    res = run_cli("audit", "verify", "--bundle", str(out), env={"STAGEWALL_HOME": str(tmp_path)})
    assert res.exit_code == 2  # issue 12: without a pinned key offline verification fails
    assert "error[SW102]: offline verification needs a pinned public key" in res.stderr


def test_verify_missing_bundle_dir(tmp_path: Path) -> None:
    res = run_cli("audit", "verify", "--bundle", str(tmp_path / "absent"))
    assert res.exit_code == 2
    assert f"error[SW101]: bundle directory {tmp_path / 'absent'} does not exist" in res.stderr


def test_verify_corrupted_checkpoint_file(tmp_path: Path) -> None:
    _populate()
    out = tmp_path / "b"
    run_cli("audit", "export", "--out", str(out))
    cp = out / "checkpoints" / "checkpoint-000000000004.txt"
    cp.write_text(cp.read_text().replace("\u2014", "-"))
    res = run_cli("audit", "verify", "--bundle", str(out))
    assert res.exit_code == 1
    assert (
        "error[SW502]: checkpoint checkpoint-000000000004.txt has a malformed signature line"
        in (res.stderr)
    )


def test_verify_with_the_wrong_public_key(tmp_path: Path) -> None:
    _populate()
    out = tmp_path / "b"
    run_cli("audit", "export", "--out", str(out))
    wrong = tmp_path / "wrong.pub"
    wrong.write_text(SigningKey("test.example/cli", b"\x03" * 32).public.vkey() + "\n")
    res = run_cli("audit", "verify", "--bundle", str(out), "--public-key", str(wrong))
    assert res.exit_code == 1
    assert (
        "error[SW502]: checkpoint checkpoint-000000000004.txt is not signed by the expected key"
        in (res.stderr)
    )


def test_verify_with_an_open_key_file() -> None:
    _populate()
    res = init_keys()
    (res.home / "audit_signing.key").chmod(0o640)
    result = run_cli("audit", "checkpoint")
    assert result.exit_code == 2
    assert "audit_signing.key has mode 0640: group or other users can access it" in result.stderr
    assert "hint: run `chmod 600" in result.stderr


def test_proof_and_verify_proof(tmp_path: Path) -> None:
    _populate()
    res = run_cli("audit", "proof", "6", "--format", "json")
    assert res.exit_code == 0
    proof = json.loads(res.stdout)
    assert (proof["leaf_index"], proof["tree_size"]) == (6, 9)
    path = tmp_path / "p.json"
    path.write_text(res.stdout)
    ok = run_cli("audit", "verify-proof", str(path))
    assert ok.exit_code == 0 and "ok: event 6 is included in the tree of size 9" in ok.stdout
    proof["audit_path"][0] = "00" * 32
    path.write_text(json.dumps(proof))
    bad = run_cli("audit", "verify-proof", str(path))
    assert bad.exit_code == 1
    assert "the inclusion proof for index 6 does not verify" in bad.stderr
    # bound to a signed checkpoint of the same size
    run_cli("audit", "checkpoint")
    cp = tmp_path / "cp.txt"
    cp.write_text(run_cli("audit", "checkpoint").stdout)
    path.write_text(run_cli("audit", "proof", "2", "--format", "json").stdout)
    ok = run_cli("audit", "verify-proof", str(path), "--checkpoint", str(cp))
    assert ok.exit_code == 0, ok.stderr
    old = run_cli("audit", "proof", "2", "--size", "4", "--format", "json").stdout
    path.write_text(old)
    bad = run_cli("audit", "verify-proof", str(path), "--checkpoint", str(cp))
    assert bad.exit_code == 1 and "which is not checkpoint" in bad.stderr


def test_proof_out_of_range_and_malformed_proof(tmp_path: Path) -> None:
    _populate(3)
    res = run_cli("audit", "proof", "3")
    assert res.exit_code == 2 and "event index 3 is outside the log (size 3)" in res.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    res = run_cli("audit", "verify-proof", str(bad))
    assert res.exit_code == 2 and f"cannot read the proof {bad}" in res.stderr


def test_tail() -> None:
    _populate(5)
    res = run_cli("audit", "tail", "-n", "2")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "3" and "thing 4 done" in lines[1]
    data = json.loads(run_cli("audit", "tail", "-n", "3", "--format", "json").stdout)
    assert [d["metadata"]["log_index"] for d in data] == [2, 3, 4]
    assert run_cli("audit", "tail", "-n", "-1").exit_code == 2


def test_verify_proof_refuses_an_altered_event(tmp_path: Path) -> None:
    _populate(4)
    proof = json.loads(run_cli("audit", "proof", "1", "--format", "json").stdout)
    proof["event"] = proof["event"].replace("thing 1", "thing 9")
    path = tmp_path / "p.json"
    path.write_text(json.dumps(proof))
    res = run_cli("audit", "verify-proof", str(path))
    assert res.exit_code == 1
    assert f"the event in {path} does not hash to its leaf hash" in res.stderr


def test_bundle_verify_json_names_the_index(tmp_path: Path) -> None:
    _populate(6)
    out = tmp_path / "b"
    run_cli("audit", "export", "--out", str(out))
    lines = (out / "events.jsonl").read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"thing 2", b"thing 7")
    (out / "events.jsonl").write_bytes(b"\n".join(lines))
    res = run_cli("audit", "verify", "--bundle", str(out), "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert (data["ok"], data["index"], data["error"]) == (False, 2, "SW501")
    assert "audit log broken at index 2" in res.stderr


def test_store_verify_against_an_auditors_older_checkpoint(tmp_path: Path) -> None:
    _populate(9)
    older = tmp_path / "older.txt"
    older.write_text(run_cli("audit", "checkpoint").stdout)  # size 9, kept by the auditor
    store = open_store()
    AuditLog(store).append_many([make_event(i) for i in range(9, 12)])
    store.dispose()
    res = run_cli(  # events 9..11 are after the newest checkpoint (they are not the point)
        "audit", "verify", "--checkpoint", str(older), "--allow-uncheckpointed", "--format", "json"
    )
    assert res.exit_code == 0, res.stderr
    (proof,) = json.loads(res.stdout)["consistency_proofs"]
    assert (proof["old_size"], proof["new_size"]) == (9, 12)
    # the operator truncates the store back below the auditor's checkpoint
    store = open_store()
    allow_tampering(store)
    from sqlalchemy import text

    with store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE idx >= 7"))
        conn.execute(text("DELETE FROM audit_checkpoints WHERE size > 4"))
    store.dispose()
    res = run_cli("audit", "verify", "--checkpoint", str(older))
    assert res.exit_code == 1
    assert f"checkpoint {older} covers 9 events but the log has only 7" in res.stderr


def test_verify_with_a_missing_checkpoint_file(tmp_path: Path) -> None:
    _populate(3)
    res = run_cli("audit", "verify", "--checkpoint", str(tmp_path / "nope.txt"))
    assert res.exit_code == 2
    assert f"checkpoint file {tmp_path / 'nope.txt'} does not exist" in res.stderr


def test_reading_commands_never_create_an_empty_store(_isolated_home: Path) -> None:
    for args in (("audit", "verify"), ("audit", "tail"), ("audit", "checkpoint")):
        r = run_cli(*args)
        assert r.exit_code == 2, args
        assert "there is no stagewall store at" in r.stderr and "STAGEWALL_HOME" in r.stderr
    assert not (_isolated_home / "stagewall.db").exists()
