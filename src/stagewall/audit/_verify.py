"""Verify the log in the store: chain, tree, checkpoint signatures and consistency."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from stagewall.audit._chain import LogBroken, RowBatch, Scanner
from stagewall.audit._checkpoint import Checkpoint, CheckpointInvalid, verify_checkpoint
from stagewall.audit._cosignature import Cosignature
from stagewall.audit._log import AuditLog, StoredCheckpoint
from stagewall.audit._merkle import consistency_proof, verify_consistency
from stagewall.audit._quorum import (
    WitnessPolicy,
    WitnessReport,
    check_cosigned_roots,
    check_quorum,
    probe_witnesses,
    read_cosigned_notes,
    read_git_witnesses,
)
from stagewall.audit._witness import stored_cosigned_notes
from stagewall.audit._witness_mail import note_from_text
from stagewall.errors import KeyMissing, UncheckpointedEvents, UsageError
from stagewall.keys import PublicKey


@dataclass(frozen=True)
class VerifyReport:
    """A log (store or bundle) that verified."""

    size: int
    root: bytes
    head: bytes
    checkpoints: tuple[int, ...]
    consistency: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = field(default=())
    witnesses: WitnessReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "size": self.size,
            "root_hash": self.root.hex(),
            "chain_head": self.head.hex(),
            "checkpoints_verified": list(self.checkpoints),
            "consistency_proofs": list(self.consistency),
            "warnings": list(self.warnings),
            "witnesses": self.witnesses.to_json() if self.witnesses else None,
        }


def check_checkpoint_roots(
    entries: list[tuple[str, int, bytes]], size: int, roots: dict[int, bytes]
) -> None:
    """Each (source, size, root) must be within the log and match the recomputed root."""
    good = 0
    for source, cp_size, cp_root in sorted(entries, key=lambda e: e[1]):
        if cp_size > size:
            raise LogBroken(
                size,
                f"{source} covers {cp_size} events but the log has only {size}: "
                f"events {size}..{cp_size - 1} were removed (truncated)",
                hint="the log was truncated after that checkpoint was signed",
            )
        if roots[cp_size] != cp_root:
            where = f"index {good}" if cp_size - good == 1 else f"indexes {good}..{cp_size - 1}"
            raise LogBroken(
                good,
                f"the events do not match {source} (tree size {cp_size}): history was "
                f"rewritten somewhere in {where}",
                hint="the log differs from what was signed; restore it from a trusted bundle",
            )
        good = cp_size


def uncovered_warning(size: int, newest: int | None) -> list[str]:
    if size == 0:
        return []
    if newest is None:
        return [
            "no signed checkpoint exists: the log is only self-consistent, nothing proves "
            "it was not rewritten (run `stagewall keys init` and `stagewall audit checkpoint`)"
        ]
    if newest < size:
        return [f"events {newest}..{size - 1} are not yet covered by a signed checkpoint"]
    return []


def require_checkpointed(size: int, newest: int | None) -> None:
    """Every event of a store must lie under a checkpoint signed by the log's key (SW977)."""
    if size == 0 or (newest is not None and newest >= size):
        return
    first = 0 if newest is None else newest
    which = (
        "no signed checkpoint exists"
        if newest is None
        else f"the newest signed checkpoint covers {newest} events"
    )
    raise UncheckpointedEvents(
        f"audit events {first}..{size - 1} are not covered by a signed checkpoint ({which}): "
        "they are only self-consistent, nothing proves they were not written or rewritten "
        "after the fact",
        index=first,
    )


