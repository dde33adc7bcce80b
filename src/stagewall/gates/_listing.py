"""``gate list``: promotions with their state, approvals and authors."""

from __future__ import annotations

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
from stagewall.errors import UsageError
from stagewall.estate import Estate
from stagewall.gates._model import Promotion
from stagewall.gates._tables import gate_deployments, gate_promotions
from stagewall.store import Store


def _rows(
    conn: Connection, estate: Estate, rows: list[Any], now: datetime, *, with_model: bool = False
) -> list[dict[str, Any]]:
    """The listing of ``rows`` of gate_promotions, their requests, outcomes, approvals and
    deployments read in bulk (a few queries per 500 rows, not four per row)."""
    ids = [str(r.request_id) for r in rows]
    reqs: dict[str, Any] = {}
    recorded: dict[str, tuple[str, str | None]] = {}
    reviews: dict[str, list[Any]] = {}
    deployed: set[str] = set()
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
        deployed.update(
            str(d[0])
            for d in conn.execute(
                select(gate_deployments.c.request_id).where(
                    gate_deployments.c.request_id.in_(chunk)
                )
            )
        )
    out: list[dict[str, Any]] = []
    for r in rows:
        req = reqs[str(r.request_id)]
        promo = Promotion.from_request(req)
        state, _ref = state_of(recorded.get(promo.id), req, now)
        out.append(
            {
                "id": promo.id,
                "stage": promo.stage,
                "sha": promo.sha,
                "digest": promo.digest,
                "submitter": promo.submitter,
                "break_glass": promo.break_glass,
                "created_at": fmt_time(promo.created_at),
                "state": "deployed" if promo.id in deployed else state.value,
                "approvals": [
                    {
                        "by": v.reviewer,
                        "at": v.created_at,
                        "mfa": {"method": v.mfa_method, "time": v.mfa_time},
                    }
                    for v in reviews.get(promo.id, [])
                    if v.decision is Decision.APPROVE
                ],
                "authors": promo.authorship(estate).as_list(),
                "followup_due": r.followup_due,
                "commits": promo.commits,
                "audit_index": r.audit_index,
                **({"promotion": promo} if with_model else {}),
            }
        )
    return out


def list_promotions(store: Store, estate: Estate, now: datetime) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(select(gate_promotions).order_by(gate_promotions.c.created_at)).all()
        return _rows(conn, estate, list(rows), now)


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
    with_model: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` promotions matching the filters (newest first) and how many
    match, filtered in the store. ``state`` is one of PROMOTION_STATES; ``since``/``until``
    bound the submission time (ISO text, ``since`` <= t < ``until``); ``with_model``: each
    row also holds its ``Promotion`` under ``promotion``."""
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
        return _rows(conn, estate, list(rows), now, with_model=with_model), total
