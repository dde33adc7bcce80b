"""Check witness cosignatures against the log: quorum, freshness, no truncation.

A cosignature says "as of time T, the largest consistent tree I have seen for this
origin has size N and root R". So the log must (1) still have at least N events,
(2) recompute root R at size N, and (3) have a quorum of distinct configured
witnesses whose cosignatures are at most ``max_age`` old. Online, each witness is
also asked which size it cosigned last: more than the log holds means truncation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from stagewall.audit._chain import LogBroken
from stagewall.audit._checkpoint import verify_checkpoint
from stagewall.audit._cosignature import Cosignature, parse_witness_key, verify_cosignature_line
from stagewall.audit._witness import WitnessEndpoint, probe_witness
from stagewall.audit._witness_git import GitWitness, read_committed_note
from stagewall.errors import WitnessConflict, WitnessQuorumMissing, WitnessUnavailable
from stagewall.keys import PublicKey


@dataclass(frozen=True)
class WitnessPolicy:
    """Which witnesses count, how many must agree, and how recent they must be.

    ``witnesses`` holds every cosigning witness's key (a git witness's too, without a
    URL); ``git`` the git witnesses, which are read (and written) through git.
    """

    witnesses: tuple[WitnessEndpoint, ...]
    quorum: int
    max_age: timedelta
    git: tuple[GitWitness, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any, base: Path | None = None) -> WitnessPolicy | None:
        """From ``estate.audit`` (an AuditSettings); None when no witness cosigns.

        ``base`` is the estate file's directory (git witnesses' key files are relative
        to it). E-mail witnesses do not cosign: they are not part of the policy.
        """
        endpoints: list[WitnessEndpoint] = []
        git: list[GitWitness] = []
        for w in settings.witnesses:
            kind = getattr(w, "type", "tlog")
            if kind not in ("tlog", "git"):
                continue
            key = parse_witness_key(w.public_key, source="audit.witnesses public_key")
            if kind == "git":
                keyfile = Path(w.signing_key_file).expanduser()
                git.append(
                    GitWitness(
                        key,
                        w.repository,
                        w.branch,
                        w.path,
                        keyfile if keyfile.is_absolute() else (base or Path()) / keyfile,
                        w.timeout_seconds,
                    )
                )
                endpoints.append(WitnessEndpoint(key, None, w.timeout_seconds))
            else:
                endpoints.append(WitnessEndpoint(key, w.url, w.timeout_seconds))
        if not endpoints:
            return None
        return cls(tuple(endpoints), settings.witness_quorum, settings.witness_max_age, tuple(git))


def read_git_witnesses(
    policy: WitnessPolicy, log_key: PublicKey
) -> tuple[list[Cosignature], list[dict[str, Any]]]:
    """The cosigned checkpoint each git witness repository holds now (verified).

    An unreachable repository is reported (``reachable: false``), never skipped
    silently; a checkpoint whose signatures do not verify raises.
    """
    cosigs: list[Cosignature] = []
    probed: list[dict[str, Any]] = []
    for witness in policy.git:
        try:
            note = read_committed_note(witness)
        except WitnessUnavailable:
            probed.append({"witness": witness.name, "type": "git", "reachable": False})
            continue
        found = (
            read_cosigned_notes(
                [(f"git witness {witness.name} {witness.repository}", note)], log_key, policy
            )
            if note is not None
            else []
        )
        cosigs += found
        probed.append(
            {
                "witness": witness.name,
                "type": "git",
                "reachable": True,
                "cosigned_size": max((c.size for c in found), default=0),
            }
        )
    return cosigs, probed


def read_cosigned_notes(
    notes: Sequence[tuple[str, str]], log_key: PublicKey, policy: WitnessPolicy
) -> list[Cosignature]:
    """Cosignatures by configured witnesses in cosigned notes; every one must verify.

    Each note must also carry the log's own signature: a witness line on a checkpoint
    the log never signed proves nothing about this log.
    """
    out: list[Cosignature] = []
    for source, text in notes:
        checkpoint = verify_checkpoint(text, log_key, source=source)
        split = text.rfind("\n\n")
        body, lines = text[: split + 1], text[split + 2 :]
        for line in lines.rstrip("\n").split("\n"):
            for endpoint in policy.witnesses:
                cosig = verify_cosignature_line(line, body, checkpoint, endpoint.key, source=source)
                if cosig is not None:
                    out.append(cosig)
    return out


@dataclass(frozen=True)
class WitnessReport:
    """What the witness check established (for ``audit verify --format json``)."""

    quorum: int
    fresh_witnesses: tuple[str, ...]
    newest_cosigned_size: int
    probed: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "quorum": self.quorum,
            "fresh_witnesses": list(self.fresh_witnesses),
            "newest_cosigned_size": self.newest_cosigned_size,
            "probed": list(self.probed),
        }


def cosigned_sizes(cosigs: Sequence[Cosignature]) -> list[int]:
    return sorted({c.size for c in cosigs})


def check_cosigned_roots(cosigs: Sequence[Cosignature], size: int, roots: dict[int, bytes]) -> None:
    """Raise unless the log has every cosigned size and recomputes every cosigned root.

    ``roots`` maps tree sizes to recomputed roots and must contain every cosigned
    size that is not larger than ``size``.
    """
    for c in sorted(cosigs, key=lambda c: c.size):
        when = datetime.fromtimestamp(c.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if c.size > size:
            raise LogBroken(
                size,
                f"witness {c.witness} cosigned a tree of {c.size} events at {when} but the "
                f"log has only {size}: events {size}..{c.size - 1} were removed (truncated)",
                hint="the log is shorter than a size a witness cosigned; restore it from a "
                "bundle and investigate who deleted the events",
            )
        if roots[c.size] != c.root:
            raise LogBroken(
                0,
                f"the events do not match the tree of size {c.size} that witness {c.witness} "
                f"cosigned at {when}: history was rewritten",
            )


def check_quorum(
    cosigs: Sequence[Cosignature],
    policy: WitnessPolicy,
    *,
    now: datetime | None = None,
    probed: Sequence[dict[str, Any]] = (),
) -> WitnessReport:
    """Raise unless ``policy.quorum`` distinct witnesses cosigned within ``max_age``."""
    moment = now or datetime.now(UTC)
    oldest = int((moment - policy.max_age).timestamp())
    fresh = sorted({c.witness for c in cosigs if c.timestamp >= oldest})
    if len(fresh) < policy.quorum:
        newest = max((c.timestamp for c in cosigs), default=None)
        seen = (
            "no cosignature at all"
            if newest is None
            else "the newest cosignature is from "
            + datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        raise WitnessQuorumMissing(
            f"only {len(fresh)} of the required {policy.quorum} witness(es) cosigned the log "
            f"within {policy.max_age} ({seen}); the log's recent history is not witnessed"
        )
    return WitnessReport(
        quorum=policy.quorum,
        fresh_witnesses=tuple(fresh),
        newest_cosigned_size=max((c.size for c in cosigs), default=0),
        probed=tuple(probed),
    )


def probe_witnesses(
    policy: WitnessPolicy, note: str, size: int, *, strict: bool = False
) -> list[dict[str, Any]]:
    """Ask each witness with a URL for its newest cosigned size; more than ``size`` fails.

    An unreachable witness is reported (``reachable: false``); with ``strict`` it fails.
    """
    out: list[dict[str, Any]] = []
    for endpoint in policy.witnesses:
        if endpoint.url is None:
            continue
        try:
            theirs = probe_witness(endpoint, note)
        except WitnessUnavailable:
            if strict:
                raise
            out.append({"witness": endpoint.name, "reachable": False})
            continue
        if theirs > size:
            raise WitnessConflict(
                f"witness {endpoint.name} has cosigned a tree of {theirs} events but the log "
                f"has only {size}: events {size}..{theirs - 1} were removed (truncated)"
            )
        out.append({"witness": endpoint.name, "reachable": True, "cosigned_size": theirs})
    return out


__all__ = [
    "WitnessPolicy",
    "WitnessReport",
    "check_cosigned_roots",
    "check_quorum",
    "cosigned_sizes",
    "probe_witnesses",
    "read_cosigned_notes",
    "read_git_witnesses",
]
