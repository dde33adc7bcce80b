"""``gate list``: promotions with their state, approvals and authors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from stagewall.access._core import Decision, fmt_time, load_request, load_reviews, outcome_of
from stagewall.estate import Estate
from stagewall.gates._model import Promotion
from stagewall.gates._tables import gate_deployments, gate_promotions
from stagewall.store import Store


def list_promotions(store: Store, estate: Estate, now: datetime) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with store.read() as conn:
        rows = conn.execute(select(gate_promotions).order_by(gate_promotions.c.created_at)).all()
        for r in rows:
            req = load_request(conn, r.request_id)
            promo = Promotion.from_request(req)
            state, _ref = outcome_of(conn, req, now)
            reviews = load_reviews(conn, promo.id)
            deployed = conn.execute(
                select(gate_deployments.c.created_at).where(
                    gate_deployments.c.request_id == promo.id
                )
            ).first()
            out.append(
                {
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
                }
            )
    return out
