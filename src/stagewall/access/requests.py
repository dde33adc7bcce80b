"""Filing access requests (immutable once written)."""

from __future__ import annotations

from datetime import timedelta

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import Request, fmt_time, insert_request
from stagewall.access._policy import Source, hold_problem
from stagewall.access._rules import snapshot
from stagewall.alerts import Alert, Severity
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
    approvers = approvers_for(ctx, role, requester)
    ctx.alert(
        Alert(
            kind="access.request.created",
            title=f"access request {req.id}: {requester} asks for {role}",
            text=(
                f"{requester} asks for {role} ({'production' if production else 'non-production'}) "
                f"for {duration}: {req.reason}\nApprovers: {', '.join(approvers) or 'none'}\n"
                f"Review: stagewall access review {req.id} --as APPROVER --approve --otp CODE\n"
                f"Pending until {fmt_time(req.expires_at)}"
            ),
            severity=Severity.INFO,
            details={
                "request": req.id,
                "role": role,
                "requester": requester,
                "approvers": approvers,
            },
        )
    )
    return req


def list_requests(
    ctx: AccessContext, *, pending_only: bool = False, reviewable_by: str | None = None
) -> list[dict[str, object]]:
    """Access requests with their state; ``reviewable_by``: only those that person may review."""
    from sqlalchemy import select

    from stagewall.access._core import load_request, load_reviews, outcome_of
    from stagewall.access._tables import access_requests
    from stagewall.access.reviews import AccessKind

    now = ctx.now()
    out: list[dict[str, object]] = []
    with ctx.store.read() as conn:
        ids = (
            conn.execute(
                select(access_requests.c.id)
                .where(access_requests.c.kind == KIND)
                .order_by(access_requests.c.created_at)
            )
            .scalars()
            .all()
        )
        for rid in ids:
            req = load_request(conn, str(rid))
            state, ref = outcome_of(conn, req, now)
            if pending_only and state.value != "pending":
                continue
            reviews = load_reviews(conn, req.id)
            if reviewable_by is not None and (
                state.value != "pending" or any(r.reviewer == reviewable_by for r in reviews)
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
                        {"reviewer": r.reviewer, "decision": r.decision.value} for r in reviews
                    ],
                }
            )
    if reviewable_by is not None:
        from stagewall.identity.accounts import factor_reset_problem

        if factor_reset_problem(ctx.store, reviewable_by, now) is not None:
            return []
        kind = AccessKind(ctx)
        with ctx.store.read() as conn:
            out = [
                o
                for o in out
                if kind.reviewer_problem(load_request(conn, str(o["id"])), reviewable_by) is None
            ]
    return out
