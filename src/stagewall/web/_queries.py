"""Read-only listings the pages show. They decide nothing: every action goes to the library."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from stagewall.access import AccessContext
from stagewall.access._tables import (
    access_campaign_decisions,
    access_campaign_items,
    access_campaigns,
    access_followups,
    access_outcomes,
    access_requests,
    access_reviews,
)
from stagewall.audit import AuditLog
from stagewall.audit._log import _as_bytes
from stagewall.audit._tables import audit_cosignatures, audit_events
from stagewall.audit.events import StoredEvent
from stagewall.errors import AuditObjectUnknown, ConfigError, UsageError
from stagewall.gates import Gate
from stagewall.gates._listing import promotions_page
from stagewall.gates._model import Promotion, approver_problem, find_stage
from stagewall.gates._tables import gate_checks, gate_promotions
from stagewall.identity._tables import identity_step_up_windows
from stagewall.identity.stepup import window_sealed
from stagewall.server.plans import KIND as PLAN_KIND
from stagewall.store import Store

PAGE = 50


def open_follow_ups(
    ctx: AccessContext, *, not_of: str = "", limit: int = 20
) -> tuple[list[dict[str, Any]], int]:
    """Break-glass follow-ups nobody has completed yet (not ``not_of``'s own), the oldest
    due first: the first ``limit`` and how many there are."""
    conds: list[Any] = [access_followups.c.completed_at.is_(None)]
    if not_of:
        conds.append(access_followups.c.holder != not_of)
    with ctx.store.read() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(access_followups).where(*conds)).scalar()
            or 0
        )
        rows = conn.execute(
            select(access_followups).where(*conds).order_by(access_followups.c.due_at).limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows], total


FOLLOW_UP_STATES = ("open", "overdue", "done", "late")


def follow_ups(
    ctx: AccessContext,
    *,
    since: str = "",
    until: str = "",
    holder: str = "",
    status: str = "",
    now: str = "",
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Every break-glass follow-up opened in the window (bounds as ISO text; the store's
    times compare as text), newest first, with the grant's role and its status.

    ``status``: ``open`` (not done, due later than ``now``), ``overdue`` (not done, due
    passed), ``done`` (completed), ``late`` (completed after it was due)."""
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
    if holder:
        query = query.where(access_followups.c.holder == holder)
    done = access_followups.c.completed_at.is_not(None)
    if status == "open":
        query = query.where(~done).where(access_followups.c.due_at >= now)
    elif status == "overdue":
        query = query.where(~done).where(access_followups.c.due_at < now)
    elif status == "done":
        query = query.where(done)
    elif status == "late":
        query = query.where(done).where(access_followups.c.completed_at > access_followups.c.due_at)
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


MAX_WITHDRAWABLE = 50


def _approved_what(x: Any) -> tuple[str, str]:
    """(form kind, what was approved) of a row of :func:`withdrawable_approvals`."""
    if x.kind == "access":
        return "access", f"{x.requester}'s request for {x.subject}"
    if x.kind == PLAN_KIND:
        d = json.loads(x.details or "{}")
        return "plan", f"plan {str(d.get('plan_sha256'))[:12]} of masking job {d.get('job')}"
    return "promotion", f"promotion of {str(x.sha)[:12]} to {x.stage}"


def withdrawable_approvals(ctx: AccessContext, approver: str, now: Any) -> list[dict[str, Any]]:
    """``approver``'s own approvals that still stand (not withdrawn), of access requests,
    of masking plans and of promotions (not break-glass follow-ups), on requests still
    pending or approved: the newest :data:`MAX_WITHDRAWABLE`. Only a list to offer; the
    library's ``withdrawable`` decides when the form is sent."""
    r, q, o, g = access_reviews, access_requests, access_outcomes, gate_promotions
    query = (
        select(
            q.c.id, q.c.kind, q.c.requester, q.c.subject, q.c.expires_at, r.c.created_at,
            o.c.outcome, o.c.result_ref, g.c.stage, g.c.sha, q.c.details,
        )
        .select_from(
            r.join(q, q.c.id == r.c.request_id)
            .outerjoin(o, o.c.request_id == q.c.id)
            .outerjoin(g, g.c.request_id == q.c.id)
        )
        .where(
            (r.c.reviewer == approver)
            & (r.c.decision == "approve")
            & r.c.withdrawn_at.is_(None)
            & (or_(o.c.outcome.is_(None), o.c.outcome == "approved"))
            & (or_(q.c.kind.in_(("access", PLAN_KIND)), g.c.break_glass.is_(False)))
        )
        .order_by(r.c.id.desc())
        .limit(MAX_WITHDRAWABLE)
    )  # fmt: skip
    with ctx.store.read() as conn:
        rows = conn.execute(query).all()
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        {
            "id": x.id,
            "kind": _approved_what(x)[0],
            "what": _approved_what(x)[1],
            "approved_at": x.created_at,
            "state": x.outcome or "pending",
            "grant": x.result_ref if x.kind == "access" else None,
        }
        for x in rows
        if x.outcome is not None or str(x.expires_at) > stamp
    ]


