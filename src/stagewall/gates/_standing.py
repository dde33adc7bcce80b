"""Whether a promotion's rows stand on the audit log: one decision path for every reader.

``gate check`` (deploy.py) refuses a promotion whose promotion, request or approval
rows are not what the sealed audit events that created them recorded (SW945). The
readers — ``gate list`` (server route and CLI), the web UI's promotion pages and the
evidence checks — decide with the same functions here, so a row written, edited or
re-pointed in the store is never shown as "approved" or "deployed", nor counted as an
approval:

* :func:`unbound_rows` — the promotion row, its request row and every review row
  against their events and the server's seal (exactly what ``gate check`` refuses);
* :func:`standing` — that, plus the log's withdrawals (an approval whose withdrawal
  the log records counts for nothing, whatever its row says) and the deployment rows
  (only one bound to its allowed gate check makes the promotion deployed);
* :func:`listed_state` — the state a listing shows: ``unverified`` for a promotion
  whose rows do not stand, ``withdrawn`` for one recorded as approved whose standing
  approvals fell below its rule by a withdrawal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, select

from stagewall.access._core import Outcome, Request
from stagewall.access._tables import access_reviews
from stagewall.access.binding import logged_withdrawals, review_binding_problem, withdrawal_mismatch
from stagewall.audit import AuditLog
from stagewall.errors import StagewallError
from stagewall.estate import Estate
from stagewall.gates import _events as ev
from stagewall.gates._bound import (
    REVIEW_CODES,
    bound_deployments,
    deployment_row_problem,
    promotion_row_problem,
    review_event_problem,
)
from stagewall.gates._model import PromotionKind
from stagewall.gates._tables import gate_deployments

UNVERIFIED = "unverified"
WITHDRAWN = "withdrawn"


def _unbound(
    log: AuditLog, conn: Connection, promotion: str
) -> tuple[list[str], set[str], list[Row[Any]]]:
    """(why each row is not bound, reviewers whose review row is not bound, the review
    rows in insertion order)."""
    out: list[str] = []
    problem = promotion_row_problem(log, conn, promotion)
    if problem is not None:
        if problem.startswith("there is no promotion row"):
            return [problem], set(), []
        out.append(f"promotion row: {problem}")
    reviews = list(
        conn.execute(
            select(access_reviews)
            .where(access_reviews.c.request_id == promotion)
            .order_by(access_reviews.c.id)
        ).all()
    )
    # The events of all the review rows in one read, each checked against its leaf hash.
    events = log.events_ref(
        (int(r.audit_index) for r in reviews if r.audit_index is not None), conn=conn
    )
    unbound: set[str] = set()
    for r in reviews:
        row = dict(r._mapping)
        why = review_binding_problem(log, conn, row, REVIEW_CODES, events=events)
        if why is None:
            why = review_event_problem(log, conn, row, events)
        if why is not None:
            out.append(f"approval by {r.reviewer}: {why}")
            unbound.add(str(r.reviewer))
    return out, unbound, reviews


def unbound_rows(log: AuditLog, conn: Connection, promotion: str) -> list[str]:
    """Why the promotion's row, its request or any of its review rows is not bound to its
    sealed event (empty: all are). ``gate check`` refuses on any of these (SW945)."""
    return _unbound(log, conn, promotion)[0]


@dataclass(frozen=True)
class Standing:
    """What of a promotion's rows the audit log backs."""

    promotion: str
    problems: tuple[str, ...]  # rows not bound to their events: refused and alerted
    approvers: tuple[str, ...]  # approvals bound to their sealed events, not withdrawn
    withdrawn: tuple[str, ...]  # approvals bound to their events, withdrawn (row or log)
    deployed: bool  # a deployment row bound to its allowed, sealed gate check


def standing(log: AuditLog, conn: Connection, promotion: str) -> Standing:
    """The promotion's rows checked against the log, as ``gate check`` checks them."""
    problems, unbound, reviews = _unbound(log, conn, promotion)
    if problems and problems[0].startswith("there is no promotion row"):
        return Standing(promotion, tuple(problems), (), (), False)
    logged = logged_withdrawals(log, conn, ev.WITHDRAWN.code, [f"promotion:{promotion}"])
    approvers: list[str] = []
    withdrawn: list[str] = []
    for r in reviews:
        who = str(r.reviewer)
        if r.decision != "approve" or who in unbound:
            continue
        index = logged.get((f"promotion:{promotion}", who))
        mismatch = withdrawal_mismatch(dict(r._mapping), index)
        if mismatch is not None:
            problems.append(f"approval by {who}: {mismatch}")
            continue
        (withdrawn if r.withdrawn_at is not None or index is not None else approvers).append(who)
    deployments = conn.execute(
        select(gate_deployments)
        .where(gate_deployments.c.request_id == promotion)
        .order_by(gate_deployments.c.id)
    ).all()
    bound = bound_deployments(log, conn, list(deployments))
    kept = {int(d.id) for d in bound}
    for d in deployments:
        if int(d.id) not in kept:
            why = deployment_row_problem(log, conn, dict(d._mapping))
            problems.append(f"deployment row {d.id}: {why}")
    return Standing(promotion, tuple(problems), tuple(approvers), tuple(withdrawn), bool(bound))


def _needed(estate: Estate, request: Request) -> int:
    try:
        return PromotionKind(estate).rule(request).approvals
    except StagewallError:  # its stage left stagewall.yaml: at least one, as always
        return 1


def listed_state(
    estate: Estate, request: Request, recorded: Outcome, st: Standing
) -> tuple[str, tuple[str, ...]]:
    """The state a listing shows and the problems behind an ``unverified`` one.

    ``recorded`` is the request's state from its (unbound) outcome row. A promotion with
    any row the log does not back is ``unverified``; one deployed by a bound deployment
    is ``deployed``; one recorded as approved shows ``approved`` only while a bound,
    standing approval backs it: ``withdrawn`` when withdrawals took its approvals below
    the rule, ``unverified`` when no approval the log records ever backed it (an outcome
    row written into the store)."""
    if st.problems:
        return UNVERIFIED, st.problems
    if st.deployed:
        return "deployed", ()
    if recorded is Outcome.APPROVED and len(st.approvers) < _needed(estate, request):
        if st.withdrawn:
            return WITHDRAWN, ()
        if not st.approvers:
            return UNVERIFIED, (
                "the store records it as approved, but no approval bound to its sealed "
                "audit event backs that (an outcome row written into the store)",
            )
    return recorded.value, ()


__all__ = ["UNVERIFIED", "WITHDRAWN", "Standing", "listed_state", "standing", "unbound_rows"]
