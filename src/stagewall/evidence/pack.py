"""Build the auditor's pack: one zip an auditor verifies offline with the log's public key.

Layout::

    manifest.json        SHA-256 of every other file, the window, the log binding
    manifest.sig         Ed25519 signature of manifest.json by the audit signing key
    checkpoint.txt       the signed checkpoint the events are proven against (C2SP note)
    leaves.bin           the leaf hash of every event of that tree (32 bytes each): their
                         RFC 9162 root is the checkpoint's, so every event is provably in it
    events.jsonl         the window's audit events (and those the results cite), canonical
    proofs.json          RFC 9162 inclusion paths of the events the populations rest on
    witness/cosigned-N.txt  per witness, its newest stored cosignature (C2SP
                         tlog-cosignature) of a checkpoint this tree contains: the pack's
                         log extends what independent witnesses saw
    checks.json          every check: status, figures, events, why / attestation
    controls.json        the control map with a status per requirement
    populations/*.csv    production grants, promotions, masking runs, review decisions
    report.html          summary per framework, control and check; report.pdf the same
    oscal/assessment-results.json, ciso-assistant/requirement-assessments.json
    estate.svg, public.key, README.txt
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, select

from stagewall import __version__
from stagewall.audit import witness_checkpoints
from stagewall.audit._tables import audit_events
from stagewall.errors import IntegrityError, UsageError
from stagewall.evidence._diagram import estate_svg
from stagewall.evidence._inputs import EvidenceInputs
from stagewall.evidence._model import Evaluation, expand, fmt_utc
from stagewall.evidence._populations import all_populations, production_stages
from stagewall.evidence._proofs import ProofMaker
from stagewall.evidence._report import PdfJob, render_html, report_context
from stagewall.evidence.controlmap import ControlMap, load_control_map, requirement_status
from stagewall.evidence.evaluate import evaluate
from stagewall.evidence.oscal import assessment_results, ciso_assistant
from stagewall.evidence.record import DRIFTED
from stagewall.keys import SigningKey

FORMAT = "stagewall-evidence-pack/1"
README = """\
stagewall evidence pack
=======================

Verify it offline, with the log's public key obtained independently:

    stagewall evidence verify pack.zip --public-key audit.pub

