"""Export a self-contained audit bundle and verify it offline (no database).

Layout::

    DIR/events.jsonl         one canonical event per line: exactly the hashed bytes
    DIR/chain.txt            hex chain hash per event (locates a change; not trusted)
    DIR/checkpoints/         checkpoint-<size>.txt, every signed checkpoint (C2SP notes)
    DIR/cosignatures/        cosigned-<size>-<n>.txt, each witness cosignature with its
                             checkpoint (C2SP tlog-cosignature)
    DIR/public.key           the log's verifier key (C2SP vkey)
    DIR/README.txt           how to verify
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import zipfile
from binascii import hexlify
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from stagewall.audit._chain import Scanner
from stagewall.audit._checkpoint import verify_checkpoint
from stagewall.audit._cosignature import Cosignature
from stagewall.audit._log import AuditLog
from stagewall.audit._quorum import WitnessPolicy, read_cosigned_notes
from stagewall.audit._verify import (
    NO_WITNESS_WARNING,
    VerifyReport,
    check_checkpoint_roots,
    prove_consistency,
    read_checkpoint_files,
    witness_check,
)
from stagewall.audit._witness import stored_cosigned_notes
from stagewall.errors import ConfigError, KeyMissing, UnsignedEvents, UsageError
from stagewall.keys import PublicKey, SigningKey, parse_public_key

README = """\
stagewall audit bundle
======================

events.jsonl   one canonical JSON event per line; the leaf hash of event i is
               SHA-256(0x00 || line i without its newline) (RFC 9162).
chain.txt      chain_i = SHA-256(chain_{{i-1}} || leaf_i), hex, one per event
               (helps to locate a change; it is recomputed, not trusted).
checkpoints/   signed checkpoints (C2SP tlog-checkpoint, Ed25519 signed notes).
cosignatures/  checkpoints cosigned by witnesses (C2SP tlog-cosignature/v1).
public.key     the log's verifier key (C2SP vkey). A key shipped inside the bundle
               proves nothing against a forger: pin the key you already trust.

Verify offline (no database needed):

    stagewall audit verify --bundle {name} --public-key TRUSTED.pub \\
        [--config stagewall.yaml] [--checkpoint OLDER_CHECKPOINT.txt]

The key must be pinned (--public-key): a bundle is never verified against the key
it ships. With the estate's audit.witnesses, the witnesses' cosignatures must
match the events and a quorum must be recent (or recent at --as-of TIME).

Exit code 0: every event is intact, every checkpoint signature verifies, and the
log is consistent with every checkpoint (an older checkpoint you kept catches
truncation and rewritten history). Exit code 1 names the first bad index.
"""


@dataclass(frozen=True)
class ExportResult:
    out: Path
    size: int
    checkpoints: int


def export_bundle(
    log: AuditLog,
    out: str | os.PathLike[str],
    *,
    signing_key: SigningKey | None,
    public_key: PublicKey,
) -> ExportResult:
    """Write the bundle; with ``signing_key`` a fresh checkpoint covers every event."""
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(
            f"{target} exists and is not an empty directory",
            hint="choose a new directory for the bundle",
        )
    if signing_key is not None:
        log.checkpoint(key=signing_key)
    stored = log.checkpoints()
    size = stored[-1].size if signing_key is not None and stored else log.size()
    (target / "checkpoints").mkdir(parents=True, exist_ok=True)
    written = 0
    for cp in stored:
        if cp.size <= size:
            (target / "checkpoints" / f"checkpoint-{cp.size:012d}.txt").write_text(
                cp.note, encoding="utf-8"
            )
            written += 1

    notes = stored_cosigned_notes(log)
    if notes:
        (target / "cosignatures").mkdir()
        for n, (_source, text) in enumerate(notes):
            size_line = text.split("\n", 2)[1]
            (target / "cosignatures" / f"cosigned-{int(size_line):012d}-{n:06d}.txt").write_text(
                text, encoding="utf-8"
            )
    scanner = Scanner()  # verifies while writing: a broken log is never exported silently
    with (target / "events.jsonl").open("wb") as ev, (target / "chain.txt").open("wb") as ch:
        for batch in log.iter_batches(stop=size):
            scanner.feed_batch(batch)
            ev.write(b"".join(raw + b"\n" for raw in batch.raws))
            ch.write(b"".join(hexlify(c) + b"\n" for c in batch.chains if c is not None))
    result = scanner.finish()
    if result.size != size:
        raise UsageError(f"the log has {result.size} events, expected {size}")
    (target / "public.key").write_text(public_key.vkey() + "\n", encoding="utf-8")
    (target / "README.txt").write_text(README.format(name=target.name), encoding="utf-8")
    return ExportResult(target, size, written)


def export_archive(
    log: AuditLog,
    *,
    signing_key: SigningKey | None,
    public_key: PublicKey,
    kind: str = "tar.gz",
    root: str = "stagewall-audit",
) -> tuple[bytes, int]:
    """The bundle of :func:`export_bundle` as one file (``tar.gz`` or ``zip``) whose
    entries sit under ``root/`` (``{size}`` in ``root`` becomes the event count); with the
    number of events it covers. For downloads from the server."""
    with tempfile.TemporaryDirectory(prefix="stagewall-bundle-") as tmp:
        out = Path(tmp) / "bundle"
        res = export_bundle(log, out, signing_key=signing_key, public_key=public_key)
        top = root.format(size=res.size)
        buf = io.BytesIO()
        if kind == "zip":
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(out.rglob("*")):
                    if path.is_file():
                        zf.write(path, f"{top}/{path.relative_to(out)}")
        else:
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                tar.add(out, arcname=top)
    return buf.getvalue(), res.size


def _read_bytes(path: Path, base: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"{path.relative_to(base)} is not a readable file in bundle {base} "
            f"({exc.__class__.__name__})",
            hint="pass the directory written by `stagewall audit export --out DIR`, unchanged",
        ) from None


def _read_text(path: Path, base: Path) -> str:
    try:
        return _read_bytes(path, base).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(
            f"{path.relative_to(base)} is not UTF-8 text in bundle {base}",
            hint="pass the directory written by `stagewall audit export --out DIR`, unchanged",
        ) from None


def require_signed_cover(size: int, newest: int | None) -> None:
    """Every event must lie under a checkpoint signed by the pinned key (else raise).

    A bundle is a file anyone can write: events that no signed checkpoint covers are
    only self-consistent, and a bundle without any checkpoint is the forger's own."""
    if newest is None:
        raise UnsignedEvents(
            "the bundle has no checkpoint signed by the pinned key"
            + (f": events 0..{size - 1} are not covered by a checkpoint" if size else "")
            + "; nothing in it proves the server wrote it"
        )
    if newest < size:
        raise UnsignedEvents(
            f"events {newest}..{size - 1} are not covered by a checkpoint signed by the "
            f"pinned key (the newest covers {newest} events)"
        )


