"""Promotion attestations: an in-toto Statement v1 in a DSSE envelope, Ed25519-signed.

* Statement: ``_type`` ``https://in-toto.io/Statement/v1``, one ``subject`` (the
  artifact, digest ``sha256``), ``predicateType`` :data:`PREDICATE_TYPE`, and the
  stagewall promotion predicate (stage, environment, commit, digest, authors,
  approvals with MFA evidence, checks, time, rules hash).
* Envelope: DSSE with ``payloadType`` ``application/vnd.in-toto+json``; the signature
  covers ``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``.
  ``keyid`` is the lower-case hex SHA-256 of the raw 32-byte Ed25519 public key.

The envelope file is written in one canonical form (sorted keys, no spaces, one
trailing newline), and :func:`verify_envelope` insists on it, so a change to *any*
byte of the file fails verification, not only a change to the signed payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stagewall.errors import AttestationMismatch, IntegrityError, SignatureInvalid
from stagewall.gates._git import check_full_sha
from stagewall.keys import PublicKey, SigningKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://stagewall.dev/promotion/v1"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_REQUIRED = (
    "stage",
    "environment",
    "sha",
    "digest",
    "authors",
    "approvals",
    "checks",
    "time",
    "rules_hash",
)


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def _json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id(public: PublicKey) -> str:
    return hashlib.sha256(public.raw).hexdigest()


def statement(subject_name: str, digest: str, predicate: dict[str, Any]) -> dict[str, Any]:
    """An in-toto Statement v1 about one artifact (``digest`` is ``sha256:<hex>``)."""
    hexdigest = digest.removeprefix("sha256:")
    if not _DIGEST.match(hexdigest):
        raise IntegrityError(f"artifact digest {digest!r} is not sha256:<64 hex digits>")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"sha256": hexdigest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }


def sign_envelope(stmt: dict[str, Any], key: SigningKey) -> bytes:
    """The DSSE envelope file (canonical JSON plus a newline) for ``stmt``."""
    body = _json(stmt)
    sig = key.sign(pae(PAYLOAD_TYPE, body))
    envelope = {
        "payload": base64.b64encode(body).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": key_id(key.public), "sig": base64.b64encode(sig).decode()}],
    }
    return _json(envelope) + b"\n"


@dataclass(frozen=True)
class Verified:
    """A verified attestation: the statement, its predicate and the key that signed it."""

    statement: dict[str, Any]
    keyid: str

    @property
    def predicate(self) -> dict[str, Any]:
        pred: dict[str, Any] = self.statement["predicate"]
        return pred


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise IntegrityError(f"the envelope's {what} is not a string")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise IntegrityError(f"the envelope's {what} is not valid base64") from exc
    if base64.b64encode(raw).decode() != value:
        raise IntegrityError(f"the envelope's {what} is not in canonical base64")
    return raw


def verify_envelope(data: bytes, public: PublicKey) -> Verified:
    """Check the envelope and its statement offline; raise on any mismatch."""
    try:
        envelope = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(
            "the attestation is not valid JSON (damaged or not an envelope)"
        ) from exc
    if not isinstance(envelope, dict) or set(envelope) != {"payload", "payloadType", "signatures"}:
        raise IntegrityError(
            "the attestation is not a DSSE envelope (payload, payloadType, signatures)"
        )
    if _json(envelope) + b"\n" != data:
        raise IntegrityError(
            "the attestation file is not in its signed canonical form: it was modified"
        )
    if envelope["payloadType"] != PAYLOAD_TYPE:
        raise IntegrityError(f"payloadType is {envelope['payloadType']!r}, expected {PAYLOAD_TYPE}")
    body = _b64(envelope["payload"], "payload")
    sigs = envelope["signatures"]
    if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], dict):
        raise IntegrityError("the envelope must carry exactly one signature")
    want = key_id(public)
    if sigs[0].get("keyid") != want:
        raise SignatureInvalid(
            f"the attestation was signed by key {str(sigs[0].get('keyid'))[:16]}…, not by the "
            f"expected key {want[:16]}…",
            hint="pass the right --public-key, or the attestation did not come from this stagewall",
        )
    if not public.verify(_b64(sigs[0].get("sig"), "signature"), pae(PAYLOAD_TYPE, body)):
        raise SignatureInvalid(
            "the attestation signature does not verify: it was altered or forged"
        )
    try:
        stmt = json.loads(body)
    except ValueError as exc:  # signed but not JSON: not ours
        raise IntegrityError("the signed payload is not JSON") from exc
    _check_statement(stmt)
    return Verified(stmt, want)


MAX_FUTURE = timedelta(minutes=5)


def expect_subject(
    verified: Verified,
    *,
    stage: str | None = None,
    commit: str | None = None,
    digest: str | None = None,
    max_age: timedelta | None = None,
    now: datetime | None = None,
) -> None:
    """Raise :class:`AttestationMismatch` unless the attestation is about exactly these.

    ``commit`` is the full object id (40 or 64 hex digits, any case): a prefix raises
    :class:`~stagewall.errors.CommitNotFull`, since a commit crafted to share it would
    match. ``digest`` is ``sha256:<hex>`` or the bare hex. ``max_age``: the
    attestation must have been signed (its predicate's ``time``) at most this long
    before ``now`` — an old attestation was true when it was signed, not necessarily
    now (an approval may have stopped counting or a check failed since).
    """
    want_commit = None if commit is None else check_full_sha(commit, "--commit")
    pred = verified.predicate
    problems: list[str] = []
    if max_age is not None:
        problems.extend(_age_problems(pred.get("time"), max_age, now or datetime.now(UTC)))
    if stage is not None and pred.get("stage") != stage:
        problems.append(f"stage {pred.get('stage')!r}, not {stage!r}")
    if want_commit is not None:
        have = str(pred.get("sha", "")).lower()
        if have != want_commit:
            problems.append(f"commit {have[:12]}…, not {want_commit}")
    if digest is not None:
        want_digest = digest.strip().lower()
        if not want_digest.startswith("sha256:"):
            want_digest = "sha256:" + want_digest
        if pred.get("digest") != want_digest:
            problems.append(f"artifact {str(pred.get('digest'))[:23]}…, not {digest!r}")
    if problems:
        raise AttestationMismatch("the attestation is valid but it is about " + "; ".join(problems))


def _age_problems(value: Any, max_age: timedelta, now: datetime) -> list[str]:
    try:
        signed = datetime.fromisoformat(str(value))
    except ValueError:
        return [f"an unreadable signing time {str(value)[:40]!r}"]
    if signed.tzinfo is None:
        return [f"a signing time without a time zone {str(value)[:40]!r}"]
    if signed > now + MAX_FUTURE:
        return [f"a signing time in the future ({signed.isoformat()})"]
    if now - signed > max_age:
        return [f"a decision signed at {signed.isoformat()}, more than {max_age} ago"]
    return []


def _check_statement(stmt: Any) -> None:
    if not isinstance(stmt, dict) or stmt.get("_type") != STATEMENT_TYPE:
        raise IntegrityError(f"the payload is not an in-toto Statement ({STATEMENT_TYPE})")
    if stmt.get("predicateType") != PREDICATE_TYPE:
        raise IntegrityError(
            f"predicateType is {stmt.get('predicateType')!r}, expected {PREDICATE_TYPE}"
        )
    pred = stmt.get("predicate")
    subjects = stmt.get("subject")
    if not isinstance(pred, dict) or any(k not in pred for k in _REQUIRED):
        raise IntegrityError("the promotion predicate is incomplete")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise IntegrityError("the statement must name exactly one subject")
    digest = subjects[0].get("digest", {})
    if not isinstance(digest, dict) or f"sha256:{digest.get('sha256')}" != pred["digest"]:
        raise IntegrityError("the subject digest and the predicate's artifact digest differ")


__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Verified",
    "expect_subject",
    "key_id",
    "pae",
    "sign_envelope",
    "statement",
    "verify_envelope",
]
