"""The witness side of C2SP tlog-witness: every refusal the spec prescribes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from stagewall.audit._checkpoint import Checkpoint, sign_checkpoint
from stagewall.audit._cosignature import (
    WitnessSigningKey,
    parse_witness_key,
    signed_message,
    verify_cosignature_line,
)
from stagewall.audit._merkle import consistency_proof, leaf_hash, root
from stagewall.audit._witness import request_body
from stagewall.errors import ConfigError, KeyMissing
from stagewall.keys import SigningKey
from stagewall.witness import Witness, WitnessState, init_witness
from tests.cli_helpers import run_cli

LOG = SigningKey("log.example/audit", b"\x07" * 32)
LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(20)]


def _note(size: int, key: SigningKey = LOG, leaves: list[bytes] = LEAVES) -> str:
    return sign_checkpoint(Checkpoint(key.name, size, root(leaves[:size])), key)


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    state = init_witness(tmp_path / "w", "witness.example/w1")
    state.add_log(LOG.public)
    return Witness(state)


def _submit(w: Witness, old: int, size: int, leaves: list[bytes] = LEAVES) -> tuple[int, bytes]:
    proof = consistency_proof(old, leaves[:size]) if old else []
    answer = w.add_checkpoint(request_body(old, proof, _note(size, leaves=leaves)))
    return answer.status, answer.body


def test_cosigns_first_checkpoint_and_then_consistent_ones(witness: Witness) -> None:
    status, body = _submit(witness, 0, 8)
    assert status == 200
    note = _note(8)
    cp_body = note[: note.rfind("\n\n") + 1]
    cosig = verify_cosignature_line(
        body.decode(),
        cp_body,
        Checkpoint(LOG.name, 8, root(LEAVES[:8])),
        witness.state.key.public,
        source="test",
    )
    assert cosig is not None and cosig.size == 8
    assert _submit(witness, 8, 13)[0] == 200
    assert _submit(witness, 13, 13)[0] == 200  # same size, same root: cosigned again
    with witness.state.connect() as conn:
        latest = witness.state.latest(conn, LOG.name)
    assert latest is not None and latest.size == 13


def test_unknown_origin_is_404_and_untrusted_signature_403(witness: Witness) -> None:
    other = SigningKey("other.example/log", b"\x01" * 32)
    assert witness.add_checkpoint(request_body(0, [], _note(3, other))).status == 404
    impostor = SigningKey(LOG.name, b"\x02" * 32)  # same origin, another key
    assert witness.add_checkpoint(request_body(0, [], _note(3, impostor))).status == 403


def test_malformed_and_old_larger_than_size_are_400(witness: Witness) -> None:
    assert witness.add_checkpoint(b"hello\n\n" + _note(3).encode()).status == 400
    assert witness.add_checkpoint(request_body(5, [], _note(3))).status == 400
    assert witness.add_checkpoint(b"old 0\nnot-base64!\n\n" + _note(3).encode()).status == 400


def test_wrong_old_size_is_409_with_the_cosigned_size(witness: Witness) -> None:
    assert _submit(witness, 0, 10)[0] == 200
    answer = witness.add_checkpoint(request_body(4, consistency_proof(4, LEAVES[:12]), _note(12)))
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"10\n")


def test_rewritten_history_is_refused_and_kept_as_evidence(witness: Witness) -> None:
    assert _submit(witness, 0, 10)[0] == 200
    forged = [*LEAVES]
    forged[3] = leaf_hash(b"rewritten")
    assert _submit(witness, 10, 15, forged)[0] == 422  # proof cannot connect the roots
    assert _submit(witness, 10, 10, forged)[0] == 409  # same size, other root
    assert witness.state.refused_count() == 2
    with witness.state.connect() as conn:
        latest = witness.state.latest(conn, LOG.name)
    assert latest is not None and latest.size == 10 and latest.root == root(LEAVES[:10])


def test_a_smaller_tree_is_never_cosigned_after_a_larger(witness: Witness) -> None:
    assert _submit(witness, 0, 12)[0] == 200
    assert _submit(witness, 0, 8)[0] == 409
    assert witness.add_checkpoint(request_body(12, [], _note(8))).status == 400


def test_cosigned_message_format_follows_the_spec() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert signed_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    key = WitnessSigningKey("witness.example/w1", b"\x05" * 32)
    line = key.cosign(body, 1679315147)
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4] == key.public.key_id and int.from_bytes(blob[4:12], "big") == 1679315147
    assert len(blob) == 76
    assert parse_witness_key(key.public.vkey()) == key.public
    with pytest.raises(ConfigError, match="type byte 0x04"):
        parse_witness_key(LOG.public.vkey())
    assert WitnessSigningKey.from_text(key.to_text()) == key


def test_state_is_required_and_never_recreated(tmp_path: Path) -> None:
    with pytest.raises(KeyMissing, match="not an initialised witness directory"):
        WitnessState(tmp_path / "none")
    init_witness(tmp_path / "w", "witness.example/w1")
    with pytest.raises(ConfigError, match="already holds a witness"):
        init_witness(tmp_path / "w", "witness.example/w1")


def test_witness_cli(tmp_path: Path) -> None:
    res = run_cli("witness", "init", str(tmp_path / "w"), "--name", "witness.example/w1")
    assert res.exit_code == 0 and res.stdout.startswith("witness.example/w1+")
    pub = tmp_path / "log.pub"
    pub.write_text(LOG.public.vkey() + "\n")
    res = run_cli("witness", "add-log", str(tmp_path / "w"), "--public-key", str(pub))
    assert res.exit_code == 0 and "witnessing log log.example/audit" in res.stdout
    res = run_cli("witness", "status", str(tmp_path / "w"))
    assert "log.example/audit: cosigned size 0 (never)" in res.stdout
    res = run_cli("witness", "serve", str(tmp_path / "w"), "--listen", "nonsense")
    assert res.exit_code == 2 and "is not HOST:PORT" in res.stderr
    res = run_cli("witness", "serve", str(tmp_path / "missing"))
    assert res.exit_code == 2 and "not an initialised witness directory" in res.stderr
