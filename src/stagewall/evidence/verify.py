"""Verify an evidence pack offline: signature, file hashes, checkpoint, inclusion proofs,
window completeness and the binding of every population row to its audit event."""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stagewall.audit import WitnessPublicKey
from stagewall.audit._checkpoint import CheckpointInvalid, parse_note, verify_checkpoint
from stagewall.audit._cosignature import verify_cosignature_line
from stagewall.audit._merkle import verify_inclusion
from stagewall.errors import KeyMissing, PackInvalid, SignatureInvalid, UsageError
from stagewall.evidence._inputs import parse_stamp
from stagewall.evidence._model import CheckStatus
from stagewall.evidence._populations import (
    APPROVAL_CODES,
    BINDINGS,
    GRANT_APPROVAL_CODE,
    SUBMIT_CODES,
)
from stagewall.evidence._proofs import ProofMaker
from stagewall.evidence.pack import FORMAT
from stagewall.keys import PublicKey

_SIGNED = ("manifest.json", "manifest.sig")
MAX_PACK_BYTES = 2 << 30
MAX_UNPACKED_BYTES = 2 << 30  # the pack is verified in memory


@dataclass(frozen=True)
class PackReport:
    window: dict[str, str]
    tree_size: int
    root: str
    events: int
    files: int
    counts: dict[str, int]
    rows_bound: int
    warnings: tuple[str, ...] = field(default=())
    witnessed: tuple[dict[str, Any], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "window": self.window,
            "tree_size": self.tree_size,
            "root_hash": self.root,
            "events": self.events,
            "files": self.files,
            "check_counts": self.counts,
            "population_rows_bound": self.rows_bound,
            "witnessed": list(self.witnessed),
            "warnings": list(self.warnings),
        }


