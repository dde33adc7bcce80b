"""The ``/device`` page of a signed-in person (RFC 8628; local account or identity provider).

``GET /device?user_code=…`` (in :mod:`stagewall.server._routes_identity`) shows this
page when the browser has a session: who asked (address, User-Agent, claimed host
name, how long ago), the warnings, and the person's own step-up (passkey and/or
one-time code, whichever they have). ``POST /device/decide`` carries the session's
CSRF token and the button clicked; approving also needs the factor, verified in this
request. A person with no factor is told how to enrol and can only deny. The decision
itself is :func:`stagewall.server._device_decision.decide`, shared with the API.
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from stagewall.errors import StagewallError
from stagewall.identity import device
from stagewall.identity._codes import fmt
from stagewall.server import _device_page
from stagewall.server._device_decision import (
    Decision,
    decide,
    fresh_factor,
    has_factor,
)
from stagewall.server._problems import status_for
from stagewall.server._state import ServerState
from stagewall.web._render import MAX_ASSERTION, Viewer, factor, render, viewer

ROUTE = "web.device.decide"


def page(
    request: Request,
    state: ServerState,
    who: Viewer,
    asked: device.Requester,
    *,
    now: datetime,
    message: str = "",
    hint: str = "",
    status: int = 200,
) -> HTMLResponse:
    """Who asked, the warnings and this person's Approve (with a factor) and Deny."""
    has_totp, has_passkey = has_factor(state, who.principal)
    left = max(0, int((asked.expires_at - now).total_seconds()))
    viewer_address = who.actor.source_address
    return render(
        request,
        "device.html",
        who=who,
        status=status,
        asked=asked,
        message=message,
        message_hint=hint,
        warning=_device_page.WARNING,
        elsewhere=bool(asked.address and viewer_address and asked.address != viewer_address),
        viewer_address=viewer_address,
        requested_ago=_device_page.ago(asked.requested_at, now),
        requested_at=fmt(asked.requested_at),
        left_min=left // 60,
        left_s=left % 60,
        has_totp=has_totp,
        has_passkey=has_passkey,
    )


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store

    @r.post("/device/decide", name=ROUTE, response_class=HTMLResponse)
    def decide_page(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, ROUTE))],
        user_code: Annotated[str, Form(max_length=32)],
        decision: Annotated[Literal["approve", "deny"], Form()],
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=MAX_ASSERTION)] = "",
    ) -> HTMLResponse:
        """Approve (with a fresh factor) or deny a terminal's code as the signed-in person."""
        actor = who.actor
        try:
            step = None
            if decision == "approve":
                code, assertion = factor(otp, webauthn)
                step = fresh_factor(state, actor, code, assertion)
            decide(state, actor, user_code, Decision(decision), step=step, via="page")
        except StagewallError as exc:
            now = state.now()
            asked = device.pending(store, user_code, now=now)
            if asked is None:
                return _device_page.entry_page(user_code, exc.message, status_for(exc))
            return page(
                request,
                state,
                who,
                asked,
                now=now,
                message=exc.message,
                hint=exc.hint or "",
                status=status_for(exc),
            )
        return _device_page.decided_page(decision)


__all__ = ["page", "register"]
