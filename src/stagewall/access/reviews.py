"""Reviewing access requests: the access kind of the shared request/review core."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import (
    Decision,
    Outcome,
    Request,
    Review,
    ReviewResult,
    ThresholdRule,
    check_reviewable,
    fmt_time,
    record_review,
    review_row,
    withdraw_locked,
    withdrawable,
)
from stagewall.access._policy import Source, eligibility_problem
from stagewall.access._rules import SnapshotTampered, effective_rules, stricter
from stagewall.access._tables import access_reviews
from stagewall.access.binding import bind_row, logged_withdrawers
from stagewall.access.grants import GrantRefused, create_grant
from stagewall.access.requests import KIND
from stagewall.errors import AccessDenied, UsageError
from stagewall.identity.accounts import factor_reset_problem


class AccessKind:
    """Rules of production/non-production access requests."""

    name = KIND

    def __init__(self, ctx: AccessContext) -> None:
        self.ctx = ctx

    def rule(self, request: Request) -> ThresholdRule:
        """The stricter of the rule snapshotted at filing and the current one."""
        try:
            return stricter(effective_rules(self.ctx.estate, request))
        except SnapshotTampered:
            # Nobody can review it (reviewer_problem says why); never a lower bar.
            return ThresholdRule(approvals=len(self.ctx.estate.principals) + 1)

    def reviewer_problem(self, request: Request, reviewer: str) -> str | None:
        e = self.ctx.estate
        if reviewer not in e.principals:
            return "not a declared principal"
        if not e.is_internal(reviewer):
            return "approvers must be internal, enabled principals"
        if reviewer == request.requester:
            return "nobody reviews their own request"
        # Eligibility is checked when the request is filed and again here (before the
        # MFA check, and under the request's lock right before the grant): someone taken
        # off the role's eligible: list meanwhile gets nothing from a request filed before.
        ineligible = eligibility_problem(
            e, request.requester, request.subject, source=Source.REQUEST
        )
        if ineligible is not None:
            return f"{ineligible.text}, so the request can no longer be granted"
        mine = e.principals[reviewer].vendor
        theirs = e.principals.get(request.requester)
        if mine is not None and theirs is not None and theirs.vendor == mine:
            return "approvers cannot come from the requester's vendor"
        try:
            rules = effective_rules(e, request)
        except SnapshotTampered:
            return (
                "the approval rule stored with the request does not match its hash "
                "(the store was edited); file a new request"
            )
        for rule in rules:
            groups = rule.from_groups
            if groups and not any(reviewer in e.group_members(g) for g in groups):
                return f"approvers must be in group {' or '.join(groups)}"
        return None

    def on_approved(
        self, conn: Connection, request: Request, reviews: Sequence[Review], now: datetime
    ) -> str:
        approvers = [r.reviewer for r in reviews if r.decision is Decision.APPROVE]
        grant = create_grant(
            self.ctx,
            conn,
            principal=request.requester,
            role=request.subject,
            source=Source.REQUEST,
            start=now,
            wanted_end=now + request.requested,
            reason=request.reason,
            actor=",".join(approvers),
            request_id=request.id,
        )
        return grant.id


def _require_id(request_id: str) -> None:
    if not request_id.strip():
        raise UsageError("a request id is required")


def _refusal(
    ctx: AccessContext,
    code: str,
    reviewer: str,
    request_id: str,
    exc: AccessDenied,
    *,
    loud: bool = False,
) -> AccessDenied:
    """Record ``exc`` as ``reviewer``'s refused ``code`` on the request; the error to raise."""
    return ctx.refuse(
        code, reviewer, exc.message, resource=f"request:{request_id}", loud=loud, hint=exc.hint
    )


