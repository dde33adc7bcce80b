"""The auditor's sampling populations, each row bound to the audit event that records it.

Every row carries ``audit_index``: the log index of the event that created it. The
pack holds that event (with its inclusion proof), and ``evidence verify`` checks the
row against the event, so a row that no event records (written straight into the
store) is refused.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stagewall.access._standing import item_resource
from stagewall.evidence._inputs import EventRow, EvidenceInputs
from stagewall.evidence.checks._util import grant_in_window, is_production_grant, when


@dataclass(frozen=True)
class Population:
    name: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    @property
    def path(self) -> str:
        return f"populations/{self.name}.csv"

    def event_indexes(self) -> list[int]:
        """The audit events the rows rest on: each row's own, and its approvals'."""
        out: list[int] = []
        for row in self.rows:
            if row.get("audit_index") is not None:
                out.append(int(row["audit_index"]))
            for column in ("approval_events", "approval_withdrawn_events", "not_counted_events"):
                out += [int(i) for i in str(row.get(column) or "").split() if i.isdigit()]
        return out

    def to_csv(self) -> bytes:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(self.columns), lineterminator="\n")
        w.writeheader()
        for row in self.rows:
            w.writerow({k: "" if row.get(k) is None else row.get(k) for k in self.columns})
        return buf.getvalue().encode("utf-8")


def _first(indexes: list[int]) -> int | None:
    return min(indexes) if indexes else None


def _approvals(inputs: EvidenceInputs, request_id: str | None) -> dict[str, str]:
    """The request's approvers, each with the audit event that recorded the approval
    (``approval_events``, same order; ``-`` for a row no event records): the verifier
    checks each against the signed log, both ways."""
    approvals = sorted(
        (
            r
            for r in inputs.reviews_by_request.get(request_id or "", [])
            if r["decision"] == "approve"
        ),
        key=lambda r: str(r["reviewer"]),
    )
    return {
        "approvers": " ".join(str(r["reviewer"]) for r in approvals),
        "approval_events": " ".join(
            "-" if r.get("audit_index") is None else str(r["audit_index"]) for r in approvals
        ),
    }


def _promotion_approvals(inputs: EvidenceInputs, promotion: str) -> dict[str, str]:
    """:func:`_approvals` split as ``gate check`` decides: ``approvers`` only the
    approvals it counts (bound to their sealed events, not withdrawn); each other approval
    row in ``approvers_not_counted`` with its event (``not_counted_events``, ``-`` for
    none) and why (``not_counted_why``), so the evidence never shows as an approver
    someone the gate would not count, and hides no approval row either."""
    counted, why = inputs.promotion_counted(promotion)
    rows = sorted(
        (r for r in inputs.reviews_by_request.get(promotion, []) if r["decision"] == "approve"),
        key=lambda r: str(r["reviewer"]),
    )

    def event(r: dict[str, Any]) -> str:
        return "-" if r.get("audit_index") is None else str(r["audit_index"])

    yes = [r for r in rows if str(r["reviewer"]) in counted]
    no = [r for r in rows if str(r["reviewer"]) not in counted]
    return {
        "approvers": " ".join(str(r["reviewer"]) for r in yes),
        "approval_events": " ".join(event(r) for r in yes),
        "approvers_not_counted": " ".join(str(r["reviewer"]) for r in no),
        "not_counted_events": " ".join(event(r) for r in no),
        "not_counted_why": "; ".join(
            f"{r['reviewer']}: {why.get(str(r['reviewer']), 'not counted by gate check')}"
            for r in no
        ),
    }


def grants(inputs: EvidenceInputs) -> Population:
    rows = []
    for g in sorted(inputs.grants, key=lambda g: (g["starts_at"], g["id"])):
        if not grant_in_window(inputs, g) or not is_production_grant(inputs, g):
            continue
        rows.append(
            {
                "grant": g["id"],
                "principal": g["principal"],
                "role": g["role"],
                "environment": g["environment"],
                "source": g["source"],
                "request": g["request_id"],
                **_approvals(inputs, g["request_id"]),
                "starts_at": g["starts_at"],
                "ends_at": g["ends_at"],
                "status": g["status"],
                "revoked_at": g["revoked_at"],
                "audit_index": _first(inputs.bound(f"grant:{g['id']}", "access.grant.created")),
            }
        )
    cols: tuple[str, ...] = (
        "grant",
        "principal",
        "role",
        "environment",
        "source",
        "request",
        "approvers",
        "approval_events",
    )
    cols += ("starts_at", "ends_at", "status", "revoked_at", "audit_index")
    return Population("production_grants", cols, tuple(rows))


def production_stages(inputs: EvidenceInputs) -> list[str]:
    """The stages whose environment is production: the promotions population's scope (the
    pack's manifest carries the list, so that the verifier applies the same scope)."""
    e = inputs.estate
    return sorted(s.name for s in e.stages if e.is_production(s.environment))


