"""Verify the log in the store: chain, tree, checkpoint signatures and consistency."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stagewall.audit._chain import LogBroken, Scanner
from stagewall.audit._checkpoint import CheckpointInvalid, verify_checkpoint
from stagewall.audit._log import AuditLog, StoredCheckpoint
from stagewall.errors import KeyMissing
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

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "size": self.size,
            "root_hash": self.root.hex(),
            "chain_head": self.head.hex(),
            "checkpoints_verified": list(self.checkpoints),
            "consistency_proofs": list(self.consistency),
            "warnings": list(self.warnings),
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


def verify_store(log: AuditLog, public_key: PublicKey | None) -> VerifyReport:
    """Recompute everything from the store; raise on the first problem."""
    stored: list[StoredCheckpoint] = log.checkpoints()
    entries: list[tuple[str, int, bytes]] = []
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
    scanner = Scanner(root_at=[e[1] for e in entries] + [0])
    for batch in log.iter_batches():
        scanner.feed_batch(batch)
    result = scanner.finish()
    check_checkpoint_roots(entries, result.size, result.roots)
    newest = max((e[1] for e in entries), default=None)
    return VerifyReport(
        size=result.size,
        root=result.roots[result.size],
        head=result.head,
        checkpoints=tuple(e[1] for e in entries),
        warnings=tuple(uncovered_warning(result.size, newest)),
    )


__all__ = ["VerifyReport", "check_checkpoint_roots", "uncovered_warning", "verify_store"]
