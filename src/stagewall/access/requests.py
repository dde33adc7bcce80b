"""Filing access requests (immutable once written)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import ColumnElement

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import Outcome, Request, Review, fmt_time, insert_request
from stagewall.access._policy import Source, hold_problem
from stagewall.access._rules import snapshot
from stagewall.errors import UsageError
from stagewall.estate import format_duration

KIND = "access"


def approvers_for(ctx: AccessContext, role: str, requester: str) -> list[str]:
    """Internal principals who could approve a request of ``requester`` for ``role``."""
    e = ctx.estate
    r = e.roles.get(role)
    rule = e.approval_rules.get(r.approval) if r and r.approval else None
    pool = (
        set().union(*(e.group_members(g) for g in rule.from_groups))
        if rule and rule.from_groups
        else set(e.principals)
    )
    return sorted(p for p in pool if e.is_internal(p) and p != requester)


def request_access(
    ctx: AccessContext,
    *,
    requester: str,
    role: str,
    duration: timedelta,
    reason: str,
    ticket: str | None = None,
) -> Request:
    """File a request; refused (audited, alerted for the invariant) if it could never be granted."""
    e = ctx.estate
    if not reason.strip():
        raise UsageError("a reason is required (--reason TEXT)")
    if duration <= timedelta(0):
        raise UsageError("the duration must be positive (--for 30m, 2h, ...)")
    r = e.roles.get(role)
    if r is None:
        known = ", ".join(sorted(e.roles)) or "none"
        raise UsageError(f"role {role!r} is not declared (declared roles: {known})")
    if duration > r.max_duration:
        raise UsageError(
            f"role {role!r} allows at most {format_duration(r.max_duration)}, but "
            f"{format_duration(duration)} was requested",
            hint="ask for a shorter duration; a new request can follow when this one ends",
        )
    production = e.role_is_production(role)
    now = ctx.now()
    details = {"role": role, "requested": str(duration), "ticket": ticket}
    with ctx.store.read() as conn:
        offboarded = ctx.offboarded(conn)
    problem = hold_problem(
        e, requester, role, source=Source.REQUEST, now=now, offboarded=offboarded
    )
    if problem is not None:
        raise ctx.refuse(
            ev.REQUEST_REFUSED.code,
            requester,
            f"request for {role!r} by {requester!r} refused: {problem.text}",
            resource=f"role:{role}",
            details=details,
            loud=problem.invariant,
        )
    if requester not in e.eligible_for(role):
        raise ctx.refuse(
            ev.REQUEST_REFUSED.code,
            requester,
            f"request for {role!r} by {requester!r} refused: not eligible for this role",
            resource=f"role:{role}",
            details=details,
            loud=production,
            hint="eligibility is set by the role's eligible: list in stagewall.yaml",
        )
    if production and not r.approval:
        raise UsageError(f"production role {role!r} has no approval rule; fix stagewall.yaml")
    # The rule that applies now travels with the request: a later edit of
    # stagewall.yaml can raise the bar for it, never lower it (access/_rules.py).
    details = {**details, **snapshot(e, role)}
    with ctx.store.transaction() as conn:
        req = insert_request(
            conn,
            kind=KIND,
            requester=requester,
            subject=role,
            reason=reason.strip(),
            ticket=ticket,
            requested=duration,
            pending_ttl=r.pending_ttl,
            now=now,
            details=details,
        )
        ctx.record(
            ev.REQUEST_CREATED.code,
            requester,
            f"request {req.id}: {requester} asks for {role} for {duration}",
            resource=f"request:{req.id}",
            details={**details, "reason": req.reason, "expires_at": fmt_time(req.expires_at)},
            conn=conn,
        )
    # The approvers are notified by the server (stagewall.server.notify), once per store,
    # with a link to the request; nothing is sent from inside the request path.
    return req


def state_condition(state: Outcome, now: str) -> ColumnElement[bool]:
    """The store's rows whose ``state_of`` is ``state`` at ``now``.

    "No outcome yet" is a correlated NOT EXISTS on the outcome's primary key: the store
    checks only the candidate rows, not every decided request."""
    from sqlalchemy import and_, exists, or_, select

    from stagewall.access._tables import access_outcomes, access_requests

    def outcome(*conds: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists(
            select(access_outcomes.c.request_id).where(
                access_outcomes.c.request_id == access_requests.c.id, *conds
            )
        )

    if state is Outcome.PENDING:
        return and_(access_requests.c.expires_at > now, ~outcome())
    recorded = outcome(access_outcomes.c.outcome == state.value)
    if state is Outcome.EXPIRED:
        return or_(recorded, and_(access_requests.c.expires_at <= now, ~outcome()))
    return recorded


def list_requests(
    ctx: AccessContext,
    *,
    pending_only: bool = False,
    reviewable_by: str | None = None,
    requester: str | None = None,
    newest: int | None = None,
    state: str | None = None,
    roles: Collection[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, object]]:
    """Access requests with their state, oldest first.

    ``reviewable_by``: only those that person may review now; ``requester``: only that
    person's; ``newest``: only the newest N (still oldest first). Each request's state
    comes from its recorded outcome (``state_of``), loaded in bulk. ``state`` (an
    ``Outcome`` value), ``roles`` and the creation-time bounds ``since``/``until`` (ISO
    text, ``since`` <= t < ``until``) narrow the rows in the store.
    """
    from sqlalchemy import select

    from stagewall.access._core import request_from_row, review_from_row, state_of
    from stagewall.access._tables import access_outcomes, access_requests, access_reviews
    from stagewall.access.reviews import AccessKind

    now = ctx.now()
    query = select(access_requests).where(access_requests.c.kind == KIND)
    if pending_only or reviewable_by is not None:
        # Only pending requests can be listed: no outcome yet and not expired. The store
        # narrows the candidates; state_of below still decides each one's state.
        query = query.where(state_condition(Outcome.PENDING, fmt_time(now)))
    if requester is not None:
        query = query.where(access_requests.c.requester == requester)
    if roles is not None:
        query = query.where(access_requests.c.subject.in_(sorted(roles)))
    if since:
        query = query.where(access_requests.c.created_at >= since)
    if until:
        query = query.where(access_requests.c.created_at < until)
    if state is not None:
        query = query.where(state_condition(Outcome(state), fmt_time(now)))
    order = (access_requests.c.created_at, access_requests.c.id)
    if newest is not None:
        query = query.order_by(*(c.desc() for c in order)).limit(max(0, newest))
    else:
        query = query.order_by(*order)
    with ctx.store.read() as conn:
        reqs = [request_from_row(r._mapping) for r in conn.execute(query).all()]
        if newest is not None:
            reqs.reverse()
        ids = [r.id for r in reqs]
        recorded: dict[str, tuple[str, str | None]] = {}
        reviews: dict[str, list[Review]] = {}
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for o in conn.execute(
                select(
                    access_outcomes.c.request_id,
                    access_outcomes.c.outcome,
                    access_outcomes.c.result_ref,
                ).where(access_outcomes.c.request_id.in_(chunk))
            ).all():
                recorded[str(o[0])] = (str(o[1]), o[2])
            for v in conn.execute(
                select(access_reviews)
                .where(access_reviews.c.request_id.in_(chunk))
                .order_by(access_reviews.c.id)
            ).all():
                reviews.setdefault(str(v.request_id), []).append(review_from_row(v))
    kind = AccessKind(ctx)
    if reviewable_by is not None:
        from stagewall.identity.accounts import factor_reset_problem

        if factor_reset_problem(ctx.store, reviewable_by, now) is not None:
            return []
    out: list[dict[str, object]] = []
    for req in reqs:
        state, ref = state_of(recorded.get(req.id), req, now)
        if pending_only and state.value != "pending":
            continue
        done = reviews.get(req.id, [])
        if reviewable_by is not None and (
            state.value != "pending"
            or any(r.reviewer == reviewable_by for r in done)
            or kind.reviewer_problem(req, reviewable_by) is not None
        ):
            continue
        out.append(
            {
                "id": req.id,
                "requester": req.requester,
                "role": req.subject,
                "production": ctx.estate.role_is_production(req.subject),
                "reason": req.reason,
                "ticket": req.ticket,
                "duration": format_duration(req.requested),
                "created_at": fmt_time(req.created_at),
                "pending_until": fmt_time(req.expires_at),
                "state": state.value,
                "grant": ref,
                "reviews": [
                    {
                        "reviewer": r.reviewer,
                        "decision": r.decision.value,
                        "withdrawn": r.withdrawn_at is not None,
                    }
                    for r in done
                ],
            }
        )
    return out