def review_request(
    ctx: AccessContext,
    request_id: str,
    *,
    reviewer: str,
    approve: bool,
    otp: str | None = None,
    reason: str = "",
    webauthn: str | Mapping[str, Any] | None = None,
) -> ReviewResult:
    """Append an MFA-checked review; the grant starts when the threshold is met."""
    _require_id(request_id)
    now = ctx.now()
    if not ctx.estate.is_internal(reviewer):
        raise ctx.refuse(
            ev.REVIEW_REFUSED.code,
            reviewer,
            f"{reviewer!r} may not review request {request_id}: approvers must be internal, "
            "enabled principals",
            resource=f"request:{request_id}",
            loud=True,
        )
    # Every refusal decidable without the code comes before the MFA check, so it burns
    # none (unknown id, expired or decided request, a second review by the same person,
    # a reviewer outside the rule); record_review repeats them under the request lock.
    try:
        with ctx.store.read() as conn:
            check_reviewable(conn, AccessKind(ctx), request_id, reviewer, now)
    except AccessDenied as exc:
        raise _refusal(ctx, ev.REVIEW_REFUSED.code, reviewer, request_id, exc) from None
    problem = factor_reset_problem(ctx.store, reviewer, now)
    if problem is not None:
        raise ctx.refuse(
            ev.REVIEW_REFUSED.code,
            reviewer,
            f"{reviewer!r} may not review request {request_id}: {problem}",
            resource=f"request:{request_id}",
        )
    evidence = ctx.step_up(reviewer, otp, webauthn, purpose=f"review {request_id}")
    decision = Decision.APPROVE if approve else Decision.DENY
    try:
        with ctx.store.transaction() as conn:
            result = record_review(
                ctx.store,
                conn,
                AccessKind(ctx),
                request_id=request_id,
                reviewer=reviewer,
                decision=decision,
                reason=reason,
                mfa_method=evidence.method,
                mfa_time=evidence.time,
                now=now,
                withdrawn_in_log=lambda c: logged_withdrawers(
                    ctx.audit, c, ev.REVIEW_WITHDRAWN.code, f"request:{request_id}"
                ),
            )
            ref = ctx.record(
                ev.REVIEW_RECORDED.code,
                reviewer,
                f"{reviewer} {decision.value}d request {request_id}; now {result.outcome.value}",
                resource=f"request:{request_id}",
                details={
                    "decision": decision.value,
                    "reason": reason,
                    "mfa": evidence.as_dict(),
                    "outcome": result.outcome.value,
                    "grant": result.result_ref,
                },
                conn=conn,
            )
            bind_row(conn, access_reviews, review_row(request_id, reviewer), ref)
    except GrantRefused as exc:
        raise ctx.refuse(
            ev.GRANT_REFUSED.code,
            reviewer,
            exc.message,
            resource=f"request:{request_id}",
            loud=True,
        ) from None
    except AccessDenied as exc:
        external = reviewer not in ctx.estate.principals or not ctx.estate.is_internal(reviewer)
        raise _refusal(
            ctx, ev.REVIEW_REFUSED.code, reviewer, request_id, exc, loud=external
        ) from None
    return result


def withdraw_approval(
    ctx: AccessContext,
    request_id: str,
    *,
    reviewer: str,
    otp: str | None = None,
    reason: str = "",
    webauthn: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Withdraw ``reviewer``'s own approval of an access request (step-up MFA, audited).

    The approval then counts for nothing: a pending request needs another approval, and
    the grant an approved request made is ended (its logins removed with proof), so
    credential issuance refuses. Only the approver withdraws, only once; refusals that
    need no code come before the MFA check."""
    from stagewall.access.grants import GrantStatus
    from stagewall.access.revoke import end_grant

    _require_id(request_id)
    try:
        with ctx.store.read() as conn:
            request, _outcome = withdrawable(conn, request_id, reviewer)
    except AccessDenied as exc:
        raise _refusal(ctx, ev.REVIEW_WITHDRAWN.code, reviewer, request_id, exc) from None
    if request.kind != KIND:
        raise UsageError(
            f"{request_id} is a {request.kind} request; withdraw a promotion approval with "
            "`stagewall gate withdraw`"
        )
    evidence = ctx.step_up(reviewer, otp, webauthn, purpose=f"withdraw approval {request_id}")
    now = ctx.now()
    with ctx.store.transaction() as conn:
        _request, outcome = withdraw_locked(
            ctx.store, conn, request_id, reviewer, reason=reason, now=now
        )
        grant = outcome[1] if outcome is not None and outcome[0] == "approved" else None
        ctx.record(
            ev.REVIEW_WITHDRAWN.code,
            reviewer,
            f"{reviewer} withdrew their approval of request {request_id}"
            + (f"; grant {grant} ends" if grant else ""),
            resource=f"request:{request_id}",
            details={"reason": reason, "mfa": evidence.as_dict(), "grant": grant},
            conn=conn,
        )
    if grant is not None:
        end_grant(
            ctx,
            grant,
            actor=reviewer,
            reason=f"approval of {request_id} withdrawn by {reviewer}",
            status=GrantStatus.REVOKED,
        )
    return {
        "request": request_id,
        "withdrawn_by": reviewer,
        "withdrawn_at": fmt_time(now),
        "grant": grant,
    }


__all__ = ["AccessKind", "Outcome", "review_request", "withdraw_approval"]
