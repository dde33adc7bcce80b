"""``gate list``: promotions with their state, approvals and authors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from stagewall.access._core import Decision, fmt_time, load_request, load_reviews, outcome_of
from stagewall.errors import UsageError
from stagewall.estate import Estate
from stagewall.gates._model import Promotion
from stagewall.gates._tables import gate_deployments, gate_promotions
from stagewall.store import Store


def _row(conn: Connection, estate: Estate, r: Any, now: datetime) -> dict[str, Any]:
    req = load_request(conn, r.request_id)
    promo = Promotion.from_request(req)
    state, _ref = outcome_of(conn, req, now)
    reviews = load_reviews(conn, promo.id)
    deployed = conn.execute(
        select(gate_deployments.c.created_at).where(gate_deployments.c.request_id == promo.id)
    ).first()
    return {
        "id": promo.id,
        "stage": promo.stage,
        "sha": promo.sha,
        "digest": promo.digest,
        "submitter": promo.submitter,
        "break_glass": promo.break_glass,
        "created_at": fmt_time(promo.created_at),
        "state": "deployed" if deployed else state.value,
        "approvals": [
            {
                "by": v.reviewer,
                "at": v.created_at,
                "mfa": {"method": v.mfa_method, "time": v.mfa_time},
            }
            for v in reviews
            if v.decision is Decision.APPROVE
        ],
        "authors": promo.authorship(estate).as_list(),
        "followup_due": r.followup_due,
        "commits": promo.commits,
        "audit_index": r.audit_index,
    }


def list_promotions(store: Store, estate: Estate, now: datetime) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(select(gate_promotions).order_by(gate_promotions.c.created_at)).all()
        return [_row(conn, estate, r, now) for r in rows]


PROMOTION_STATES = ("pending", "approved", "denied", "expired", "deployed")


def promotions_page(
    store: Store,
    estate: Estate,
    now: datetime,
    *,
    stage: str | None = None,
    submitter: str | None = None,
    state: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` promotions matching the filters (newest first) and how many
    match, filtered in the store. ``state`` is one of PROMOTION_STATES; ``since``/``until``
    bound the submission time (ISO text, ``since`` <= t < ``until``)."""
    from stagewall.access._core import Outcome
    from stagewall.access._tables import access_requests
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
    if state == "deployed":
        conds.append(deployed)
    elif state is not None:
        conds += [~deployed, state_condition(Outcome(state), fmt_time(now))]
    base = select(gate_promotions).join(
        access_requests, access_requests.c.id == gate_promotions.c.request_id
    )
    with store.read() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(base.where(*conds).subquery())).scalar()
            or 0
        )
        rows = conn.execute(
            base.where(*conds)
            .order_by(gate_promotions.c.created_at.desc(), gate_promotions.c.request_id.desc())
            .limit(max(1, limit))
        ).all()
        return [_row(conn, estate, r, now) for r in rows], total
