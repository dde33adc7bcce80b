"""DSSE envelopes of in-toto statements: known answer, tampering, wrong keys, CLI verify."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from stagewall.errors import IntegrityError, SignatureInvalid
from stagewall.gates.attestation import pae, sign_envelope, statement, verify_envelope
from stagewall.keys import PublicKey, SigningKey
from tests.cli_helpers import run_cli

VECTOR = json.loads(Path(__file__).with_name("vectors").joinpath("dsse_promotion.json").read_text())
KEY = SigningKey("stagewall.test/vector", bytes.fromhex(VECTOR["seed_hex"]))
PUBLIC = PublicKey(None, bytes.fromhex(VECTOR["public_hex"]))
ENVELOPE = VECTOR["envelope"].encode()


def test_pae_matches_the_dsse_spec_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_known_answer_envelope_bytes() -> None:
    assert KEY.public.raw == PUBLIC.raw
    assert sign_envelope(VECTOR["statement"], KEY) == ENVELOPE


def test_known_answer_verifies() -> None:
    v = verify_envelope(ENVELOPE, PUBLIC)
    assert v.predicate["approvals"][0]["approver"] == "alice"
    assert v.statement["subject"][0]["digest"]["sha256"] == "ab" * 32


def test_every_single_byte_change_fails() -> None:
    for i in range(len(ENVELOPE)):
        tampered = bytearray(ENVELOPE)
        tampered[i] ^= 0x01
        with pytest.raises((IntegrityError, SignatureInvalid)):
            verify_envelope(bytes(tampered), PUBLIC)


def test_truncation_and_extension_fail() -> None:
    for data in (ENVELOPE[:-1], ENVELOPE + b"\n", b" " + ENVELOPE, ENVELOPE[:100]):
        with pytest.raises(IntegrityError):
            verify_envelope(data, PUBLIC)


def test_wrong_key_is_refused() -> None:
    other = SigningKey("other", bytes(32)).public
    with pytest.raises(SignatureInvalid, match="not by the expected key"):
        verify_envelope(ENVELOPE, other)


def test_resigned_with_other_key_but_same_keyid_is_refused() -> None:
    forged = json.loads(ENVELOPE)
    forged["signatures"][0]["sig"] = json.loads(
        sign_envelope(VECTOR["statement"], SigningKey("x", bytes(32)))
    )["signatures"][0]["sig"]
    data = (json.dumps(forged, sort_keys=True, separators=(",", ":")) + "\n").encode()
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_envelope(data, PUBLIC)


def test_subject_and_predicate_digest_must_agree() -> None:
    stmt = statement("x", "sha256:" + "00" * 32, dict(VECTOR["statement"]["predicate"]))
    with pytest.raises(IntegrityError, match="digest"):
        verify_envelope(sign_envelope(stmt, KEY), PUBLIC)


def test_statement_rejects_bad_digest() -> None:
    with pytest.raises(IntegrityError, match="sha256:<64 hex digits>"):
        statement("x", "sha256:abc", {})


def test_cli_verify_good_tampered_and_pinned(tmp_path: Path) -> None:
    good = tmp_path / "att.json"
    good.write_bytes(ENVELOPE)
    pub = tmp_path / "key.pem"
    pub.write_text(PUBLIC.pem())
    r = run_cli("gate", "verify", str(good), "--public-key", str(pub))
    assert r.exit_code == 0, r.stderr
    assert "production" in r.stdout and "approved by alice" in r.stdout
    bad = tmp_path / "bad.json"
    data = bytearray(ENVELOPE)
    data[len(data) // 2] ^= 0x02
    bad.write_bytes(bytes(data))
    r = run_cli("gate", "verify", str(bad), "--public-key", str(pub))
    assert r.exit_code == 1
    assert "error[SW5" in r.stderr


def test_cli_verify_bad_input(tmp_path: Path) -> None:
    r = run_cli("gate", "verify", str(tmp_path / "missing.json"))
    assert r.exit_code == 2 and "cannot read" in r.stderr
    good = tmp_path / "att.json"
    good.write_bytes(ENVELOPE)
    r = run_cli("gate", "verify", str(good))
    assert r.exit_code == 2 and "no public key" in r.stderr
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key")
    r = run_cli("gate", "verify", str(good), "--public-key", str(junk))
    assert r.exit_code == 2 and "neither a vkey" in r.stderr


def test_cli_verify_checks_stage_commit_and_digest(tmp_path: Path) -> None:
    """Issue 12: a genuine attestation for another change must not pass."""
    pred = VECTOR["statement"]["predicate"]
    good = tmp_path / "att.json"
    good.write_bytes(ENVELOPE)
    pub = tmp_path / "key.pem"
    pub.write_text(PUBLIC.pem())
    base = ("gate", "verify", str(good), "--public-key", str(pub))
    r = run_cli(
        *base, "--stage", pred["stage"], "--commit", pred["sha"], "--digest", pred["digest"]
    )
    assert r.exit_code == 0, r.stderr
    assert "warning" not in r.stderr
    r = run_cli(*base, "--stage", "not-" + pred["stage"])
    assert r.exit_code == 1 and "error[SW513]" in r.stderr and "stage" in r.stderr
    r = run_cli(*base, "--commit", "0" * 40)
    assert r.exit_code == 1 and "commit" in r.stderr
    r = run_cli(*base, "--commit", pred["sha"][:4])  # too short to name a commit
    assert r.exit_code == 2 and "error[SW946]" in r.stderr
    r = run_cli(*base, "--digest", "sha256:" + "cd" * 32)
    assert r.exit_code == 1 and "artifact" in r.stderr
    r = run_cli(*base, "--digest", pred["digest"].removeprefix("sha256:"))
    assert r.exit_code == 0
    r = run_cli(*base)
    assert r.exit_code == 0 and "neither --commit nor --digest" in r.stderr


def test_cli_verify_max_age_refuses_an_old_attestation(tmp_path: Path) -> None:
    """Attack (redteamgate): an attestation verified forever, so a deploy step reading a
    stored one accepted it after its approval had stopped counting. --max-age bounds it."""
    pred = VECTOR["statement"]["predicate"]
    good = tmp_path / "att.json"
    good.write_bytes(ENVELOPE)
    pub = tmp_path / "key.pem"
    pub.write_text(PUBLIC.pem())
    base = ("gate", "verify", str(good), "--public-key", str(pub), "--digest", pred["digest"])
    r = run_cli(*base, "--max-age", "15m")
    assert r.exit_code == 1, r.stdout
    assert "error[SW513]" in r.stderr and "more than 0:15:00 ago" in r.stderr
    r = run_cli(*base, "--max-age", "soon")
    assert r.exit_code == 2 and "--max-age" in r.stderr and "not a duration" in r.stderr
    # Within the bound it verifies (the vector's time is known).
    from datetime import UTC, datetime

    age = datetime.now(UTC) - datetime.fromisoformat(pred["time"])
    r = run_cli(*base, "--max-age", f"{int(age.total_seconds()) + 3600}s")
    assert r.exit_code == 0, r.stderr


def test_expect_subject_max_age_bounds() -> None:
    from datetime import timedelta

    from stagewall.errors import AttestationMismatch
    from stagewall.gates.attestation import Verified, expect_subject

    def at(time: str) -> Verified:
        return Verified({"predicate": {"time": time}}, "k")

    now = datetime.fromisoformat("2026-01-01T12:00:00+00:00")
    expect_subject(at("2026-01-01T11:50:00+00:00"), max_age=timedelta(minutes=15), now=now)
    for bad, why in [
        ("2026-01-01T11:40:00+00:00", "more than"),
        ("2026-01-01T12:30:00+00:00", "in the future"),
        ("2026-01-01T11:55:00", "without a time zone"),
        ("yesterday", "unreadable"),
    ]:
        with pytest.raises(AttestationMismatch, match=why):
            expect_subject(at(bad), max_age=timedelta(minutes=15), now=now)