SUBMIT_CODES = ("gate.promotion.submitted", "gate.promotion.break_glass")
APPROVAL_CODES = ("gate.promotion.approved", "gate.followup.reviewed")
GRANT_APPROVAL_CODE = "access.review.recorded"


def promotions(inputs: EvidenceInputs) -> Population:
    """Production promotions submitted in the window: by the time of the signed event that
    submitted them (the verifier checks exactly that), by the row's time when no event
    records the row (the binding check refuses such a row). Each approver ``gate check``
    counts is listed with the audit event that recorded the approval
    (``approval_events``, same order); the approvals it does not count apart, with why
    (:func:`_promotion_approvals`)."""
    prod = set(production_stages(inputs))
    deployed: dict[str, str] = {}
    for d in inputs.deployments:
        deployed.setdefault(d["request_id"], d["created_at"])
    submitted: dict[str, EventRow] = {}
    for row, details in inputs.details_of(list(SUBMIT_CODES)):
        if row.status == "Success" and details.get("promotion"):
            submitted.setdefault(str(details["promotion"]), row)
    rows = []
    for p in sorted(inputs.promotions, key=lambda p: (p["created_at"], p["request_id"])):
        if p["stage"] not in prod:
            continue
        event = submitted.get(p["request_id"])
        if event is not None:
            if not inputs.in_window(event):
                continue
        else:
            at = when(p["created_at"])
            if at is None or not inputs.window.contains(at):
                continue
        rows.append(
            {
                "promotion": p["request_id"],
                "stage": p["stage"],
                "sha": p["sha"],
                "digest": p["digest"],
                "submitter": p["submitter"],
                "break_glass": str(bool(p["break_glass"])).lower(),
                "created_at": p["created_at"],
                **_promotion_approvals(inputs, p["request_id"]),
                "deployed_at": deployed.get(p["request_id"]),
                "audit_index": None if event is None else event.index,
            }
        )
    cols: tuple[str, ...] = (
        "promotion",
        "stage",
        "sha",
        "digest",
        "submitter",
        "break_glass",
        "created_at",
    )
    cols += ("approvers", "approval_events", "approvers_not_counted", "not_counted_events")
    cols += ("not_counted_why", "deployed_at", "audit_index")
    return Population("production_promotions", cols, tuple(rows))


def _withdrawn_runs(inputs: EvidenceInputs) -> dict[str, list[int]]:
    """Masking run id -> the ``masking.plan.withdrawn`` events (up to the as-of time) whose
    ``runs_under_approval`` name it: the copy was made under an approval later withdrawn.
    A run still going when its approval was withdrawn has no masking run there yet; the
    ``masking.plan_approvals`` check names it by its job run."""
    out: dict[str, list[int]] = {}
    for event, details in inputs.details_of(["masking.plan.withdrawn"]):
        if event.status != "Success":
            continue
        for used in details.get("runs_under_approval") or []:
            if isinstance(used, dict) and used.get("masking_run"):
                out.setdefault(str(used["masking_run"]), []).append(event.index)
    return out


def masking_runs(inputs: EvidenceInputs) -> Population:
    withdrawn = _withdrawn_runs(inputs)
    rows = []
    for r in sorted(inputs.masking_runs, key=lambda r: (r["started_at"], r["run_id"])):
        at = when(r["started_at"])
        if at is None or not inputs.window.contains(at):
            continue
        record = json.loads(r["record"])
        rows.append(
            {
                "run": r["run_id"],
                "status": r["status"],
                "verification": r["verification"],
                "hits": (record.get("verify") or {}).get("total_hits"),
                "started_at": r["started_at"],
                "finished_at": r["finished_at"],
                "plan_sha256": r["plan_sha256"],
                "key_id": r["key_id"],
                "total_rows": r["total_rows"],
                "approval_withdrawn_events": " ".join(
                    str(i) for i in withdrawn.get(str(r["run_id"]), [])
                ),
                "audit_index": r["audit_index"],
            }
        )
    cols: tuple[str, ...] = (
        "run",
        "status",
        "verification",
        "hits",
        "started_at",
        "finished_at",
        "plan_sha256",
    )
    cols += ("key_id", "total_rows", "approval_withdrawn_events", "audit_index")
    return Population("masking_runs", cols, tuple(rows))