def promotions_to_approve(
    ctx: AccessContext,
    approver: str,
    now: Any,
    log: AuditLog,
    report: Callable[[str, list[str]], None] | None = None,
) -> list[dict[str, Any]]:
    """Pending promotions ``approver`` may approve (the library's ``approver_problem`` is
    None and they have not approved yet), with the change's commits and the stage's checks
    (the latest report of each check the stage declares). A promotion whose rows the log
    does not back is unverified, not pending: it is reported, never offered."""
    estate = ctx.loaded.estate
    pending, _total = promotions_page(
        ctx.store, log, estate, now, state="pending", limit=200, with_model=True, report=report
    )
    mine: list[tuple[dict[str, Any], Promotion, list[str]]] = []
    for p in pending:
        promo: Promotion = p.pop("promotion")
        if any(a["by"] == approver for a in p["approvals"]):
            continue
        try:
            if approver_problem(estate, promo, approver) is not None:
                continue
            declared = list(find_stage(estate, promo.stage)[1].checks)
        except ConfigError:  # its stage left stagewall.yaml: the library refuses it
            continue
        mine.append((p, promo, declared))
    if not mine:
        return []
    with ctx.store.read() as conn:
        reported = conn.execute(
            select(gate_checks.c.sha, gate_checks.c.stage, gate_checks.c.name,
                   gate_checks.c.status, gate_checks.c.reporter)
            .where(gate_checks.c.sha.in_(sorted({promo.sha for _, promo, _ in mine})))
            .order_by(gate_checks.c.id)
        ).all()  # fmt: skip
    latest: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for r in reported:
        latest.setdefault((str(r.sha), str(r.stage)), {})[str(r.name)] = (
            str(r.status),
            str(r.reporter),
        )
    out: list[dict[str, Any]] = []
    for p, promo, declared in mine:
        got = latest.get((promo.sha, promo.stage), {})
        checks = [
            {"name": n, "status": got.get(n, ("not reported", ""))[0],
             "reporter": got.get(n, ("", ""))[1]}
            for n in dict.fromkeys([*declared, *got])
        ]  # fmt: skip
        out.append({**p, "environment": promo.environment, "base": promo.base, "checks": checks})
    return out


def campaigns(ctx: AccessContext) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        rows = conn.execute(
            select(access_campaigns).order_by(access_campaigns.c.created_at.desc())
        ).all()
    return [dict(r._mapping) for r in rows]


def step_up_until(store: Store, session_id: str, now: str) -> str | None:
    """When this login's open step-up window closes (None: no window is open, or its
    row is not sealed by this server: such a row counts as no window)."""
    with store.read() as conn:
        row = conn.execute(
            select(identity_step_up_windows).where(
                identity_step_up_windows.c.session_id == session_id
            )
        ).first()
    if row is None or str(row.expires_at) <= now or not window_sealed(store, row):
        return None
    return str(row.expires_at)


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


OBJECT_KINDS = ("grant", "request", "promotion", "vendor")
_OBJECT = re.compile(r"^(grant|request|promotion|vendor):([A-Za-z0-9][A-Za-z0-9._-]{0,127})$")
MAX_OBJECT_EVENTS = 500


