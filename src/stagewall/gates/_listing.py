"""``gate list``: promotions with their state, approvals and authors.

Each promotion listed is decided by the path ``gate check`` uses (gates/_standing.py):
a promotion whose rows the audit log does not back is listed ``unverified`` with its
``problems`` (never ``approved`` or ``deployed``), its approvals are only those bound
to their sealed events (a withdrawn one says when), and ``report(promotion, problems)``
is called for each such promotion (the server records and alerts, rate-limited).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from stagewall.access._core import (
    Decision,
    Outcome,
    fmt_time,
    request_from_row,
    review_from_row,
    state_of,
)
from stagewall.access._tables import access_outcomes, access_requests, access_reviews
from stagewall.audit import AuditLog
from stagewall.errors import UsageError
from stagewall.estate import Estate
from stagewall.gates._model import Promotion
from stagewall.gates._standing import UNVERIFIED, WITHDRAWN, listed_state, standing
from stagewall.gates._tables import gate_deployments, gate_promotions
from stagewall.store import Store

# Called with (promotion id, problems) for each promotion listed as unverified.
Report = Callable[[str, list[str]], None]


def _rows(
    conn: Connection,
    log: AuditLog,
    estate: Estate,
    rows: list[Any],
    now: datetime,
    *,
    with_model: bool = False,
    found: list[tuple[str, list[str]]],
) -> list[dict[str, Any]]:
    """The listing of ``rows`` of gate_promotions, their requests, outcomes and approvals
    read in bulk, each promotion's rows checked against the log (gates/_standing.py);
    ``found`` gets (promotion, problems) of each unverified one."""
    ids = [str(r.request_id) for r in rows]
    reqs: dict[str, Any] = {}
    recorded: dict[str, tuple[str, str | None]] = {}
    reviews: dict[str, list[Any]] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for m in conn.execute(select(access_requests).where(access_requests.c.id.in_(chunk))):
            reqs[str(m.id)] = request_from_row(m._mapping)
        for o in conn.execute(
            select(
                access_outcomes.c.request_id,
                access_outcomes.c.outcome,
                access_outcomes.c.result_ref,
            ).where(access_outcomes.c.request_id.in_(chunk))
        ):
            recorded[str(o[0])] = (str(o[1]), o[2])
        for v in conn.execute(
            select(access_reviews)
            .where(access_reviews.c.request_id.in_(chunk))
            .order_by(access_reviews.c.id)
        ):
            reviews.setdefault(str(v.request_id), []).append(review_from_row(v))
    out: list[dict[str, Any]] = []
    for r in rows:
        req = reqs[str(r.request_id)]
        promo = Promotion.from_request(req)
        recorded_state, _ref = state_of(recorded.get(promo.id), req, now)
        st = standing(log, conn, promo.id)
        state, problems = listed_state(estate, req, recorded_state, st)
        if problems:
            found.append((promo.id, list(problems)))
        counted = {*st.approvers, *st.withdrawn}
        out.append(
            {
                "id": promo.id,
                "stage": promo.stage,
                "sha": promo.sha,
                "digest": promo.digest,
                "submitter": promo.submitter,
                "break_glass": promo.break_glass,
                "created_at": fmt_time(promo.created_at),
                "state": state,
                "problems": list(problems),
                # only approvals bound to their sealed events; a withdrawn one says when
                "approvals": [
                    {
                        "by": v.reviewer,
                        "at": v.created_at,
                        "mfa": {"method": v.mfa_method, "time": v.mfa_time},
                        "withdrawn": v.reviewer in st.withdrawn,
                    }
                    for v in reviews.get(promo.id, [])
                    if v.decision is Decision.APPROVE and v.reviewer in counted
                ],
                "authors": promo.authorship(estate).as_list(),
                "followup_due": r.followup_due,
                "commits": promo.commits,
                "audit_index": r.audit_index,
                **({"promotion": promo} if with_model else {}),
            }
        )
    return out


def list_promotions(
    store: Store, log: AuditLog, estate: Estate, now: datetime, report: Report | None = None
) -> list[dict[str, Any]]:
    found: list[tuple[str, list[str]]] = []
    with store.read() as conn:
        rows = conn.execute(select(gate_promotions).order_by(gate_promotions.c.created_at)).all()
        listed = _rows(conn, log, estate, list(rows), now, found=found)
    _report(found, report)
    return listed


def _report(found: list[tuple[str, list[str]]], report: Report | None) -> None:
    """After the read transaction (reporting writes the log): each unverified promotion."""
    if report is None:
        return
    for promotion, problems in found:
        report(promotion, problems)


PROMOTION_STATES = ("pending", "approved", "denied", "expired", "deployed", WITHDRAWN, UNVERIFIED)


def promotions_page(
    store: Store,
    log: AuditLog,
    estate: Estate,
    now: datetime,
    *,
    stage: str | None = None,
    submitter: str | None = None,
    state: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    with_model: bool = False,
    report: Report | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` promotions matching the filters (newest first) and how many
    match. ``state`` is one of PROMOTION_STATES; ``since``/``until`` bound the submission
    time (ISO text, ``since`` <= t < ``until``); ``with_model``: each row also holds its
    ``Promotion`` under ``promotion``.

    The store narrows the rows; a state is then decided for each by the log (a promotion
    recorded as approved may be ``withdrawn`` or ``unverified``), so with a ``state``
    filter every row the store narrowed to is checked and the count is exact."""
    from stagewall.access.requests import state_condition

    if state is not None and state not in PROMOTION_STATES:
        raise UsageError(
            f"unknown promotion state {state!r}", hint=f"use one of {', '.join(PROMOTION_STATES)}"
        )
    deployed = gate_promotions.c.request_id.in_(select(gate_deployments.c.request_id))
    conds: list[Any] = []
    if stage:
        conds.append(gate_promotions.c.stage == stage)
    if submitter:
        conds.append(gate_promotions.c.submitter == submitter)
    if since:
        conds.append(gate_promotions.c.created_at >= since)
    if until:
        conds.append(gate_promotions.c.created_at < until)
    # The rows that can end in ``state`` (a superset: the log decides, below).
    if state == "deployed":
        conds.append(deployed)
    elif state in ("approved", WITHDRAWN):
        conds += [~deployed, state_condition(Outcome.APPROVED, fmt_time(now))]
    elif state is not None and state != UNVERIFIED:
        conds += [~deployed, state_condition(Outcome(state), fmt_time(now))]
    base = select(gate_promotions).join(
        access_requests, access_requests.c.id == gate_promotions.c.request_id
    )
    order = (gate_promotions.c.created_at.desc(), gate_promotions.c.request_id.desc())
    found: list[tuple[str, list[str]]] = []
    with store.read() as conn:
        if state is None:
            total = int(
                conn.execute(
                    select(func.count()).select_from(base.where(*conds).subquery())
                ).scalar()
                or 0
            )
            rows = conn.execute(base.where(*conds).order_by(*order).limit(max(1, limit))).all()
            listed = _rows(conn, log, estate, list(rows), now, with_model=with_model, found=found)
        else:
            rows = conn.execute(base.where(*conds).order_by(*order)).all()
            every = _rows(conn, log, estate, list(rows), now, with_model=with_model, found=found)
            matching = [x for x in every if x["state"] == state]
            listed, total = matching[: max(1, limit)], len(matching)
    _report(found, report)
    return listed, total
