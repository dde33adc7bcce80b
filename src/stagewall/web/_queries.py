"""Read-only listings the pages show. They decide nothing: every action goes to the library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from stagewall.access import AccessContext
from stagewall.access._tables import (
    access_campaign_decisions,
    access_campaign_items,
    access_campaigns,
    access_followups,
)
from stagewall.audit._log import _as_bytes
from stagewall.audit._tables import audit_cosignatures, audit_events
from stagewall.audit.events import StoredEvent
from stagewall.errors import ConfigError
from stagewall.gates import Gate
from stagewall.gates._model import Promotion, approver_problem, find_stage
from stagewall.gates._tables import gate_checks
from stagewall.identity._tables import identity_step_up_windows
from stagewall.store import Store

PAGE = 50


def open_follow_ups(ctx: AccessContext) -> list[dict[str, Any]]:
    """Break-glass follow-ups nobody has completed yet, the oldest due first."""
    with ctx.store.read() as conn:
        rows = conn.execute(
            select(access_followups)
            .where(access_followups.c.completed_at.is_(None))
            .order_by(access_followups.c.due_at)
        ).all()
    return [dict(r._mapping) for r in rows]


def follow_ups(
    ctx: AccessContext, *, since: str = "", until: str = "", limit: int = 500
) -> list[dict[str, Any]]:
    """Every break-glass follow-up opened in the window (bounds as ISO text; the store's
    times compare as text), newest first, with the grant's role and its status."""
    from stagewall.access._tables import access_grants

    query = select(
        access_followups,
        access_grants.c.role,
        access_grants.c.status,
        access_grants.c.ends_at,
    ).join(access_grants, access_grants.c.id == access_followups.c.grant_id)
    if since:
        query = query.where(access_followups.c.opened_at >= since)
    if until:
        query = query.where(access_followups.c.opened_at < until)
    query = query.order_by(access_followups.c.opened_at.desc()).limit(limit)
    with ctx.store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query).all()]


def open_review_items(ctx: AccessContext, reviewer: str, limit: int = 200) -> list[dict[str, Any]]:
    """Undecided items of open campaigns that ``reviewer`` has not decided (not their own)."""
    with ctx.store.read() as conn:
        decided = select(access_campaign_decisions.c.item_id).where(
            access_campaign_decisions.c.reviewer == reviewer
        )
        rows = conn.execute(
            select(
                access_campaign_items,
                access_campaigns.c.name.label("campaign_name"),
                access_campaigns.c.due.label("campaign_due"),
            )
            .join(access_campaigns, access_campaigns.c.id == access_campaign_items.c.campaign_id)
            .where(access_campaigns.c.closed_at.is_(None))
            .where(access_campaign_items.c.outcome.is_(None))
            .where(access_campaign_items.c.principal != reviewer)
            .where(access_campaign_items.c.id.not_in(decided))
            .order_by(access_campaigns.c.due, access_campaign_items.c.id)
            .limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows]


def _home(ctx: AccessContext) -> str | None:
    return str(ctx.home) if ctx.home is not None else None


def gate(ctx: AccessContext) -> Gate:
    """The gate over the server's store, estate and keys' home (where step-up reads the
    MFA key), as the API's gate routes build it."""
    return Gate(ctx.store, ctx.loaded, home=_home(ctx))


def promotions_to_approve(ctx: AccessContext, approver: str, now: Any) -> list[dict[str, Any]]:
    """Pending promotions ``approver`` may approve (the library's ``approver_problem`` is
    None and they have not approved yet), with the change's commits and the stage's checks
    (the latest report of each check the stage declares)."""
    from stagewall.access._core import load_request

    pending = [p for p in gate(ctx).list(now) if p["state"] == "pending"]
    estate = ctx.loaded.estate
    out: list[dict[str, Any]] = []
    with ctx.store.read() as conn:
        for p in pending:
            if any(a["by"] == approver for a in p["approvals"]):
                continue
            promo = Promotion.from_request(load_request(conn, p["id"]))
            try:
                if approver_problem(estate, promo, approver) is not None:
                    continue
                declared = list(find_stage(estate, promo.stage)[1].checks)
            except ConfigError:  # its stage left stagewall.yaml: the library refuses it
                continue
            reported = conn.execute(
                select(gate_checks.c.name, gate_checks.c.status, gate_checks.c.reporter)
                .where(gate_checks.c.sha == promo.sha)
                .where(gate_checks.c.stage == promo.stage)
                .order_by(gate_checks.c.id)
            ).all()
            latest = {str(r.name): (str(r.status), str(r.reporter)) for r in reported}
            checks = [
                {"name": n, "status": latest.get(n, ("not reported", ""))[0],
                 "reporter": latest.get(n, ("", ""))[1]}
                for n in dict.fromkeys([*declared, *latest])
            ]  # fmt: skip
            out.append(
                {
                    **p,
                    "environment": promo.environment,
                    "base": promo.base,
                    "commits": promo.commits,
                    "checks": checks,
                }
            )
    return out


def campaigns(ctx: AccessContext) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        rows = conn.execute(
            select(access_campaigns).order_by(access_campaigns.c.created_at.desc())
        ).all()
    return [dict(r._mapping) for r in rows]


def step_up_until(store: Store, session_id: str, now: str) -> str | None:
    """When this login's open step-up window closes (None: no window is open)."""
    with store.read() as conn:
        row = conn.execute(
            select(identity_step_up_windows.c.expires_at).where(
                identity_step_up_windows.c.session_id == session_id
            )
        ).first()
    return str(row[0]) if row is not None and str(row[0]) > now else None


def cosignatures(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The newest witness cosignatures the server stored (which checkpoint, when)."""
    with store.read() as conn:
        rows = conn.execute(
            select(
                audit_cosignatures.c.witness,
                audit_cosignatures.c.size,
                audit_cosignatures.c.timestamp,
                audit_cosignatures.c.received,
            )
            .order_by(audit_cosignatures.c.size.desc(), audit_cosignatures.c.witness)
            .limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows]


@dataclass(frozen=True)
class EventPage:
    events: list[StoredEvent]
    older: int | None
    """``before`` of the next (older) page; None on the last page."""


def audit_page(
    store: Store,
    *,
    code: str = "",
    actor: str = "",
    before: int | None = None,
    since: str = "",
    until: str = "",
    limit: int = PAGE,
) -> EventPage:
    """Newest first, ``limit`` events below index ``before``, filtered by type prefix, actor
    and an observation window (``since`` <= time < ``until``, ISO text).

    The unhashed columns only narrow the search; what is shown is parsed from the
    hashed canonical bytes (as ``AuditLog.events`` does).
    """
    query = select(
        audit_events.c.idx,
        audit_events.c.canonical,
        audit_events.c.leaf_hash,
        audit_events.c.chain_hash,
    )
    if code:
        escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(audit_events.c.code.like(escaped + "%", escape="\\"))
    if actor:
        query = query.where(audit_events.c.actor == actor[:256])
    if before is not None:
        query = query.where(audit_events.c.idx < before)
    if since:
        query = query.where(audit_events.c.time >= since)
    if until:
        query = query.where(audit_events.c.time < until)
    query = query.order_by(audit_events.c.idx.desc()).limit(limit + 1)
    with store.read() as conn:
        rows = conn.execute(query).all()
    events = [
        StoredEvent.from_raw(int(i), _as_bytes(raw), _as_bytes(leaf), _as_bytes(ch))
        for i, raw, leaf, ch in rows[:limit]
    ]
    older = events[-1].index if len(rows) > limit and events else None
    return EventPage(events, older)