def _read_lines(path: Path, base: Path) -> list[bytes]:
    data = _read_bytes(path, base)
    if not data:
        return []
    if not data.endswith(b"\n"):
        data += b"\n"
    return data.split(b"\n")[:-1]


def verify_bundle(
    bundle: str | os.PathLike[str],
    *,
    public_key: PublicKey | None,
    checkpoint_files: list[str | os.PathLike[str]] | None = None,
    policy: WitnessPolicy | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Verify a bundle offline against the pinned ``public_key`` (required).

    With ``policy``, the bundle's witness cosignatures must match its events and a
    quorum must be no older than ``policy.max_age`` at ``now`` (default: the
    current time; an auditor verifying an older bundle passes when they received it).
    """
    base = Path(bundle)
    if not base.is_dir():
        raise UsageError(
            f"bundle directory {base} does not exist",
            hint="pass the directory written by `stagewall audit export --out DIR`",
        )
    events_path = base / "events.jsonl"
    if not events_path.is_file():
        raise UsageError(
            f"{base} is not an audit bundle: {events_path.name} is missing",
            hint="pass the directory written by `stagewall audit export --out DIR`",
        )
    warnings: list[str] = []
    key = public_key
    if key is None:
        raise KeyMissing(
            "offline verification needs a pinned public key: the bundle's own public.key "
            "proves nothing, since a forger replaces key and signatures together",
            hint="pass --public-key with the log's verifier key that you obtained "
            "independently (`stagewall keys export-public` on the server)",
        )
    shipped = base / "public.key"
    if shipped.is_file():
        try:
            theirs = parse_public_key(_read_text(shipped, base))
        except ConfigError:
            theirs = None
        if theirs is None or theirs.raw != key.raw:
            warnings.append("the bundle's public.key differs from the pinned key (ignored)")

    entries: list[tuple[str, int, bytes]] = []
    cp_dir = base / "checkpoints"
    bundle_files = sorted(cp_dir.glob("*.txt")) if cp_dir.is_dir() else []
    for f in bundle_files:
        cp = verify_checkpoint(_read_text(f, base), key, source=f"checkpoint {f.name}")
        entries.append((f"checkpoint {f.name}", cp.size, cp.root))
    external = read_checkpoint_files(checkpoint_files or [], key)
    entries.extend((f"checkpoint {src}", cp.size, cp.root) for src, cp in external)

    lines = _read_lines(events_path, base)
    chain_path = base / "chain.txt"
    chains: list[bytes | None] = []
    if chain_path.is_file():
        chains.extend(_read_lines(chain_path, base))
    else:
        warnings.append("chain.txt is missing: a change is located less precisely")
    chains.extend([None] * (len(lines) - len(chains)))
    del chains[len(lines) :]
    cosigs: list[Cosignature] = []
    if policy is not None:
        co_dir = base / "cosignatures"
        co_files = sorted(co_dir.glob("*.txt")) if co_dir.is_dir() else []
        cosigs = read_cosigned_notes(
            [(f"cosignature {f.name}", _read_text(f, base)) for f in co_files],
            key,
            policy,
        )
    sizes = [e[1] for e in entries if e[1] <= len(lines)]
    sizes += [c.size for c in cosigs if c.size <= len(lines)] + [0]
    scanner = Scanner(root_at=sizes, keep_leaves=bool(external), chain_hex=True)
    scanner.feed(lines, None, chains)
    result = scanner.finish()
    check_checkpoint_roots(entries, result.size, result.roots)
    new_root = result.roots[result.size]
    proofs = prove_consistency(external, result.leaves, new_root)
    witnessed = None
    if policy is not None:
        witnessed = witness_check(
            policy, cosigs, result.size, result.roots, newest_note=None, online=False, now=now
        )
    elif result.size:
        warnings.append(NO_WITNESS_WARNING)
    # cosigned notes carry the log's signature too, and their roots were just checked
    signed = [e[1] for e in entries] + [c.size for c in cosigs]
    require_signed_cover(result.size, max(signed, default=None))
    return VerifyReport(
        size=result.size,
        root=new_root,
        head=result.head,
        checkpoints=tuple(sorted(e[1] for e in entries)),
        consistency=tuple(proofs),
        warnings=tuple(warnings),
        witnesses=witnessed,
    )


__all__ = [
    "ExportResult",
    "export_archive",
    "export_bundle",
    "require_signed_cover",
    "verify_bundle",
]
