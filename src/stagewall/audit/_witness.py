"""The log side of C2SP tlog-witness: send checkpoints to witnesses, keep cosignatures.

:func:`witness_checkpoints` signs a checkpoint of the whole log, submits it with an
RFC 6962 consistency proof to each witness's ``add-checkpoint`` endpoint, verifies
the returned cosignatures and stores them (append-only) beside the checkpoints.
:func:`probe_witness` asks a witness, within the protocol, for the size of the
newest checkpoint it cosigned: a witness that cosigned more events than the log
now has proves the log was truncated.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from stagewall._outbound import Unreachable, post
from stagewall.audit._checkpoint import Checkpoint, CheckpointInvalid, parse_note
from stagewall.audit._cosignature import Cosignature, WitnessPublicKey, verify_cosignature_line
from stagewall.audit._log import AuditLog, StoredCheckpoint, utc_now
from stagewall.audit._merkle import consistency_proof
from stagewall.audit._tables import audit_cosignatures
from stagewall.audit._witness_git import GitWitness, commit_checkpoint
from stagewall.errors import ConfigError, WitnessConflict, WitnessUnavailable
from stagewall.keys import SigningKey

_log = logging.getLogger("stagewall.audit.witness")
MAX_PROOF_LINES = 63
_SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class WitnessEndpoint:
    """A configured witness: its verifier key and (optionally) its submission prefix URL."""

    key: WitnessPublicKey
    url: str | None = None
    timeout: float = 10.0

    @property
    def name(self) -> str:
        return self.key.name


@dataclass(frozen=True)
class _Answer:
    status: int
    content_type: str
    body: bytes


def request_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The ``add-checkpoint`` request body: old size, proof lines, blank line, checkpoint."""
    if len(proof) > MAX_PROOF_LINES:
        raise WitnessUnavailable(f"a consistency proof of {len(proof)} hashes is too long")
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return ("".join(lines) + note).encode()


def _post(endpoint: WitnessEndpoint, body: bytes) -> _Answer:
    """POST to the witness; a redirect is its answer (never followed: the server would
    fetch whatever address the witness names and report that answer's text), and the
    whole exchange is bounded by the endpoint's timeout (:mod:`stagewall._outbound`)."""
    if endpoint.url is None:
        raise WitnessUnavailable(f"witness {endpoint.name} has no URL configured")
    url = endpoint.url.rstrip("/") + "/add-checkpoint"
    if not url.startswith(("http://", "https://")):
        raise WitnessUnavailable(f"witness {endpoint.name} URL {url} is not http(s)")
    try:
        answer = post(url, body, {"Content-Type": "text/plain; charset=utf-8"}, endpoint.timeout)
    except Unreachable as exc:
        raise WitnessUnavailable(
            f"witness {endpoint.name} at {url} is unreachable: {exc.reason}"
        ) from None
    if 300 <= answer.status < 400:
        return _Answer(answer.status, "", b"(a redirect, not followed)")
    return _Answer(answer.status, answer.content_type, answer.body)


def _size_from_conflict(endpoint: WitnessEndpoint, answer: _Answer) -> int:
    text = answer.body.decode("ascii", "replace")
    if answer.content_type != _SIZE_TYPE or not text.endswith("\n") or not text[:-1].isdigit():
        raise WitnessUnavailable(
            f"witness {endpoint.name} answered 409 without a {_SIZE_TYPE} size: {text[:80]!r}"
        )
    return int(text[:-1])


def parse_cosignatures(
    endpoint: WitnessEndpoint, note: str, response: str, *, source: str
) -> list[Cosignature]:
    """Cosignatures by ``endpoint`` among the signature lines of ``response``."""
    checkpoint, _sigs = parse_note(note, source=source)
    body = note[: note.rfind("\n\n") + 1]
    out: list[Cosignature] = []
    if not response.endswith("\n"):
        raise CheckpointInvalid(f"{source}: the response does not end with a newline")
    for line in response[:-1].split("\n"):
        cosig = verify_cosignature_line(line, body, checkpoint, endpoint.key, source=source)
        if cosig is not None:
            out.append(cosig)
    return out


def _last_cosigned_size(log: AuditLog, witness: str) -> int:
    with log.store.read() as conn:
        value = conn.execute(
            select(func.max(audit_cosignatures.c.size)).where(
                audit_cosignatures.c.witness == witness
            )
        ).scalar()
    return 0 if value is None else int(value)


def store_cosignatures(log: AuditLog, note: str, cosigs: Sequence[Cosignature]) -> None:
    """Keep each cosignature with its checkpoint note (idempotent)."""
    with log.store.transaction() as conn:
        for c in cosigs:
            exists = conn.execute(
                select(audit_cosignatures.c.size).where(
                    audit_cosignatures.c.witness == c.witness,
                    audit_cosignatures.c.size == c.size,
                    audit_cosignatures.c.timestamp == c.timestamp,
                )
            ).first()
            if exists is None:
                conn.execute(
                    insert(audit_cosignatures),
                    {
                        "witness": c.witness,
                        "size": c.size,
                        "timestamp": c.timestamp,
                        "root_hash": c.root,
                        "note": note + c.line,
                        "received": utc_now(),
                    },
                )


