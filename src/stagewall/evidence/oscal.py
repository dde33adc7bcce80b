"""Exports of an evaluation: OSCAL assessment-results and a CISO Assistant-compatible
requirement-assessment list."""

from __future__ import annotations

import uuid
from typing import Any

from stagewall import __version__
from stagewall.evidence._model import CheckResult, CheckStatus, Evaluation, fmt_utc
from stagewall.evidence._registry import registered_checks
from stagewall.evidence.controlmap import ControlMap, requirement_status

OSCAL_VERSION = "1.2.1"  # the version compliance-trestle 5.x models implement
_NS = uuid.UUID("6f1d2c0a-6b0e-4f8e-9a53-5b7c1e0d9a11")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "\n".join(parts)))


def _control_id(framework: str, req: str) -> str:
    """An OSCAL token: letters, digits, '.', '-' and '_' only."""
    clean = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in req.lower())
    return f"{framework}_{clean}".strip("_")


def _props(result: CheckResult) -> list[dict[str, str]]:
    props = [{"name": "stagewall-status", "value": result.status.value}]
    props.append({"name": "evidence-hash", "value": result.evidence_hash()})
    return props


def assessment_results(
    evaluation: Evaluation, cmap: ControlMap, *, organisation: str, pack_id: str
) -> dict[str, Any]:
    """OSCAL assessment-results (one result for the window; one observation per check,
    one finding per framework requirement)."""
    now = fmt_utc(evaluation.at)
    checks = registered_checks()
    observations = []
    obs_ids: dict[str, str] = {}
    for name in sorted(evaluation.results):
        r = evaluation.results[name]
        oid = _uuid(pack_id, "observation", name)
        obs_ids[name] = oid
        desc = r.summary + (f" Why: {r.why}" if r.why else "")
        observations.append(
            {
                "uuid": oid,
                "title": checks[name].title,
                "description": desc.strip() or name,
                "props": [{"name": "check", "value": name}, *_props(r)],
                "methods": ["TEST"] if r.status is not CheckStatus.MANUAL else ["INTERVIEW"],
                "collected": now,
                "relevant-evidence": [
                    {
                        "description": f"audit log events {e.first} to {e.last}",
                        "props": [{"name": "audit-range", "value": f"{e.first}-{e.last}"}],
                    }
                    for e in r.events[:50]
                ]
                or [{"description": "no audit event: computed from the estate and the store"}],
            }
        )
    findings = []
    selected = []
    for fw in cmap.frameworks:
        for req in fw.requirements:
            cid = _control_id(fw.framework, req.id)
            selected.append({"control-id": cid})
            results = [evaluation.results[c] for c in req.checks]
            status = requirement_status(results)
            state = (
                "satisfied"
                if status in (CheckStatus.PASS, CheckStatus.MANUAL)
                else ("not-satisfied")
            )
            findings.append(
                {
                    "uuid": _uuid(pack_id, "finding", fw.framework, req.id),
                    "title": f"{fw.framework} {req.id} {req.title}",
                    "description": req.description,
                    "props": [{"name": "stagewall-status", "value": status.value}],
                    "target": {
                        "type": "objective-id",
                        "target-id": cid,
                        "status": {"state": state, "reason": status.value.lower()},
                    },
                    "related-observations": [{"observation-uuid": obs_ids[c]} for c in req.checks],
                }
            )
    window = evaluation.window.to_json()
    return {
        "assessment-results": {
            "uuid": _uuid(pack_id, "assessment-results"),
            "metadata": {
                "title": f"stagewall evidence for {organisation or 'the organisation'}",
                "last-modified": now,
                "version": __version__,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": "#stagewall-assessment-plan"},
            "results": [
                {
                    "uuid": _uuid(pack_id, "result"),
                    "title": f"Observation window {window['from']} to {window['to']}",
                    "description": "Checks computed by stagewall from its store and audit log.",
                    "start": fmt_utc(evaluation.window.start),
                    "end": now,
                    "reviewed-controls": {"control-selections": [{"include-controls": selected}]},
                    "observations": observations,
                    "findings": findings,
                }
            ],
        }
    }


_CISO_RESULT = {
    CheckStatus.PASS: "compliant",
    CheckStatus.FAIL: "non_compliant",
    CheckStatus.NOT_VERIFIABLE: "not_assessed",
    CheckStatus.MANUAL: "compliant",
    CheckStatus.NOT_APPLICABLE: "not_applicable",
}


def ciso_assistant(evaluation: Evaluation, cmap: ControlMap) -> dict[str, Any]:
    """Requirement assessments keyed by CISO Assistant library URNs."""
    out = []
    for fw in cmap.frameworks:
        for req in fw.requirements:
            results = [evaluation.results[c] for c in req.checks]
            status = requirement_status(results)
            out.append(
                {
                    "framework": fw.framework,
                    "requirement": fw.urn(req),
                    "ref_id": req.id,
                    "result": _CISO_RESULT[status],
                    "status": "done" if status is not CheckStatus.NOT_VERIFIABLE else "to_do",
                    "observation": " | ".join(
                        f"{r.check}: {r.status.value}: {r.summary}" for r in results
                    ),
                    "evidences": [
                        {"name": r.check, "hash": r.evidence_hash(), "status": r.status.value}
                        for r in results
                    ],
                }
            )
    return {
        "format": "ciso-assistant-requirement-assessments",
        "as_of": fmt_utc(evaluation.at),
        "requirement_assessments": out,
    }


__all__ = ["OSCAL_VERSION", "assessment_results", "ciso_assistant"]
