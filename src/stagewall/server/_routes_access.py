"""Routes of just-in-time access: each calls the access library as the authenticated actor."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations,
# which use the local ``state`` inside Depends(guard(state, ...)).

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from stagewall.access import (
    break_glass,
    complete_follow_up,
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    revoke_grant,
    withdraw_approval,
)
from stagewall.access._core import fmt_time
from stagewall.access.requests import list_requests
from stagewall.errors import UsageError
from stagewall.estate import format_duration, parse_duration
from stagewall.identity.actor import Actor, ActorClass, acting
from stagewall.server import plans
from stagewall.server._auth import guard
from stagewall.server._state import ServerState
from stagewall.server._stepup import Privileged


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"duration {text!r}: {exc}", hint="write it as 30m, 2h or 1d") from None


class _Body(BaseModel):
    """Request bodies reject unknown fields: nothing a client adds can name an actor."""

    model_config = ConfigDict(extra="forbid")


class RequestBody(_Body):
    role: str = Field(min_length=1, max_length=128)
    duration: str = Field(min_length=1, max_length=32, examples=["2h"])
    reason: str = Field(max_length=2000)
    ticket: str | None = Field(default=None, max_length=256)


class ReviewBody(Privileged):
    approve: bool
    reason: str = Field(default="", max_length=2000)


class WithdrawBody(Privileged):
    reason: str = Field(default="", max_length=2000)


class CredentialsBody(Privileged):
    pass


class RevokeBody(Privileged):
    reason: str = Field(max_length=2000)


class BreakGlassBody(Privileged):
    role: str = Field(min_length=1, max_length=128)
    reason: str = Field(max_length=2000)
    ticket: str | None = Field(default=None, max_length=256)
    duration: str | None = Field(default=None, max_length=32, examples=["30m"])


class FollowUpBody(Privileged):
    note: str = Field(max_length=4000)


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    @r.post("/api/v1/access/requests", name="access.request.create", status_code=201)
    def create_request(
        body: RequestBody, actor: Annotated[Actor, Depends(guard(state, "access.request.create"))]
    ) -> dict[str, Any]:
        with acting(actor):
            req = request_access(
                ctx,
                requester=actor.principal,
                role=body.role,
                duration=_duration(body.duration),
                reason=body.reason,
                ticket=body.ticket,
            )
        return {
            "request": req.id,
            "role": req.subject,
            "requester": req.requester,
            "duration": format_duration(req.requested),
            "pending_until": fmt_time(req.expires_at),
        }

    @r.get("/api/v1/access/requests", name="access.request.list")
    def requests(
        actor: Annotated[Actor, Depends(guard(state, "access.request.list"))],
        pending: bool = False,
        mine_to_review: bool = False,
    ) -> list[dict[str, Any]]:
        rows = list_requests(
            ctx,
            pending_only=pending,
            reviewable_by=actor.principal if mine_to_review else None,
        )
        if not (actor.has(ActorClass.INTERNAL) or actor.has(ActorClass.AUDITOR)):
            rows = [x for x in rows if x["requester"] == actor.principal]
        return rows

    @r.get("/api/v1/inbox", name="inbox")
    def inbox(actor: Annotated[Actor, Depends(guard(state, "inbox"))]) -> dict[str, Any]:
        reviewable = (
            list_requests(ctx, reviewable_by=actor.principal)
            if actor.has(ActorClass.INTERNAL)
            else []
        )
        mine = [
            x for x in list_requests(ctx, pending_only=True) if x["requester"] == actor.principal
        ]
        # masking plan approvals this person may review (internal people only, as above)
        plans_ = (
            plans.list_requests(state, reviewable_by=actor.principal)
            if actor.has(ActorClass.INTERNAL)
            else []
        )
        return {"to_review": reviewable, "my_pending": mine, "plans_to_review": plans_}

    @r.post("/api/v1/access/requests/{request_id}/reviews", name="access.review")
    def review(
        request_id: str,
        body: ReviewBody,
        actor: Annotated[Actor, Depends(guard(state, "access.review"))],
    ) -> dict[str, Any]:
        with acting(actor):
            res = review_request(
                ctx,
                request_id,
                reviewer=actor.principal,
                approve=body.approve,
                otp=body.otp,
                reason=body.reason,
                webauthn=body.webauthn,
            )
        return {"request": request_id, "outcome": res.outcome.value, "grant": res.result_ref}

    @r.post(
        "/api/v1/access/requests/{request_id}/reviews/withdrawal", name="access.review.withdraw"
    )
    def withdraw(
        request_id: str,
        body: WithdrawBody,
        actor: Annotated[Actor, Depends(guard(state, "access.review.withdraw"))],
    ) -> dict[str, Any]:
        """Withdraw your own approval: it counts for nothing and its grant ends."""
        with acting(actor):
            return withdraw_approval(
                ctx,
                request_id,
                reviewer=actor.principal,
                otp=body.otp,
                reason=body.reason,
                webauthn=body.webauthn,
            )

    @r.get("/api/v1/access/grants", name="access.grant.list")
    def grants(
        actor: Annotated[Actor, Depends(guard(state, "access.grant.list"))], active: bool = False
    ) -> list[dict[str, Any]]:
        rows = [g.as_dict() for g in list_grants(ctx, active_only=active)]
        if not (actor.has(ActorClass.INTERNAL) or actor.has(ActorClass.AUDITOR)):
            rows = [g for g in rows if g["principal"] == actor.principal]
        return rows

    @r.post("/api/v1/access/grants/{grant_id}/credentials", name="access.credentials")
    def credentials(
        grant_id: str,
        body: CredentialsBody,
        actor: Annotated[Actor, Depends(guard(state, "access.credentials"))],
    ) -> list[dict[str, Any]]:
        with acting(actor):
            creds = issue_credentials(
                ctx, grant_id, holder=actor.principal, otp=body.otp, webauthn=body.webauthn
            )
        return [{**c.public(), "password": c.password} for c in creds]

    @r.post("/api/v1/access/grants/{grant_id}/revoke", name="access.revoke")
    def revoke(
        grant_id: str,
        body: RevokeBody,
        actor: Annotated[Actor, Depends(guard(state, "access.revoke"))],
    ) -> dict[str, Any]:
        with acting(actor):
            rep = revoke_grant(
                ctx,
                grant_id,
                actor=actor.principal,
                reason=body.reason,
                otp=body.otp,
                webauthn=body.webauthn,
            )
        return rep.as_dict()

    @r.post("/api/v1/access/break-glass", name="access.break_glass", status_code=201)
    def breakglass(
        body: BreakGlassBody, actor: Annotated[Actor, Depends(guard(state, "access.break_glass"))]
    ) -> dict[str, Any]:
        with acting(actor):
            grant, fu = break_glass(
                ctx,
                principal=actor.principal,
                role=body.role,
                reason=body.reason,
                otp=body.otp,
                webauthn=body.webauthn,
                ticket=(body.ticket or "").strip() or None,
                **({"duration": _duration(body.duration)} if body.duration else {}),
            )
        return {"grant": grant.as_dict(), "follow_up": fu.id, "follow_up_due": fu.due_at}

    @r.post("/api/v1/access/follow-ups/{follow_up_id}", name="access.follow_up")
    def follow_up(
        follow_up_id: str,
        body: FollowUpBody,
        actor: Annotated[Actor, Depends(guard(state, "access.follow_up"))],
    ) -> dict[str, Any]:
        with acting(actor):
            fu = complete_follow_up(
                ctx,
                follow_up_id,
                reviewer=actor.principal,
                otp=body.otp,
                note=body.note,
                webauthn=body.webauthn,
            )
        return {"follow_up": fu.id, "completed_by": actor.principal}