def review_decisions(inputs: EvidenceInputs) -> Population:
    decided: dict[tuple[str, str, str], list[int]] = {}
    for row, details in inputs.details_of(["access.campaign.decided"]):
        key = (row.resource or "", row.actor, str(details.get("decision")))
        decided.setdefault(key, []).append(row.index)
    rows = []
    for c in inputs.campaigns:
        for it in inputs.campaign_items.get(c["id"], []):
            for d in inputs.campaign_decisions.get(it["id"], []):
                at = when(d["decided_at"])
                if at is None or not inputs.window.contains(at):
                    continue
                key = (item_resource(it), d["reviewer"], d["decision"])
                found = decided.get(key, [])
                rows.append(
                    {
                        "campaign": c["id"],
                        "item": it["id"],
                        "grant": it["grant_id"],
                        "principal": it["principal"],
                        "role": it["role"],
                        "reviewer": d["reviewer"],
                        "decision": d["decision"],
                        "decided_at": d["decided_at"],
                        "audit_index": found.pop(0) if found else None,
                    }
                )
    rows.sort(key=lambda r: (r["decided_at"], r["item"]))
    cols: tuple[str, ...] = (
        "campaign",
        "item",
        "grant",
        "principal",
        "role",
        "reviewer",
        "decision",
    )
    cols += ("decided_at", "audit_index")
    return Population("review_decisions", cols, tuple(rows))


def all_populations(inputs: EvidenceInputs) -> list[Population]:
    return [grants(inputs), promotions(inputs), masking_runs(inputs), review_decisions(inputs)]


# -- binding rules: what a row must agree with in its event ------------------------

Doc = Mapping[str, Any]


def _grant_ok(row: Mapping[str, str], doc: Doc) -> bool:
    d = doc.get("unmapped", {})
    return (
        doc["metadata"]["event_code"] == "access.grant.created"
        and doc.get("resource") == f"grant:{row['grant']}"
        and d.get("principal") == row["principal"]
        and d.get("role") == row["role"]
        and d.get("environment") == row["environment"]
        and d.get("production") is True
        and d.get("starts_at") == row["starts_at"]
        # the request whose approvals the row lists: one moved to another request's in the
        # store would borrow that request's approvals
        and (d.get("request_id") or "") == (row.get("request") or "")
    )


def _promotion_ok(row: Mapping[str, str], doc: Doc) -> bool:
    d = doc.get("unmapped", {})
    return (
        doc["metadata"]["event_code"] in ("gate.promotion.submitted", "gate.promotion.break_glass")
        and d.get("promotion") == row["promotion"]
        and d.get("sha") == row["sha"]
        and d.get("digest") == row["digest"]
        and d.get("stage") == row["stage"]
        and doc["actor"]["user"]["name"] == row["submitter"]
    )


def _run_ok(row: Mapping[str, str], doc: Doc) -> bool:
    d = doc.get("unmapped", {})
    return (
        doc["metadata"]["event_code"] in ("masking.run.completed", "masking.run.failed")
        and d.get("run_id") == row["run"]
        and d.get("status") == row["status"]
        and d.get("verification") == row["verification"]
        and d.get("plan_sha256") == row["plan_sha256"]
    )


def _decision_ok(row: Mapping[str, str], doc: Doc) -> bool:
    d = doc.get("unmapped", {})
    return (
        doc["metadata"]["event_code"] == "access.campaign.decided"
        and doc.get("resource") == f"grant:{row['grant']}"
        and doc["actor"]["user"]["name"] == row["reviewer"]
        and d.get("decision") == row["decision"]
    )


BINDINGS: dict[str, tuple[str, Callable[[Mapping[str, str], Doc], bool]]] = {
    "populations/production_grants.csv": ("grant", _grant_ok),
    "populations/production_promotions.csv": ("promotion", _promotion_ok),
    "populations/masking_runs.csv": ("run", _run_ok),
    "populations/review_decisions.csv": ("item", _decision_ok),
}

__all__ = [
    "APPROVAL_CODES",
    "BINDINGS",
    "GRANT_APPROVAL_CODE",
    "SUBMIT_CODES",
    "Population",
    "all_populations",
    "production_stages",
]