def _read(path: Path) -> dict[str, bytes]:
    if not path.is_file():
        raise UsageError(f"evidence pack {path} does not exist")
    if path.stat().st_size > MAX_PACK_BYTES:
        raise UsageError(f"{path} is larger than {MAX_PACK_BYTES} bytes")
    try:
        with zipfile.ZipFile(path) as z:
            # what the entries unpack to, from their headers (a read never returns more):
            # a few megabytes of zeros must not make the verifier allocate gigabytes
            unpacked = sum(info.file_size for info in z.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise PackInvalid(
                    f"{path} unpacks to {unpacked} bytes, more than the {MAX_UNPACKED_BYTES} "
                    "an evidence pack may hold",
                    hint="this is not a pack stagewall made (a zip bomb, perhaps); ask for a "
                    "pack over a shorter window",
                )
            names = z.namelist()
            if len(names) != len(set(names)):
                raise PackInvalid(f"{path} holds the same file name twice")
            for n in names:
                if n.startswith("/") or ".." in n.split("/") or "\\" in n:
                    raise PackInvalid(f"{path} holds an unsafe file name {n!r}")
            return {n: z.read(n) for n in names if not n.endswith("/")}
    except (zipfile.BadZipFile, OSError, zipfile.LargeZipFile) as exc:
        raise PackInvalid(f"{path} is not a readable zip file: {exc}") from None


def _check_signature(manifest: bytes, sig: bytes, key: PublicKey) -> None:
    try:
        name, blob = sig.decode().strip().split(" ")
        raw = base64.b64decode(blob, validate=True)
    except (UnicodeDecodeError, ValueError, binascii.Error):
        raise SignatureInvalid("manifest.sig is malformed") from None
    if len(raw) != 68 or raw[:4] != key.key_hash(name) or (key.name and key.name != name):
        raise SignatureInvalid(
            f"manifest.sig is by key {name!r}, not by the expected key",
            hint="verify with the public key of the log that made the pack",
        )
    if not key.verify(raw[4:], manifest):
        raise SignatureInvalid(
            "the manifest signature does not verify: manifest.json was altered",
            hint="the pack was changed after it was signed; ask for a fresh pack",
        )


def verify_pack(
    pack: str | os.PathLike[str],
    *,
    public_key: PublicKey | None = None,
    witness_keys: Sequence[WitnessPublicKey] = (),
    witness_quorum: int | None = None,
) -> PackReport:
    """Check everything offline; raise PackInvalid (or SignatureInvalid) on the first problem.

    With ``witness_keys``, ``witness_quorum`` of them (default: all) must have cosigned a
    checkpoint of this log that covers the window's last event.
    """
    quorum = len(witness_keys) if witness_quorum is None else witness_quorum
    if witness_quorum is not None and not 1 <= quorum <= len(witness_keys):
        raise UsageError(
            f"the witness quorum {quorum} must be between 1 and the {len(witness_keys)} "
            "witness key(s) given"
        )
    try:
        return _verify(Path(pack), public_key, tuple(witness_keys), quorum)
    except (KeyError, TypeError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise PackInvalid(
            f"{pack}: malformed pack content ({exc.__class__.__name__}: {str(exc)[:200]})",
            hint="the pack was damaged or not made by stagewall evidence pack",
        ) from None


def _verify(
    path: Path,
    public_key: PublicKey | None,
    witness_keys: tuple[WitnessPublicKey, ...],
    quorum: int,
) -> PackReport:
    files = _read(path)
    warnings: list[str] = []
    for name in _SIGNED:
        if name not in files:
            raise PackInvalid(f"{path} is not an evidence pack: {name} is missing")
    key = public_key
    if key is None:
        raise KeyMissing(
            "verifying an evidence pack needs a pinned public key: the pack's own public.key "
            "proves nothing, since a forger replaces key and signatures together",
            hint="pass --public-key with the log's verifier key that you obtained "
            "independently (`stagewall keys export-public` on the server)",
        )
    _check_signature(files["manifest.json"], files["manifest.sig"], key)
    try:
        manifest = json.loads(files["manifest.json"])
    except ValueError:
        raise PackInvalid("manifest.json is not JSON") from None
    if manifest.get("format") != FORMAT:
        raise PackInvalid(f"manifest format {manifest.get('format')!r} is not {FORMAT}")
    listed: dict[str, str] = manifest["files"]
    present = set(files) - set(_SIGNED)
    if present != set(listed):
        extra, missing = sorted(present - set(listed)), sorted(set(listed) - present)
        raise PackInvalid(
            "the pack's files differ from its manifest"
            + (f"; not listed: {', '.join(extra)}" if extra else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    for name, digest in sorted(listed.items()):
        if hashlib.sha256(files[name]).hexdigest() != digest:
            raise PackInvalid(
                f"{name} was altered: its SHA-256 differs from the signed manifest",
                hint="the pack was changed after it was signed; ask for a fresh pack",
            )
    log = manifest["log"]
    cp = verify_checkpoint(files[log["checkpoint"]].decode(), key, source="checkpoint.txt")
    if cp.size != log["tree_size"] or cp.root.hex() != log["root_hash"]:
        raise PackInvalid("checkpoint.txt does not match the manifest's log binding")
    docs, tree = _verify_events(files, cp.size, cp.root)
    window = manifest["window"]
    span = manifest.get("window_events")
    if span is not None:
        _verify_window(docs, span["first"], span["last"], cp.size, window)
    witnessed = _verify_witnesses(files, key, tree, span["last"] + 1 if span else 0, witness_keys)
    if witness_keys:
        covering = {w["witness"] for w in witnessed if w["verified"] and w["covers_window"]}
        if len(covering) < quorum:
            raise PackInvalid(
                f"only {len(covering)} of the required {quorum} witness(es) cosigned a "
                "checkpoint of this log covering the window"
                + (f" ({', '.join(sorted(covering))})" if covering else ""),
                hint="the log was not witnessed up to the window's end when the pack was made; "
                "ask for a pack made after the witnesses cosigned",
            )
    elif witnessed:
        warnings.append(
            "witness cosignatures were NOT checked (names only: "
            + ", ".join(sorted({str(w["witness"]) for w in witnessed}))
            + "); pass --witness-key with each witness's verifier key"
        )
    checks = json.loads(files["checks.json"])
    for c in checks["checks"]:
        CheckStatus(c["status"])
        for first, last in c["events"]:
            missing_idx = [i for i in range(first, last + 1) if i not in docs]
            if missing_idx:
                raise PackInvalid(
                    f"check {c['check']} rests on event {missing_idx[0]}, which the pack lacks"
                )
    bound = _verify_bindings(files, docs)
    first, last = (span["first"], span["last"]) if span is not None else (0, -1)
    _verify_grants_complete(files, docs, first, last, warnings)
    _verify_runs_complete(files, docs, first, last, window)
    prod = manifest.get("production_stages")
    if isinstance(prod, list):
        _verify_promotions_complete(files, docs, set(map(str, prod)), first, last)
    else:
        warnings.append(
            "the pack names no production stages (made by an older stagewall): whether its "
            "promotions population is complete was NOT checked"
        )
    return PackReport(
        window=window,
        tree_size=cp.size,
        root=cp.root.hex(),
        events=len(docs),
        files=len(files),
        counts=dict(checks["counts"]),
        rows_bound=bound,
        warnings=tuple(warnings),
        witnessed=tuple(witnessed),
    )


def _verify_events(
    files: dict[str, bytes], size: int, root: bytes
) -> tuple[dict[int, dict[str, Any]], ProofMaker]:
    """Leaves recompute to the signed root; each event is its leaf; bound events' paths verify."""
    for name in ("leaves.bin", "index.json", "events.jsonl", "proofs.json"):
        if name not in files:
            raise PackInvalid(f"{name} is missing from the pack")
    blob = files["leaves.bin"]
    if len(blob) != 32 * size:
        raise PackInvalid(f"leaves.bin holds {len(blob) // 32} leaf hashes, the checkpoint {size}")
    leaves = [blob[i : i + 32] for i in range(0, len(blob), 32)]
    tree = ProofMaker(leaves)
    if tree.root() != root:
        raise PackInvalid(
            "leaves.bin does not recompute to the signed checkpoint's root: the log was altered"
        )
    index = json.loads(files["index.json"])
    if index.get("tree_size") != size:
        raise PackInvalid("index.json is for a different tree size than the checkpoint")
    data = files["events.jsonl"]
    lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
    wanted: list[int] = [int(i) for i in index["events"]]
    if len(lines) != len(wanted):
        raise PackInvalid(f"events.jsonl has {len(lines)} events, index.json lists {len(wanted)}")
    docs: dict[int, dict[str, Any]] = {}
    sha = hashlib.sha256
    for line, i in zip(lines, wanted, strict=True):
        if not 0 <= i < size or sha(b"\x00" + line).digest() != leaves[i]:
            raise PackInvalid(f"event {i} is not the event the signed log holds at that index")
    # every line is now known to be a hashed event of the log: parse them in one call
    parsed = json.loads(b"[" + b",".join(lines) + b"]") if lines else []
    for doc, i in zip(parsed, wanted, strict=True):
        if doc["metadata"]["log_index"] != i:
            raise PackInvalid(f"event at index {i} claims index {doc['metadata']['log_index']}")
        docs[i] = doc
    proofs = json.loads(files["proofs.json"])
    if proofs.get("tree_size") != size:
        raise PackInvalid("proofs.json is for a different tree size than the checkpoint")
    for entry in proofs["proofs"]:
        i = int(entry["index"])
        path = [bytes.fromhex(p) for p in entry["path"]]
        if i not in docs or not verify_inclusion(leaves[i], i, size, path, root):
            raise PackInvalid(f"the inclusion proof of event {i} does not verify")
    return docs, tree


def _verify_witnesses(
    files: dict[str, bytes],
    key: PublicKey,
    tree: ProofMaker,
    needed: int,
    witness_keys: tuple[WitnessPublicKey, ...],
) -> list[dict[str, Any]]:
    """Each witness/ note: a checkpoint of this log (log-signed, its root a prefix of the
    leaves), and which of ``witness_keys`` cosigned it. A cosignature line naming one of
    those keys that does not verify is refused, never skipped."""
    out: list[dict[str, Any]] = []
    for name in sorted(n for n in files if n.startswith("witness/")):
        text = files[name].decode("utf-8")
        try:
            cp = verify_checkpoint(text, key, source=name)
            _, sigs = parse_note(text, source=name)
        except CheckpointInvalid as exc:
            raise PackInvalid(f"{name}: {exc.message}") from None
        if cp.size > tree.n or tree.subtree(0, cp.size) != cp.root:
            raise PackInvalid(
                f"{name}: the witnesses cosigned a tree of {cp.size} events whose root the "
                "pack's log does not recompute: the log was rewritten or truncated since"
            )
        body = text[: text.rfind("\n\n") + 1]
        lines = text[text.rfind("\n\n") + 2 :].rstrip("\n").split("\n")
        cosigners: dict[str, int | None] = {}
        for line in lines:
            for wk in witness_keys:
                try:
                    cosig = verify_cosignature_line(line, body, cp, wk, source=name)
                except CheckpointInvalid as exc:
                    raise PackInvalid(exc.message) from None
                if cosig is not None:
                    cosigners[cosig.witness] = cosig.timestamp
        for sig in sigs:
            if sig.key_id != key.key_hash(sig.name):  # not the log's own signature
                cosigners.setdefault(sig.name, None)
        for witness, stamp in sorted(cosigners.items()):
            out.append(
                {
                    "file": name,
                    "witness": witness,
                    "size": cp.size,
                    "covers_window": cp.size >= needed,
                    "verified": stamp is not None,
                    "timestamp": stamp,
                }
            )
    return out


def _verify_window(
    docs: dict[int, dict[str, Any]], first: int, last: int, size: int, window: dict[str, str]
) -> None:
    missing = [i for i in range(first, last + 1) if i not in docs]
    if missing:
        raise PackInvalid(
            f"the window's events are incomplete: event {missing[0]} is missing "
            f"({len(missing)} of {last - first + 1})"
        )
    start, end = window["from"], window["to"]
    for i in range(first, last + 1):
        t = docs[i]["time"]
        if not start <= t <= end:
            raise PackInvalid(f"event {i} ({t}) lies outside the window {start}..{end}")
    if first > 0 and (first - 1 not in docs or docs[first - 1]["time"] >= start):
        raise PackInvalid("the pack does not prove where the window's events begin")
    if last + 1 < size and (last + 1 not in docs or docs[last + 1]["time"] <= end):
        raise PackInvalid("the pack does not prove where the window's events end")


def _verify_bindings(files: dict[str, bytes], docs: dict[int, dict[str, Any]]) -> int:
    bound = 0
    for name, (key_col, ok) in BINDINGS.items():
        if name not in files:
            raise PackInvalid(f"{name} is missing from the pack")
        reader = csv.DictReader(io.StringIO(files[name].decode("utf-8")))
        cited: dict[str, str] = {}
        for row in reader:
            label = f"{name}: {key_col} {row.get(key_col)}"
            raw = row.get("audit_index") or ""
            if not raw.isdigit():
                raise PackInvalid(
                    f"{label} is not bound to any audit event: the row is in the store but no "
                    "event of the signed log records it",
                    hint="a row written into the store outside stagewall; investigate it",
                )
            doc = docs.get(int(raw))
            if doc is None:
                raise PackInvalid(f"{label} cites event {raw}, which the pack lacks")
            if not ok(row, doc):
                raise PackInvalid(f"{label} does not match its audit event {raw}")
            if raw in cited:
                raise PackInvalid(
                    f"{label} cites event {raw}, which {key_col} {cited[raw]} of the same "
                    "population already rests on: one recorded act is counted twice",
                    hint="a row was copied in the store; investigate it",
                )
            cited[raw] = str(row.get(key_col))
            bound += 1
    return bound


def _verify_grants_complete(
    files: dict[str, bytes],
    docs: dict[int, dict[str, Any]],
    first: int,
    last: int,
    warnings: list[str],
) -> None:
    """Every production grant an event of the window records is in the population (a
    row deleted from the store took the grant out of the checks and the sample), and each
    row's approvers are exactly the approving reviews of its request the signed log
    records (an approval row added to or removed from the store is refused)."""
    name = "populations/production_grants.csv"
    reader = csv.DictReader(io.StringIO(files[name].decode()))
    rows = list(reader)
    listed = {row.get("grant") for row in rows}
    if "approval_events" in (reader.fieldnames or []):
        approvals = _Approvals(name, docs, _request_approved)
        for row in rows:
            request = row.get("request") or ""
            label = f"grant {row['grant']}" + (f" (request {request})" if request else "")
            approvals.check(row, request, label)
    else:
        warnings.append(
            f"{name} has no approval_events column (made by an older stagewall): whether "
            "its grants' approvers rest on signed approvals was NOT checked"
        )
    for i in range(first, last + 1):
        doc = docs[i]
        if doc["metadata"]["event_code"] != "access.grant.created":
            continue
        if doc.get("unmapped", {}).get("production") is not True:
            continue
        grant = str(doc.get("resource", "")).removeprefix("grant:")
        if grant not in listed:
            raise PackInvalid(
                f"event {i} records production grant {grant}, which {name} leaves out: "
                "the population (and the checks) miss a grant the signed log holds",
                hint="its row was removed from the store; investigate, and ask for a pack "
                "built from an intact store",
            )


def _verify_runs_complete(
    files: dict[str, bytes],
    docs: dict[int, dict[str, Any]],
    first: int,
    last: int,
    window: dict[str, str],
) -> None:
    """Every masking run an event of the window records, started in the window, is in the
    population: a run's row deleted from the store (a failed verification, say) took it
    out of masking.verified_runs and out of the sample."""
    name = "populations/masking_runs.csv"
    listed = {row.get("run") for row in csv.DictReader(io.StringIO(files[name].decode()))}
    lo, hi = parse_stamp(window["from"]), parse_stamp(window["to"])
    if lo is None or hi is None:
        raise PackInvalid("manifest.json names no window")
    for i in range(first, last + 1):
        doc = docs[i]
        if doc["metadata"]["event_code"] not in ("masking.run.completed", "masking.run.failed"):
            continue
        details = doc.get("unmapped", {})
        started = parse_stamp(str(details.get("started_at") or "")) or hi
        run = str(details.get("run_id"))
        if lo <= started <= hi and run not in listed:
            raise PackInvalid(
                f"event {i} records masking run {run}, which {name} leaves out: the "
                "population (and the checks) miss a run the signed log holds",
                hint="its row was removed from the store; investigate, and ask for a pack "
                "built from an intact store",
            )


def _promotion_approved(doc: dict[str, Any]) -> str | None:
    """The promotion a successful promotion approval (or break-glass follow-up) event is
    of; ``None`` for any other event."""
    if doc["metadata"]["event_code"] not in APPROVAL_CODES or doc.get("status") != "Success":
        return None
    return str(doc.get("unmapped", {}).get("promotion"))


def _request_approved(doc: dict[str, Any]) -> str | None:
    """The access request a successful approving review event is of; ``None`` for any other
    event (a denial, a refused review)."""
    if (
        doc["metadata"]["event_code"] != GRANT_APPROVAL_CODE
        or doc.get("status") != "Success"
        or doc.get("unmapped", {}).get("decision") != "approve"
    ):
        return None
    resource = str(doc.get("resource", ""))
    return resource.removeprefix("request:") if resource.startswith("request:") else None


class _Approvals:
    """Checks a population's ``approvers`` against the signed log, both ways: each listed
    approver rests on a signed approval of the row's subject (cited in ``approval_events``),
    each signed approval of it that the pack holds is listed, and no approval event is
    cited by two rows."""

    def __init__(
        self,
        name: str,
        docs: dict[int, dict[str, Any]],
        subject_of: Callable[[dict[str, Any]], str | None],
    ) -> None:
        self.name, self.docs, self.subject_of = name, docs, subject_of
        self.in_pack: dict[str, list[tuple[int, str]]] = {}
        for i, doc in sorted(docs.items()):
            subject = subject_of(doc)
            if subject:
                self.in_pack.setdefault(subject, []).append((i, str(doc["actor"]["user"]["name"])))
        self.cited: dict[str, str] = {}

    def _cite(self, events: str, subject: str, label: str) -> list[str]:
        """Who the approval events ``events`` (a row's cited indexes) record; each must be
        an approval of ``subject`` not cited by another row. An index the pack does not
        hold is skipped (its approver is found unbacked by the caller)."""
        name, recorded = self.name, []
        for raw in events.split():
            doc = self.docs.get(int(raw)) if raw.isdigit() else None
            if doc is None:
                continue  # an approver without an event: found missing below
            if not subject or self.subject_of(doc) != subject:
                raise PackInvalid(f"{name}: {label} cites event {raw}, not an approval of it")
            if raw in self.cited:
                raise PackInvalid(
                    f"{name}: {label} cites approval event {raw}, which {self.cited[raw]} "
                    "already rests on: one recorded approval is counted twice",
                    hint="a row was copied in the store; investigate it",
                )
            self.cited[raw] = label
            recorded.append(str(doc["actor"]["user"]["name"]))
        return recorded

    def check(self, row: dict[str, str], subject: str, label: str) -> None:
        name = self.name
        approvers = sorted(row["approvers"].split())
        if "approval_events" not in row:
            raise PackInvalid(
                f"{name} has no approval_events column: the approvers rest on nothing"
            )
        # Approvals the builder's gate-check path did not count (not sealed, not bound,
        # withdrawn): listed apart, so they are not left out, and count for nothing here.
        not_counted = sorted(row.get("approvers_not_counted", "").split())
        if both := set(approvers) & set(not_counted):
            raise PackInvalid(
                f"{name}: {label} lists {', '.join(sorted(both))} both as counted and as "
                "not counted approvers"
            )
        recorded = self._cite(row["approval_events"], subject, label)
        self._cite(row.get("not_counted_events", ""), subject, label)
        for who in approvers:
            if who not in recorded:
                raise PackInvalid(
                    f"{name}: {label} lists approver {who}, but no approval event of the "
                    "signed log records it: the approval was written into the store",
                    hint="an approval row without its audit event; investigate it",
                )
        for i, who in self.in_pack.get(subject, []) if subject else []:
            if who not in approvers and who not in not_counted:
                raise PackInvalid(
                    f"event {i} records an approval of {label} by {who}, which {name} leaves out",
                    hint="its row was removed from the store; investigate it",
                )


def _verify_promotions_complete(
    files: dict[str, bytes],
    docs: dict[int, dict[str, Any]],
    production: set[str],
    first: int,
    last: int,
) -> None:
    """The promotions population is exactly the production promotions the window's signed
    events submitted, each with exactly the approvals the signed log records: a promotion
    row deleted from the store, one moved into the window, an approval row added to or
    removed from the store, each is refused."""
    name = "populations/production_promotions.csv"
    rows = list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))
    approvals = _Approvals(name, docs, _promotion_approved)
    listed: dict[str, dict[str, str]] = {}
    for row in rows:
        pid = row["promotion"]
        if pid in listed:
            raise PackInvalid(f"{name} lists promotion {pid} twice")
        listed[pid] = row
        if row["stage"] not in production:
            raise PackInvalid(
                f"{name}: promotion {pid} is to stage {row['stage']!r}, which the pack does "
                f"not name as production ({', '.join(sorted(production)) or 'none'})"
            )
        index = int(row["audit_index"])  # _verify_bindings: digits, an event of the pack
        if not first <= index <= last:
            raise PackInvalid(
                f"{name}: promotion {pid} was submitted by event {index}, outside the "
                f"window's events ({first}..{last}): the population holds a promotion the "
                "window does not",
                hint="its row was changed in the store; investigate, and ask for a pack "
                "built from an intact store",
            )
        approvals.check(row, pid, f"promotion {pid}")
    for i in range(first, last + 1):
        doc = docs[i]
        if doc["metadata"]["event_code"] not in SUBMIT_CODES or doc.get("status") != "Success":
            continue
        details = doc.get("unmapped", {})
        pid = str(details.get("promotion", ""))
        if details.get("stage") in production and pid not in listed:
            raise PackInvalid(
                f"event {i} records production promotion {pid}, which {name} leaves out: the "
                "population (and the checks) miss a promotion the signed log holds",
                hint="its row was removed from the store; investigate, and ask for a pack "
                "built from an intact store",
            )


__all__ = ["PackInvalid", "PackReport", "verify_pack"]
