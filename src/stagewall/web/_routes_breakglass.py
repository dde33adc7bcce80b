"""Breaking glass from the web: the same library call as ``POST /api/v1/access/break-glass``.

The form lists the roles that allow break-glass with the library's own verdict for the
signed-in person (``break_glass_problem``); externals and service principals see why they
cannot. Posting it is for internal people only (the API's row), needs the step-up the
API needs, and goes to ``break_glass``, which decides, records and alerts.
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from stagewall.access import break_glass, break_glass_problem
from stagewall.errors import StagewallError
from stagewall.estate import format_duration
from stagewall.estate.models import BREAK_GLASS_CAP
from stagewall.identity.actor import acting
from stagewall.server._problems import status_for
from stagewall.server._state import ServerState
from stagewall.web._render import (
    MAX_ASSERTION,
    Viewer,
    factor,
    form_page,
    viewer,
    wanted_duration,
)

DURATIONS = ("15m", "30m", "1h")


def glass_roles(state: ServerState, who: Viewer) -> list[dict[str, Any]]:
    """Every role that allows break-glass, with why this person cannot break it (or None)."""
    e = state.estate
    with state.ctx.store.read() as conn:
        off = state.ctx.offboarded(conn)
    return [
        {
            "name": name,
            "environment": role.environment,
            "production": e.role_is_production(name),
            "access": role.access.value,
            "problem": break_glass_problem(state.ctx, who.principal, name, offboarded=off),
        }
        for name, role in sorted(e.roles.items())
        if role.break_glass
    ]


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    def page(request: Request, who: Viewer, **kw: Any) -> HTMLResponse:
        return form_page(
            request,
            "breakglass_new.html",
            who,
            roles=glass_roles(state, who),
            durations=DURATIONS,
            cap=format_duration(BREAK_GLASS_CAP),
            may_break=who.may("web.breakglass.create"),
            **kw,
        )

    @r.get("/break-glass/new", name="web.breakglass.page", response_class=HTMLResponse)
    def show(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.breakglass.page"))]
    ) -> HTMLResponse:
        return page(request, who)

    @r.post("/break-glass/new", name="web.breakglass.create", response_class=HTMLResponse)
    def create(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.breakglass.create"))],
        role: Annotated[str, Form(max_length=128)] = "",
        duration: Annotated[str, Form(max_length=32)] = "1h",
        reason: Annotated[str, Form(max_length=2000)] = "",
        ticket: Annotated[str, Form(max_length=256)] = "",
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=MAX_ASSERTION)] = "",
    ) -> HTMLResponse:
        form = {"role": role, "duration": duration, "reason": reason, "ticket": ticket}
        try:
            code, assertion = factor(otp, webauthn)
            with acting(who.actor):
                grant, fu = break_glass(
                    ctx,
                    principal=who.principal,
                    role=role,
                    reason=reason,
                    otp=code,
                    webauthn=assertion,
                    duration=wanted_duration(duration),
                    ticket=ticket.strip() or None,
                )
        except StagewallError as exc:
            return page(request, who, message=exc.message, form=form, status=status_for(exc))
        done = {
            "grant": grant.id,
            "role": grant.role,
            "ends_at": grant.ends_at,
            "follow_up": fu.id,
            "due": fu.due_at,
        }
        return page(request, who, done=done, status=201)