@dataclass(frozen=True)
class AuditObject:
    """A grant, request, promotion or vendor whose events the audit page lists.

    ``resource``: the events' resource naming it (the library writes ``grant:ID`` and
    so on); ``bound``: the index and leaf hash of the event its row is bound to (the
    creating event), which is also the lower bound of all its events.
    """

    kind: str
    ident: str
    bound: tuple[int, str | None] | None = None
    deploys: str | None = None
    """``stage:STAGE/SHA`` of a promotion: its deployment events carry that resource."""

    @property
    def resource(self) -> str:
        return f"{self.kind}:{self.ident}"


def audit_object(ctx: AccessContext, text: str) -> AuditObject:
    """Parse ``kind:id`` and find the object's row (a clear error when there is none)."""
    from stagewall.access._tables import access_grants, access_requests

    m = _OBJECT.match(text.strip())
    if m is None:
        raise UsageError(
            f"of={text[:80]!r} does not name a grant, request, promotion or vendor",
            hint="write it as grant:ID, request:ID, promotion:ID or vendor:NAME "
            "(the tables link to it)",
        )
    kind, ident = m.group(1), m.group(2)
    if kind == "vendor":
        if ident not in ctx.loaded.estate.vendors:
            raise AuditObjectUnknown(f"there is no vendor {ident!r} in stagewall.yaml")
        return AuditObject(kind, ident)
    row: Any
    with ctx.store.read() as conn:
        if kind == "grant":
            row = conn.execute(
                select(access_grants.c.audit_index, access_grants.c.audit_leaf).where(
                    access_grants.c.id == ident
                )
            ).first()
        elif kind == "promotion":
            row = conn.execute(
                select(
                    gate_promotions.c.audit_index,
                    gate_promotions.c.audit_leaf,
                    gate_promotions.c.stage,
                    gate_promotions.c.sha,
                ).where(gate_promotions.c.request_id == ident)
            ).first()
        else:
            row = conn.execute(
                select(access_requests.c.id)
                .where(access_requests.c.id == ident)
                .where(access_requests.c.kind == "access")
            ).first()
    if row is None:
        raise AuditObjectUnknown(f"there is no {kind} {ident!r}")
    if kind == "request":
        return AuditObject(kind, ident)
    bound = (int(row[0]), row[1]) if row[0] is not None else None
    deploys = f"stage:{row[2]}/{row[3]}" if kind == "promotion" else None
    return AuditObject(kind, ident, bound, deploys)


@dataclass(frozen=True)
class ObjectEvents:
    events: list[StoredEvent]
    bound_ok: bool | None
    """Whether the row's bound event is in the log with the row's leaf hash (None: unbound)."""


def object_events(store: Store, obj: AuditObject) -> ObjectEvents:
    """Every event of ``obj``, oldest first: those naming it as their resource, the event
    its row is bound to, and (a promotion) the deployment checks that name it."""
    names = [audit_events.c.resource == obj.resource]
    if obj.deploys:
        names.append(audit_events.c.resource == obj.deploys)
    if obj.bound is not None:
        names.append(audit_events.c.idx == obj.bound[0])
    query = select(
        audit_events.c.idx,
        audit_events.c.canonical,
        audit_events.c.leaf_hash,
        audit_events.c.chain_hash,
    ).where(or_(*names))
    if obj.bound is not None:
        query = query.where(audit_events.c.idx >= obj.bound[0])
    query = query.order_by(audit_events.c.idx).limit(MAX_OBJECT_EVENTS)
    with store.read() as conn:
        rows = conn.execute(query).all()
    events = []
    bound_ok: bool | None = None
    for i, raw, leaf, chain in rows:
        e = StoredEvent.from_raw(int(i), _as_bytes(raw), _as_bytes(leaf), _as_bytes(chain))
        if obj.bound is not None and e.index == obj.bound[0]:
            bound_ok = obj.bound[1] is not None and _as_bytes(leaf).hex() == obj.bound[1]
        elif e.resource != obj.resource and e.details.get("promotion") != obj.ident:
            continue  # a check of the same commit at the stage, not of this promotion
        events.append(e)
    if obj.bound is not None and bound_ok is None:
        bound_ok = False
    return ObjectEvents(events, bound_ok)
