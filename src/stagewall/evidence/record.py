"""Check results as audit events, so drift (a check going from PASS to FAIL) is recorded,
can alert, and shows in the next pack. The server's scheduler calls :func:`record_evaluation`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.audit._tables import audit_events
from stagewall.evidence._model import CheckStatus, Evaluation, fmt_utc

EVALUATED = register_event_type(
    EventType(
        "evidence.checks.evaluated",
        2003,
        "Compliance Finding",
        1,
        "Create",
        "every evidence check was evaluated; details hold each status and evidence hash",
    )
)
DRIFTED = register_event_type(
    EventType(
        "evidence.check.drifted",
        2004,
        "Detection Finding",
        1,
        "Create",
        "an evidence check went from PASS to FAIL since the previous evaluation",
    )
)


PACKED = register_event_type(
    EventType(
        "evidence.pack.created",
        6003,
        "API Activity",
        1,
        "Create",
        "an evidence pack (the window's populations and events) was built and handed out",
    )
)


@dataclass(frozen=True)
class Drift:
    check: str
    before: str
    after: str
    summary: str


def latest_recorded(log: AuditLog) -> dict[str, Any] | None:
    """The newest recorded evaluation: its index, when it was recorded, ``as_of`` and each
    check's status (None when none was recorded). Reads one event, computes nothing."""
    with log.store.read() as conn:
        row = conn.execute(
            select(audit_events.c.idx, audit_events.c.time, audit_events.c.canonical)
            .where(audit_events.c.code == EVALUATED.code)
            .order_by(audit_events.c.idx.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    raw = row[2]
    doc = json.loads(raw if isinstance(raw, bytes | str) else bytes(raw))
    details = doc.get("unmapped", {})
    checks = details.get("checks", {})
    return {
        "index": int(row[0]),
        "time": str(row[1]),
        "as_of": str(details.get("as_of", row[1])),
        "checks": {str(k): str(v["status"]) for k, v in checks.items()},
    }


def previous_statuses(log: AuditLog) -> dict[str, str]:
    """Statuses of the newest recorded evaluation ({} when none was recorded)."""
    got = latest_recorded(log)
    return dict(got["checks"]) if got is not None else {}


def record_evaluation(log: AuditLog, evaluation: Evaluation, *, actor: str) -> list[Drift]:
    """Append the evaluation (and one event per PASS→FAIL drift); return the drifts."""
    before = previous_statuses(log)
    drifts = [
        Drift(name, before[name], r.status.value, r.summary)
        for name, r in sorted(evaluation.results.items())
        if before.get(name) == CheckStatus.PASS.value and r.status is CheckStatus.FAIL
    ]
    counts = evaluation.counts()
    events = [
        AuditEvent(
            EVALUATED.code,
            Status.FAILURE if counts[CheckStatus.FAIL.value] else Status.SUCCESS,
            actor,
            "evidence checks: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
            details={
                "as_of": fmt_utc(evaluation.at),
                "window": evaluation.window.to_json(),
                "checks": {
                    name: {"status": r.status.value, "evidence": r.evidence_hash()}
                    for name, r in sorted(evaluation.results.items())
                },
            },
        )
    ]
    events += [
        AuditEvent(
            DRIFTED.code,
            Status.FAILURE,
            actor,
            f"evidence check {d.check} went from {d.before} to {d.after}: {d.summary}",
            resource=f"check:{d.check}",
            details={"check": d.check, "before": d.before, "after": d.after, "severity": "warning"},
        )
        for d in drifts
    ]
    log.append_many(events)
    return drifts


__all__ = [
    "DRIFTED",
    "EVALUATED",
    "PACKED",
    "Drift",
    "latest_recorded",
    "previous_statuses",
    "record_evaluation",
]
