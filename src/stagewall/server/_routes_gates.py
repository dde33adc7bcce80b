"""Routes of promotion gates that people act on: list, pending, approve."""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import Field

from stagewall.gates import Gate
from stagewall.identity.actor import Actor, ActorClass, acting
from stagewall.server._auth import guard
from stagewall.server._gate_rows import gate_row_reporter
from stagewall.server._state import ServerState
from stagewall.server._stepup import Privileged


class ApproveBody(Privileged):
    reason: str = Field(default="", max_length=2000)


def register(r: FastAPI, state: ServerState) -> None:
    def gate() -> Gate:
        return Gate(state.ctx.store, state.ctx.loaded, home=str(state.home))

    @r.get("/api/v1/promotions", name="gate.list")
    def promotions(
        actor: Annotated[Actor, Depends(guard(state, "gate.list"))], pending: bool = False
    ) -> list[dict[str, Any]]:
        g = gate()
        rows = g.list(
            now=state.now(), report=gate_row_reporter(state, g, actor.principal, "gate list")
        )
        if not (actor.has(ActorClass.INTERNAL) or actor.has(ActorClass.AUDITOR)):
            # As with requests and grants: an external sees what they submitted only.
            rows = [x for x in rows if x["submitter"] == actor.principal]
        return [x for x in rows if x["state"] == "pending"] if pending else rows

    @r.post("/api/v1/promotions/{promotion_id}/approvals", name="gate.approve")
    def approve(
        promotion_id: str,
        body: ApproveBody,
        actor: Annotated[Actor, Depends(guard(state, "gate.approve"))],
    ) -> dict[str, Any]:
        with acting(actor):
            p, outcome = gate().approve(
                promotion_id,
                approver=actor.principal,
                otp=body.otp,
                reason=body.reason,
                now=state.now(),
                webauthn=body.webauthn,
            )
        return {
            "promotion": p.id,
            "approver": actor.principal,
            "state": outcome.value,
            "break_glass_follow_up": p.break_glass,
            "sha": p.sha,
            "digest": p.digest,
            "stage": p.stage,
        }

    @r.post("/api/v1/promotions/{promotion_id}/approvals/withdrawal", name="gate.approve.withdraw")
    def withdraw(
        promotion_id: str,
        body: ApproveBody,
        actor: Annotated[Actor, Depends(guard(state, "gate.approve.withdraw"))],
    ) -> dict[str, Any]:
        """Withdraw your own approval of a promotion: `gate check` no longer counts it."""
        with acting(actor):
            return gate().withdraw(
                promotion_id,
                approver=actor.principal,
                otp=body.otp,
                reason=body.reason,
                now=state.now(),
                webauthn=body.webauthn,
            )
