"""Routes of access-review campaigns and vendor offboarding."""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from stagewall.access import (
    campaign_report,
    close_campaign,
    decide,
    offboard_vendor,
    start_campaign,
)
from stagewall.errors import UsageError
from stagewall.identity.actor import Actor, acting
from stagewall.server._auth import guard
from stagewall.server._state import ServerState
from stagewall.server._stepup import Privileged


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartBody(_Body):
    name: str = Field(min_length=1, max_length=256)
    due: str = Field(min_length=1, max_length=32, examples=["2026-12-31"])


class DecideBody(Privileged):
    keep: bool
    note: str = Field(default="", max_length=4000)


class OffboardBody(Privileged):
    pass


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    @r.post("/api/v1/reviews", name="review.start", status_code=201)
    def start(
        body: StartBody, actor: Annotated[Actor, Depends(guard(state, "review.start"))]
    ) -> dict[str, Any]:
        try:
            due = date.fromisoformat(body.due)
        except ValueError:
            raise UsageError(f"--due {body.due!r} is not a date; use YYYY-MM-DD") from None
        with acting(actor):
            return dict(start_campaign(ctx, name=body.name, due=due, actor=actor.principal))

    @r.get("/api/v1/reviews/{campaign_id}", name="review.report")
    def report(
        campaign_id: str, actor: Annotated[Actor, Depends(guard(state, "review.report"))]
    ) -> dict[str, Any]:
        return dict(campaign_report(ctx, campaign_id))

    @r.post("/api/v1/reviews/{campaign_id}/close", name="review.close")
    def close(
        campaign_id: str, actor: Annotated[Actor, Depends(guard(state, "review.close"))]
    ) -> dict[str, Any]:
        with acting(actor):
            return dict(close_campaign(ctx, campaign_id, actor=actor.principal))

    @r.post("/api/v1/review-items/{item_id}/decision", name="review.decide")
    def decide_item(
        item_id: str,
        body: DecideBody,
        actor: Annotated[Actor, Depends(guard(state, "review.decide"))],
    ) -> dict[str, Any]:
        with acting(actor):
            return dict(
                decide(
                    ctx,
                    item_id,
                    reviewer=actor.principal,
                    keep=body.keep,
                    otp=body.otp,
                    note=body.note,
                    webauthn=body.webauthn,
                )
            )

    @r.post("/api/v1/vendors/{vendor}/offboard", name="vendor.offboard")
    def offboard(
        vendor: str,
        body: OffboardBody,
        actor: Annotated[Actor, Depends(guard(state, "vendor.offboard"))],
    ) -> dict[str, Any]:
        with acting(actor):
            return offboard_vendor(
                ctx, vendor, actor=actor.principal, otp=body.otp, webauthn=body.webauthn
            ).as_dict()