def read_checkpoint_files(
    files: Sequence[str | os.PathLike[str]], key: PublicKey
) -> list[tuple[str, Checkpoint]]:
    """Checkpoint files (e.g. kept from an earlier audit), signature-checked with ``key``.

    A file may also be a mail an e-mail witness sent (the note between its markers),
    or a git witness's cosigned checkpoint file.
    """
    out: list[tuple[str, Checkpoint]] = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise UsageError(f"checkpoint file {path} {what}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"checkpoint file {path} is not UTF-8 text") from exc
        except OSError as exc:
            raise UsageError(f"checkpoint file {path} cannot be read: {exc.strerror}") from exc
        note = note_from_text(text, source=f"checkpoint file {path}")
        out.append((str(path), verify_checkpoint(note, key, source=f"checkpoint {path}")))
    return out


def prove_consistency(
    external: list[tuple[str, Checkpoint]], leaves: list[bytes], new_root: bytes
) -> list[dict[str, Any]]:
    """RFC 9162 consistency proofs from each older checkpoint to the current tree."""
    proofs = []
    for source, cp in external:
        proof = consistency_proof(cp.size, leaves)
        if not verify_consistency(cp.size, len(leaves), cp.root, new_root, proof):
            raise LogBroken(cp.size, f"the consistency proof from {source} does not verify")
        proofs.append(
            {
                "checkpoint": source,
                "old_size": cp.size,
                "new_size": len(leaves),
                "old_root": cp.root.hex(),
                "new_root": new_root.hex(),
                "proof": [h.hex() for h in proof],
            }
        )
    return proofs


NO_WITNESS_WARNING = (
    "no witnesses are configured (audit.witnesses in stagewall.yaml): removing the newest "
    "events together with their checkpoints cannot be detected"
)


def witness_check(
    policy: WitnessPolicy,
    cosigs: list[Cosignature],
    size: int,
    roots: dict[int, bytes],
    *,
    newest_note: str | None,
    online: bool,
    now: datetime | None,
    extra_probed: Sequence[dict[str, Any]] = (),
) -> WitnessReport:
    """Cosigned roots first, then (online) the witnesses' own sizes, then the quorum."""
    check_cosigned_roots(cosigs, size, roots)
    probed = probe_witnesses(policy, newest_note, size) if online and newest_note else []
    return check_quorum(cosigs, policy, now=now, probed=[*probed, *extra_probed])


_COLUMNS = ("time", "code", "status", "actor", "resource")


def _signed_columns(raw: bytes) -> tuple[Any, ...]:
    """What the unhashed columns of the event whose canonical bytes are ``raw`` must
    hold (as the append writes them: actor and resource cut to the columns' sizes)."""
    doc = orjson.loads(raw)
    resource = doc.get("resource")
    return (
        doc["time"],
        doc["metadata"]["event_code"],
        doc["status"],
        doc["actor"]["user"]["name"][:256],
        resource[:512] if isinstance(resource, str) else resource,
    )


def check_columns(batch: RowBatch) -> None:
    """Raise :class:`LogBroken` at the first row whose unhashed columns (what evidence
    checks, listings and the web filter on) differ from its signed bytes. Names the
    column, never a value."""
    if batch.columns is None:
        return
    for idx, raw, stored in zip(batch.indexes, batch.raws, batch.columns, strict=True):
        try:
            signed = _signed_columns(raw)
        except (ValueError, KeyError, TypeError):
            raise LogBroken(idx, "the event is not a well-formed stagewall event") from None
        if tuple(stored) != signed:
            bad = [c for c, a, b in zip(_COLUMNS, stored, signed, strict=True) if a != b]
            raise LogBroken(
                idx,
                f"the stored column {', '.join(bad)} does not match the signed event (the "
                "unhashed columns were rewritten)",
                hint="investigate who changed the store; the signed bytes are authoritative",
            )


def verify_store(
    log: AuditLog,
    public_key: PublicKey | None,
    *,
    checkpoint_files: Sequence[str | os.PathLike[str]] = (),
    policy: WitnessPolicy | None = None,
    online: bool = False,
    now: datetime | None = None,
    checkpointed: bool = False,
) -> VerifyReport:
    """Recompute everything from the store; raise on the first problem.

    With ``checkpointed`` events no signed checkpoint covers are refused
    (:class:`~stagewall.errors.UncheckpointedEvents`), else they are a warning.

    ``checkpoint_files`` are older checkpoints kept outside the store (e.g. by an
    auditor); the log must be consistent with each of them. With ``policy`` the
    stored witness cosignatures must match the log and form a fresh quorum; with
    ``online`` each witness is also asked for the newest size it cosigned.
    """
    cosigs: list[Cosignature] = []
    git_probed: list[dict[str, Any]] = []
    if policy is not None:
        if public_key is None:
            raise KeyMissing(
                "checking witness cosignatures needs the log's public key",
                hint="pass --public-key FILE or run this where `stagewall keys init` was run",
            )
        cosigs = read_cosigned_notes(stored_cosigned_notes(log), public_key, policy)
        if online:
            found, git_probed = read_git_witnesses(policy, public_key)
            cosigs += found
    stored: list[StoredCheckpoint] = log.checkpoints()
    entries: list[tuple[str, int, bytes]] = []
    external: list[tuple[str, Checkpoint]] = []
    if checkpoint_files:
        if public_key is None:
            raise KeyMissing("checking a checkpoint file needs the log's public key")
        external = read_checkpoint_files(checkpoint_files, public_key)
        entries.extend((f"checkpoint {src}", cp.size, cp.root) for src, cp in external)
    for cp in stored:
        if public_key is None:
            raise KeyMissing(
                "the log has signed checkpoints but no public key is available to check them",
                hint="pass --public-key FILE or run this where `stagewall keys init` was run",
            )
        source = f"stored checkpoint at tree size {cp.size}"
        parsed = verify_checkpoint(cp.note, public_key, source=source)
        if parsed.size != cp.size or parsed.root != cp.root:
            raise CheckpointInvalid(f"{source}: the signed note does not match its row")
        entries.append((source, cp.size, cp.root))
    sizes = [e[1] for e in entries] + [c.size for c in cosigs] + [0]
    scanner = Scanner(root_at=sizes, keep_leaves=bool(external))
    for batch in log.iter_batches(columns=True):
        scanner.feed_batch(batch)
        check_columns(batch)
    result = scanner.finish()
    check_checkpoint_roots(entries, result.size, result.roots)
    newest = max((e[1] for e in entries), default=None)
    root = result.roots[result.size]
    witnessed = None
    warnings = uncovered_warning(result.size, newest)
    if policy is not None:
        witnessed = witness_check(
            policy,
            cosigs,
            result.size,
            result.roots,
            newest_note=stored[-1].note if stored else None,
            online=online,
            now=now,
            extra_probed=git_probed,
        )
    elif result.size:
        warnings.append(NO_WITNESS_WARNING)
    if checkpointed:  # after the witnesses: a quorum missing is the graver finding
        require_checkpointed(result.size, newest)
    return VerifyReport(
        size=result.size,
        root=root,
        head=result.head,
        checkpoints=tuple(sorted(e[1] for e in entries)),
        consistency=tuple(prove_consistency(external, result.leaves, root)),
        warnings=tuple(warnings),
        witnesses=witnessed,
    )


__all__ = [
    "NO_WITNESS_WARNING",
    "VerifyReport",
    "check_checkpoint_roots",
    "prove_consistency",
    "read_checkpoint_files",
    "require_checkpointed",
    "uncovered_warning",
    "verify_store",
    "witness_check",
]
