"""Rows written straight into the store, as someone with database access (not the server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import insert

from stagewall.access._tables import access_reviews
from stagewall.store import Store


def insert_approval(store: Store, request_id: str, reviewer: str, **extra: Any) -> None:
    """An "approval" of ``request_id`` by ``reviewer`` that no audit event recorded."""
    values: dict[str, Any] = {
        "request_id": request_id,
        "reviewer": reviewer,
        "decision": "approve",
        "reason": "",
        "mfa_method": "totp",
        "mfa_time": "2030-01-01T00:00:00Z",
        "created_at": "2030-01-01T00:00:00Z",
    }
    values.update(extra)
    with store.transaction() as conn:
        conn.execute(insert(access_reviews).values(**values))


def forge_promotion_approval(
    store: Store,
    insider_home: Path,
    promotion: str,
    reviewer: str,
    facts: dict[str, str],
    now: str,
    *,
    outcome: bool = False,
) -> None:
    """As an insider with the store and the library but not the server's key: an
    approval row of ``promotion`` by ``reviewer``, bound to a well-formed, *successful*
    ``gate.promotion.approved`` event appended with no seal (``facts``: sha, digest,
    stage); with ``outcome`` also the outcome row the threshold would have written."""
    from stagewall.access._core import review_row
    from stagewall.access._tables import access_outcomes
    from stagewall.access.binding import bind_row
    from stagewall.audit import AuditLog, Status
    from stagewall.gates import _events as ev

    log = AuditLog(store, home=insider_home)
    mfa = {"method": "totp", "time": now}
    details = {**facts, "promotion": promotion, "outcome": "approved", "approved_at": now}
    forged = ev.event(
        ev.APPROVED.code,
        Status.SUCCESS,
        reviewer,
        f"{reviewer} approved {promotion}",
        f"promotion:{promotion}",
        {**details, "mfa": mfa, "reason": ""},
    )
    with store.transaction() as conn:
        conn.execute(
            insert(access_reviews).values(
                request_id=promotion, reviewer=reviewer, decision="approve", reason="",
                mfa_method="totp", mfa_time=now, created_at=now,
            )
        )  # fmt: skip
        ref = log.append_refs([forged], conn=conn)[0]
        bind_row(conn, access_reviews, review_row(promotion, reviewer), ref)
        if outcome:
            conn.execute(
                insert(access_outcomes).values(
                    request_id=promotion, outcome="approved", decided_at=now, result_ref=promotion
                )
            )
