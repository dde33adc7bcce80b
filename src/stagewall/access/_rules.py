"""The approval rule a request was filed under, kept with it (issue 12).

When a request is filed, the rule that applies to its role is written into the
request (``details.rule``) with its hash (``details.rule_hash``), and the
``access.request.created`` event carries both, so the audit log proves what the
bar was. A review evaluates the request against the **stricter of the snapshot
and the current rule**: the higher number of approvals, and every approver must
satisfy the group restriction of *both* (a restriction dropped from the estate
file after filing still binds the pending request; one added after filing binds
it too). Editing ``stagewall.yaml`` therefore can raise the bar for a pending
request but never lower it.

A snapshot that does not match its hash (the store row was edited) fails closed:
nobody may review the request. Requests filed before snapshots existed have none
and are evaluated against the current rule only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from stagewall.access._core import Request, ThresholdRule
from stagewall.estate import Estate


def current_rule(estate: Estate, role: str) -> ThresholdRule:
    """The rule the estate file gives ``role`` now (one approval from anyone if none)."""
    r = estate.roles.get(role)
    rule = estate.approval_rules.get(r.approval) if r and r.approval else None
    if rule is None:
        return ThresholdRule(approvals=1)
    return ThresholdRule(rule.approvals, tuple(sorted(set(rule.from_groups))))


def outside_groups(estate: Estate, role: str, reviewer: str) -> str | None:
    """The approval groups of ``role`` (as text) when ``reviewer`` is in none of them;
    None when the rule names no group or the reviewer is in one. For acts that approve a
    role's access after the fact (a review's keep, a break-glass sign-off)."""
    groups = current_rule(estate, role).from_groups
    if not groups or any(reviewer in estate.group_members(g) for g in groups):
        return None
    return " or ".join(groups)


def snapshot(estate: Estate, role: str) -> dict[str, Any]:
    """What goes into a new request: the rule as data and its hash."""
    r = estate.roles.get(role)
    rule = current_rule(estate, role)
    doc = {
        "role": role,
        "approval": r.approval if r else None,
        "approvals": rule.approvals,
        "from_groups": list(rule.from_groups),
        "production": estate.role_is_production(role),
    }
    return {"rule": doc, "rule_hash": rule_hash(doc)}


def rule_hash(doc: Mapping[str, Any]) -> str:
    data = json.dumps(dict(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


class SnapshotTampered(Exception):
    """The stored snapshot does not match its hash."""


def snapshot_rule(request: Request) -> ThresholdRule | None:
    """The rule stored with ``request`` (None: filed before snapshots existed)."""
    doc = request.details.get("rule")
    if doc is None and "rule_hash" not in request.details:
        return None
    if not isinstance(doc, Mapping) or request.details.get("rule_hash") != rule_hash(doc):
        raise SnapshotTampered(request.id)
    approvals = doc.get("approvals")
    groups = doc.get("from_groups")
    if not isinstance(approvals, int) or approvals < 1 or not isinstance(groups, list):
        raise SnapshotTampered(request.id)
    return ThresholdRule(approvals, tuple(str(g) for g in groups))


def effective_rules(estate: Estate, request: Request) -> tuple[ThresholdRule, ...]:
    """The rules a review must satisfy: the snapshot (if any) and the current rule."""
    now = current_rule(estate, request.subject)
    snap = snapshot_rule(request)
    return (now,) if snap is None or snap == now else (snap, now)


def stricter(rules: tuple[ThresholdRule, ...]) -> ThresholdRule:
    """One threshold for counting: the most approvals any of ``rules`` asks for.

    The group restrictions of every rule are enforced per reviewer
    (``AccessKind.reviewer_problem``); ``from_groups`` here is informational.
    """
    restricted = [r.from_groups for r in rules if r.from_groups]
    return ThresholdRule(max(r.approvals for r in rules), restricted[-1] if restricted else ())


__all__ = [
    "SnapshotTampered",
    "current_rule",
    "effective_rules",
    "outside_groups",
    "rule_hash",
    "snapshot",
    "snapshot_rule",
    "stricter",
]