def stored_cosigned_notes(log: AuditLog) -> list[tuple[str, str]]:
    """(source, cosigned note text) of every stored cosignature, oldest first."""
    with log.store.read() as conn:
        rows = conn.execute(
            select(
                audit_cosignatures.c.witness,
                audit_cosignatures.c.size,
                audit_cosignatures.c.timestamp,
                audit_cosignatures.c.note,
            ).order_by(audit_cosignatures.c.size, audit_cosignatures.c.timestamp)
        ).all()
    return [(f"cosignature by {w} of tree size {s} at {t}", str(n)) for w, s, t, n in rows]


def _submit(
    endpoint: WitnessEndpoint, cp: StoredCheckpoint, leaves: Sequence[bytes], old: int
) -> list[Cosignature]:
    """Run add-checkpoint until the witness cosigns or refuses (at most 3 rounds)."""
    for _round in range(3):
        if old > cp.size:
            raise WitnessConflict(
                f"witness {endpoint.name} has cosigned a tree of {old} events but the log "
                f"has only {cp.size}: events {cp.size}..{old - 1} were removed (truncated)"
            )
        proof = consistency_proof(old, leaves) if old else []
        answer = _post(endpoint, request_body(old, proof, cp.note))
        if answer.status == 200:
            cosigs = parse_cosignatures(
                endpoint,
                cp.note,
                answer.body.decode("utf-8", "replace"),
                source=f"witness {endpoint.name}",
            )
            if not cosigs:
                raise WitnessUnavailable(
                    f"witness {endpoint.name} answered without a cosignature by its key"
                )
            return cosigs
        if answer.status == 409:
            witness_size = _size_from_conflict(endpoint, answer)
            if witness_size == old:
                raise WitnessConflict(
                    f"witness {endpoint.name} cosigned a different root for tree size "
                    f"{cp.size}: the log was rewritten"
                )
            old = witness_size
            continue
        if answer.status == 422:
            raise WitnessConflict(
                f"witness {endpoint.name} refused checkpoint {cp.size}: it is not consistent "
                f"with the tree of {old} events the witness cosigned before (history rewritten)"
            )
        text = answer.body.decode("utf-8", "replace").strip()[:200]
        raise WitnessUnavailable(
            f"witness {endpoint.name} refused the checkpoint with HTTP {answer.status}: {text}",
            hint="check that the witness knows this log's origin and public key "
            "(`stagewall witness add-log`)",
        )
    raise WitnessUnavailable(f"witness {endpoint.name} kept changing its size; try again")


def witness_checkpoints(
    log: AuditLog,
    witnesses: Sequence[WitnessEndpoint],
    *,
    signing_key: SigningKey | None = None,
    git: Sequence[GitWitness] = (),
    failures: list[str] | None = None,
) -> list[Cosignature]:
    """Checkpoint the log, send it to every witness with a URL and commit it to every
    git witness; store what they cosign.

    Returns the new cosignatures. An unreachable witness is logged and skipped (and
    its message appended to ``failures``; the quorum check of ``audit verify``
    notices); a witness that reports the log as truncated or rewritten raises
    :class:`WitnessConflict` after the others were tried.
    """
    signer = signing_key or log.signing_key()
    cp = log.checkpoint(key=signer)
    leaves = log.leaf_hashes(cp.size)
    out: list[Cosignature] = []
    conflicts: list[WitnessConflict] = []
    targets: list[WitnessEndpoint | GitWitness] = [e for e in witnesses if e.url is not None]
    targets += git
    for target in targets:
        name = target.name
        try:
            if isinstance(target, GitWitness):
                cosigs = [commit_checkpoint(target, cp, leaves, signer.public)]
            else:
                cosigs = _submit(target, cp, leaves, _last_cosigned_size(log, name))
        except WitnessConflict as exc:
            conflicts.append(exc)
            continue
        except (WitnessUnavailable, CheckpointInvalid, ConfigError) as exc:
            _log.warning("witness %s: %s", name, exc.message)
            if failures is not None:
                named = name in exc.message
                failures.append(exc.message if named else f"witness {name}: {exc.message}")
            continue
        store_cosignatures(log, cp.note, cosigs)
        out.extend(cosigs)
    if conflicts:
        raise WitnessConflict(
            "; ".join(c.message for c in conflicts),
        )
    return out


def probe_witness(endpoint: WitnessEndpoint, note: str) -> int:
    """The tree size of the newest checkpoint ``endpoint`` cosigned for ``note``'s origin.

    Sends ``note`` (a checkpoint signed by the log) with old size 0: a witness that
    has cosigned anything answers 409 with its size; one that has not cosigns it.
    """
    cp: Checkpoint = parse_note(note, source="checkpoint")[0]
    answer = _post(endpoint, request_body(0, [], note))
    if answer.status == 200:
        return cp.size
    if answer.status == 409:
        return _size_from_conflict(endpoint, answer)
    text = answer.body.decode("utf-8", "replace").strip()[:200]
    raise WitnessUnavailable(f"witness {endpoint.name} answered HTTP {answer.status}: {text}")


__all__ = [
    "WitnessEndpoint",
    "parse_cosignatures",
    "probe_witness",
    "request_body",
    "store_cosignatures",
    "stored_cosigned_notes",
    "witness_checkpoints",
]
