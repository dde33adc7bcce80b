"""Small helpers shared by the check modules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from stagewall.evidence._inputs import EventRow, EvidenceInputs, parse_stamp

GRANT_CREATED = "access.grant.created"
GRANT_REVOKED = "access.grant.revoked"
CREDENTIAL_REVOKED = "access.credential.revoked"
REVIEW_RECORDED = "access.review.recorded"
FINDING_CREATED = "monitoring.finding.created"


def when(text: str | None) -> datetime | None:
    return parse_stamp(text)


def grant_in_window(inputs: EvidenceInputs, g: Mapping[str, Any]) -> bool:
    """The grant existed at some point of the window (and started before the as-of time)."""
    start, end = when(g["starts_at"]), when(g["ends_at"])
    if start is None or end is None:
        return False
    revoked = when(g.get("revoked_at"))
    if revoked is not None and revoked < end:
        end = revoked
    return start <= inputs.at and end >= inputs.window.start


def is_production_grant(inputs: EvidenceInputs, g: Mapping[str, Any]) -> bool:
    """Production by its own flag, its role or its environment (any of them: fail closed)."""
    e = inputs.estate
    return (
        bool(g["production"])
        or e.role_is_production(g["role"])
        or (e.is_production(g["environment"]))
    )


def findings_in_window(
    inputs: EvidenceInputs, *rules: str
) -> list[tuple[EventRow, dict[str, Any]]]:
    """Detection Findings of ``rules`` that monitoring wrote to the audit log in the
    window: each event with its ``suspect`` (actor, principal, user, resource's tier)."""
    out = []
    for event, details in inputs.details_of([FINDING_CREATED]):
        info = details.get("finding_info")
        rule = ((info or {}).get("analytic") or {}).get("name") if isinstance(info, dict) else None
        if rule in rules and inputs.in_window(event):
            suspect = details.get("suspect")
            found = {"rule": rule, **(suspect if isinstance(suspect, dict) else {})}
            # a finding whose alert monitoring.suppress silenced still counts, and says so
            found["suppressed"] = str(details.get("suppressed") or "")
            out.append((event, found))
    return out


def suspect_name(suspect: Mapping[str, Any]) -> str:
    """Who a finding names: its declared principal, else the actor (``unknown:<user>``)."""
    return str(suspect.get("principal") or suspect.get("actor") or "unknown")


def grant_events(inputs: EvidenceInputs, grant_id: str, *codes: str) -> list[int]:
    out: list[int] = []
    for code in codes:
        out += inputs.bound(f"grant:{grant_id}", code)
    return out


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def first(items: Iterable[str], limit: int = 5) -> str:
    seq = list(items)
    text = ", ".join(seq[:limit])
    return text + (f" (+{len(seq) - limit} more)" if len(seq) > limit else "")


__all__ = [
    "CREDENTIAL_REVOKED",
    "FINDING_CREATED",
    "GRANT_CREATED",
    "GRANT_REVOKED",
    "REVIEW_RECORDED",
    "findings_in_window",
    "first",
    "grant_events",
    "grant_in_window",
    "is_production_grant",
    "plural",
    "suspect_name",
    "when",
]