manifest.json lists the SHA-256 of every file and is signed (manifest.sig) with the
audit signing key; checkpoint.txt is the signed audit checkpoint; leaves.bin holds every
leaf hash of that tree (its RFC 9162 root is the checkpoint's root), so each event in
events.jsonl (listed by index in index.json) is provably in the signed log, and
proofs.json gives the inclusion path of each event a population row rests on.
witness/ holds witness cosignatures of earlier checkpoints of the same log; pass the
witnesses' verifier keys (--witness-key) to require a quorum of them over the window.
Each row of populations/ names the audit event (audit_index) that records it.
report.pdf is report.html rendered.
"""


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, default=str) + "\n").encode()


def _compact(data: Any) -> bytes:
    return (json.dumps(data, separators=(",", ":")) + "\n").encode()


def sign_manifest(manifest: bytes, key: SigningKey) -> bytes:
    blob = base64.b64encode(key.public.key_hash() + key.sign(manifest)).decode()
    return f"{key.name} {blob}\n".encode()


@dataclass(frozen=True)
class PackResult:
    path: Path
    evaluation: Evaluation
    files: int
    events: int
    tree_size: int


def _read_log(
    inputs: EvidenceInputs, size: int, wanted: list[int]
) -> tuple[list[bytes], list[bytes]]:
    """In one pass over the log: every leaf hash of the tree of ``size`` events, and the
    canonical bytes of the ``wanted`` events (sorted, unique)."""
    lo, hi = (wanted[0], wanted[-1]) if wanted else (0, -1)
    c = audit_events.c
    keep = set(wanted)
    leaves: list[bytes] = []
    raws: dict[int, bytes] = {}
    with inputs.store.read() as conn:
        rows = conn.execute(
            select(c.idx, c.leaf_hash, case((and_(c.idx >= lo, c.idx <= hi), c.canonical)))
            .where(c.idx < size)
            .order_by(c.idx)
        )
        for idx, leaf, raw in rows:
            leaves.append(leaf if isinstance(leaf, bytes) else bytes(leaf))
            if raw is not None and idx in keep:
                raws[idx] = raw.encode() if isinstance(raw, str) else bytes(raw)
    missing = keep - raws.keys()
    if missing:
        raise IntegrityError(f"the audit log lacks event {min(missing)} below its checkpoint")
    return leaves, [raws[i] for i in wanted]


def drifts_in_window(inputs: EvidenceInputs) -> list[dict[str, Any]]:
    """The recorded PASS -> FAIL drifts of the window (the server's scheduled checks)."""
    return [
        {
            "event": row.index,
            "time": row.time,
            "check": d.get("check"),
            "before": d.get("before"),
            "after": d.get("after"),
        }
        for row, d in inputs.details_of([DRIFTED.code])
        if inputs.in_window(row)
    ]


def build_pack(
    inputs: EvidenceInputs,
    out: str | os.PathLike[str],
    *,
    signing_key: SigningKey,
    control_map: ControlMap | None = None,
    pdf: bool = True,
) -> PackResult:
    """Evaluate, take a fresh signed checkpoint, and write the signed pack to ``out``.

    With witnesses configured (with URLs), the log is first sent to them to cosign, so
    the pack carries their cosignatures of the log up to the window's end.
    """
    target = Path(out)
    if target.exists():
        raise UsageError(f"{target} exists; choose a new file for the pack")
    cmap = control_map or load_control_map()
    pdf_job = PdfJob() if pdf else None
    try:
        return _build(inputs, target, signing_key, cmap, pdf_job)
    finally:
        if pdf_job is not None:
            pdf_job.close()


def _build(
    inputs: EvidenceInputs,
    target: Path,
    signing_key: SigningKey,
    cmap: ControlMap,
    pdf_job: PdfJob | None,
) -> PackResult:
    policy = inputs.witness_policy
    online = [w for w in policy.witnesses if w.url] if policy else []
    if online:
        # bind the pack to a witnessed checkpoint: the witnesses cosign the log as it is
        # now (a witness that saw a longer or different log raises WitnessConflict)
        witness_checkpoints(inputs.audit, online, signing_key=signing_key)
    evaluation = evaluate(inputs)
    cp = inputs.audit.checkpoint(key=signing_key)
    size = cp.size
    span = inputs.window_events()
    pops = all_populations(inputs)
    log = {"origin": signing_key.name, "tree_size": size, "root_hash": cp.root.hex()}
    diagram = estate_svg(inputs.estate)
    organisation = inputs.estate.organisation
    window_text = f"{span[0]}..{span[1]}" if span else "none"
    html = render_html(
        report_context(
            evaluation,
            cmap,
            organisation=organisation,
            log=log,
            window_events=window_text,
            populations=[{"path": p.path, "rows": len(p.rows)} for p in pops],
            diagram=diagram,
            drifts=drifts_in_window(inputs),
        )
    )
    if pdf_job is not None:
        pdf_job.render(html)
    wanted: list[int] = []
    if span is not None:
        wanted += list(range(max(0, span[0] - 1), min(size, span[1] + 2)))
    for pop in pops:
        wanted += pop.event_indexes()
    for r in evaluation.results.values():
        wanted += expand(r.events)
    wanted = sorted({i for i in wanted if 0 <= i < size})
    leaves, raws = _read_log(inputs, size, wanted)
    maker = ProofMaker(leaves)
    if maker.n != size or maker.root() != cp.root:
        raise IntegrityError(
            f"the audit log does not match its newest checkpoint (size {size})",
            hint="run `stagewall audit verify`",
        )
    bound = sorted({i for p in pops for i in p.event_indexes()})
    proofs = [{"index": i, "path": [p.hex() for p in maker.path(i)]} for i in bound if i < size]
    files: dict[str, bytes] = {}
    files["checkpoint.txt"] = cp.note.encode()
    files["leaves.bin"] = b"".join(maker.levels[0])
    files["events.jsonl"] = b"\n".join(raws) + b"\n" if raws else b""
    files["index.json"] = _compact({"tree_size": size, "events": wanted})
    files["proofs.json"] = _compact({"tree_size": size, "proofs": proofs})
    for n, (_, note) in enumerate(inputs.newest_cosigned(size)):
        files[f"witness/cosigned-{n}.txt"] = note.encode()
    files["checks.json"] = _json(evaluation.to_json())
    controls = []
    for fw in cmap.frameworks:
        for req in fw.requirements:
            results = [evaluation.results[c] for c in req.checks]
            controls.append(
                {
                    "framework": fw.framework,
                    "requirement": req.id,
                    "title": req.title,
                    "status": requirement_status(results).value,
                    "checks": req.checks,
                }
            )
    files["controls.json"] = _json(controls)
    for pop in pops:
        files[pop.path] = pop.to_csv()
    files["report.html"] = html.encode()
    files["estate.svg"] = diagram.encode()
    if pdf_job is not None:
        files["report.pdf"] = pdf_job.result()
    pack_id = hashlib.sha256(files["checks.json"] + cp.root).hexdigest()
    files["oscal/assessment-results.json"] = _json(
        assessment_results(evaluation, cmap, organisation=organisation, pack_id=pack_id)
    )
    files["ciso-assistant/requirement-assessments.json"] = _json(ciso_assistant(evaluation, cmap))
    files["public.key"] = (signing_key.public.vkey() + "\n").encode()
    files["README.txt"] = README.encode()
    manifest = {
        "format": FORMAT,
        "stagewall_version": __version__,
        "created": fmt_utc(datetime.now(UTC)),
        "organisation": organisation,
        "window": evaluation.window.precise_json(),
        "log": {**log, "checkpoint": "checkpoint.txt"},
        "window_events": {"first": span[0], "last": span[1]} if span else None,
        # the promotions population's scope, so the verifier checks it is complete
        "production_stages": production_stages(inputs),
        "events": len(wanted),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    manifest_bytes = _json(manifest)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("manifest.json", manifest_bytes)
        z.writestr("manifest.sig", sign_manifest(manifest_bytes, signing_key))
        for name, data in sorted(files.items()):
            # hashes and the PDF do not compress: store them
            stored = name in ("leaves.bin", "report.pdf")
            z.writestr(name, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(target)
    return PackResult(target, evaluation, len(files) + 2, len(wanted), size)


__all__ = ["FORMAT", "PackResult", "build_pack", "sign_manifest"]
