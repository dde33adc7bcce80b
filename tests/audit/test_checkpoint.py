"""C2SP checkpoints and signed notes: known-answer vectors and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagewall.audit._checkpoint import (
    Checkpoint,
    CheckpointInvalid,
    parse_note,
    sign_checkpoint,
    verify_checkpoint,
)
from stagewall.errors import SignatureInvalid
from stagewall.keys import SigningKey, parse_public_key

VECTOR = json.loads((Path(__file__).parent / "vectors" / "checkpoint_vector.json").read_text())


def _key() -> SigningKey:
    return SigningKey(VECTOR["name"], bytes.fromhex(VECTOR["seed_hex"]))


def test_fixed_seed_gives_the_exact_checkpoint_text() -> None:
    cp = Checkpoint(VECTOR["name"], VECTOR["size"], bytes.fromhex(VECTOR["root_hex"]))
    assert sign_checkpoint(cp, _key()) == VECTOR["note"]
    assert _key().public.vkey() == VECTOR["vkey"]


def test_go_sumdb_note_reference_signature() -> None:
    # The example from golang.org/x/mod/sumdb/note (also in the C2SP signed-note spec).
    key = SigningKey.from_text(
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    )
    text = (
        b"If you think cryptography is the answer to your problem,\n"
        b"then you don't know what your problem is.\n"
    )
    import base64

    sig = base64.b64encode(key.public.key_hash() + key.sign(text)).decode()
    assert sig == (
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
    )
    assert key.public.key_hash().hex() == "c74f20a3"


def test_verify_accepts_the_vector_with_vkey_and_pem() -> None:
    vkey = parse_public_key(VECTOR["vkey"])
    cp = verify_checkpoint(VECTOR["note"], vkey)
    assert (cp.size, cp.root.hex()) == (8, VECTOR["root_hex"])
    pem = parse_public_key(_key().public.pem())
    assert pem.name is None
    assert verify_checkpoint(VECTOR["note"], pem).size == 8


def test_altered_size_fails_signature() -> None:
    forged = VECTOR["note"].replace("\n8\n", "\n9\n", 1)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_checkpoint(forged, parse_public_key(VECTOR["vkey"]))


def test_wrong_key_is_refused() -> None:
    other = SigningKey(VECTOR["name"], b"\x07" * 32).public
    with pytest.raises(CheckpointInvalid, match="not signed by the expected key"):
        verify_checkpoint(VECTOR["note"], other)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\n", "no blank line"),
        ("origin\n8\n\n\u2014 a AAAA\n", "needs origin, tree size and root hash"),
        ("origin\nx\nAAAA\n\n\u2014 a AAAAAAAA\n", "invalid origin or tree size"),
        ("origin\n8\nAAAA\n\n\u2014 a AAAAAAAA\n", "not a base64 SHA-256 hash"),
        (VECTOR["note"].replace("\u2014", "--"), "malformed signature line"),
        (VECTOR["note"].rstrip("\n"), "does not end with a newline"),
    ],
)
def test_malformed_notes_are_refused(text: str, message: str) -> None:
    with pytest.raises(CheckpointInvalid, match=message):
        parse_note(text)
