"""Requesting access, my access (time left, credentials once, revoke), a person's page."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from stagewall.access import grants_page, issue_credentials, request_access, revoke_grant
from stagewall.access._policy import Source, hold_problem
from stagewall.access.requests import approvers_for, list_requests
from stagewall.errors import StagewallError, UsageError
from stagewall.estate import format_duration
from stagewall.identity import passkeys
from stagewall.identity.actor import ActorClass, acting
from stagewall.server._events import REQUEST_REFUSED
from stagewall.server._problems import status_for
from stagewall.server._state import ServerState
from stagewall.web._render import (
    MAX_ASSERTION,
    Viewer,
    factor,
    form_page,
    render,
    viewer,
    wanted_duration,
)


def role_choices(state: ServerState, who: Viewer) -> list[dict[str, Any]]:
    """Every role the person is eligible for, with the rule that applies or why it cannot be.

    Internal people also see the roles they cannot request and why. Others see only roles
    they are eligible for and never a production role's name: the page says once that
    production cannot be requested (``production_closed``)."""
    e = state.estate
    ctx = state.ctx
    internal = who.has(ActorClass.INTERNAL)
    with ctx.store.read() as conn:
        offboarded = ctx.offboarded(conn)
    out = []
    for name, role in sorted(e.roles.items()):
        production = e.role_is_production(name)
        if not internal and (production or who.principal not in e.eligible_for(name)):
            continue
        problem = hold_problem(
            e, who.principal, name, source=Source.REQUEST, now=state.now(), offboarded=offboarded
        )
        eligible = who.principal in e.eligible_for(name)
        if problem is None and not eligible:
            continue
        rule = e.approval_rules.get(role.approval) if role.approval else None
        out.append(
            {
                "name": name,
                "environment": role.environment,
                "production": production,
                "access": role.access.value,
                "max": format_duration(role.max_duration),
                "problem": problem.text if problem else None,
                "approvals": rule.approvals if rule else 0,
                "approvers": approvers_for(ctx, name, who.principal) if problem is None else [],
                "description": role.description,
            }
        )
    return out


def reachable_roles(state: ServerState, who: Viewer) -> set[str]:
    """The roles ``who`` may name in a filter menu: every role for internal people and
    auditors; for others, the roles they are eligible for and may hold now (production
    is never among an external's). Their own rows add the names those rows show."""
    e = state.estate
    if who.sees_everyone:
        return set(e.roles)
    with state.ctx.store.read() as conn:
        offboarded = state.ctx.offboarded(conn)
    now = state.now()
    return {
        name
        for name in e.roles
        if who.principal in e.eligible_for(name)
        and hold_problem(
            e, who.principal, name, source=Source.REQUEST, now=now, offboarded=offboarded
        )
        is None
    }


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    def request_page(request: Request, who: Viewer, **kw: Any) -> HTMLResponse:
        production_closed = not who.has(ActorClass.INTERNAL) and any(
            map(state.estate.role_is_production, state.estate.roles)
        )
        return form_page(
            request,
            "request.html",
            who,
            roles=role_choices(state, who),
            production_closed=production_closed,
            **kw,
        )

    @r.get("/request", name="web.request.page", response_class=HTMLResponse)
    def request_form(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.request.page"))]
    ) -> HTMLResponse:
        return request_page(request, who)

    @r.post("/request", name="web.request.create", response_class=HTMLResponse)
    def request_create(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.request.create"))],
        role: Annotated[str, Form(max_length=128)] = "",
        duration: Annotated[str, Form(max_length=32)] = "",
        reason: Annotated[str, Form(max_length=2000)] = "",
        ticket: Annotated[str, Form(max_length=256)] = "",
    ) -> HTMLResponse:
        form = {"role": role, "duration": duration, "reason": reason, "ticket": ticket}
        try:
            wanted = wanted_duration(duration)
            with acting(who.actor):
                req = request_access(
                    ctx,
                    requester=who.principal,
                    role=role,
                    duration=wanted,
                    reason=reason,
                    ticket=ticket.strip() or None,
                )
        except StagewallError as exc:
            return request_page(
                request, who, message=exc.message, form=form, status=status_for(exc)
            )
        return request_page(
            request,
            who,
            done={
                "id": req.id,
                "role": req.subject,
                "approvers": approvers_for(ctx, req.subject, who.principal),
            },
            status=201,
        )

    def access_page(
        request: Request,
        who: Viewer,
        *,
        message: str = "",
        info: str = "",
        status: int = 200,
    ) -> HTMLResponse:
        now = state.now()
        active = grants_page(ctx, principal=who.principal, live_only=True).grants
        ended = [
            g for g in grants_page(ctx, principal=who.principal, limit=40).grants if not g.live(now)
        ][:20]
        return render(
            request,
            "access.html",
            who=who,
            status=status,
            active=active,
            ended=ended,
            requests=list_requests(ctx, requester=who.principal, newest=20),
            now=now,
            message=message,
            info=info,
        )

    @r.get("/access", name="web.access", response_class=HTMLResponse)
    def my_access(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.access"))]
    ) -> HTMLResponse:
        return access_page(request, who)

    @r.post("/access/{grant_id}/credentials", name="web.credentials", response_class=HTMLResponse)
    def credentials(
        request: Request,
        grant_id: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.credentials"))],
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=MAX_ASSERTION)] = "",
    ) -> HTMLResponse:
        try:
            code, assertion = factor(otp, webauthn)
            with acting(who.actor):
                creds = issue_credentials(
                    ctx, grant_id, holder=who.principal, otp=code, webauthn=assertion
                )
        except StagewallError as exc:
            return access_page(request, who, message=exc.message, status=status_for(exc))
        return render(
            request,
            "credentials.html",
            who=who,
            grant_id=grant_id,
            creds=[{**c.public(), "password": c.password} for c in creds],
        )

    @r.post("/access/{grant_id}/revoke", name="web.revoke", response_class=HTMLResponse)
    def revoke(
        request: Request,
        grant_id: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.revoke"))],
        reason: Annotated[str, Form(max_length=2000)] = "",
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=MAX_ASSERTION)] = "",
    ) -> HTMLResponse:
        try:
            code, assertion = factor(otp, webauthn)
            with acting(who.actor):
                rep = revoke_grant(
                    ctx, grant_id, actor=who.principal, reason=reason, otp=code, webauthn=assertion
                )
        except StagewallError as exc:
            return access_page(request, who, message=exc.message, status=status_for(exc))
        verified = "verified" if rep.verified else "NOT yet verified"
        return access_page(
            request, who, info=f"Grant {grant_id} revoked; removal of its logins {verified}."
        )

    @r.get("/people/{principal}", name="web.person", response_class=HTMLResponse)
    def person(
        request: Request,
        principal: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.person"))],
    ) -> HTMLResponse:
        if principal != who.principal and not who.sees_everyone:
            with acting(who.actor):
                raise ctx.refuse(
                    REQUEST_REFUSED.code,
                    who.principal,
                    f"{who.principal!r} may not see the page of {principal!r}",
                    resource=f"principal:{principal[:128]}",
                    hint="you can see your own access; internal people and auditors see all",
                )
        e = state.estate
        p = e.principals.get(principal)
        if p is None:
            raise UsageError(f"principal {principal!r} is not declared")
        end = e.vendor_end(principal)
        return render(
            request,
            "person.html",
            who=who,
            name=principal,
            principal=p,
            internal=e.is_internal(principal),
            contract_end=end.date().isoformat() if end else None,
            grants=grants_page(ctx, principal=principal, limit=50).grants,
            requests=list_requests(ctx, requester=principal, newest=50),
            now=state.now(),
        )

    def security_page(
        request: Request, who: Viewer, *, message: str = "", info: str = "", status: int = 200
    ) -> HTMLResponse:
        return render(
            request,
            "security.html",
            who=who,
            status=status,
            keys=passkeys.list_passkeys(ctx.store, who.principal),
            message=message,
            info=info,
        )

    @r.get("/security", name="web.security", response_class=HTMLResponse)
    def security(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.security"))]
    ) -> HTMLResponse:
        return security_page(request, who)

    @r.post(
        "/security/passkeys/{passkey_id}/remove",
        name="web.passkey.remove",
        response_class=HTMLResponse,
    )
    def remove_passkey(
        request: Request,
        passkey_id: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.passkey.remove"))],
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=MAX_ASSERTION)] = "",
    ) -> HTMLResponse:
        """Remove one of my passkeys: the library the API's DELETE calls decides."""
        try:
            code, assertion = factor(otp, webauthn)
            with acting(who.actor):
                passkeys.remove_own(
                    ctx.store,
                    who.principal,
                    passkey_id,
                    otp=code,
                    webauthn=assertion,
                    now=state.now(),
                    settings=state.settings,
                    home=state.home,
                )
        except StagewallError as exc:
            return security_page(request, who, message=exc.message, status=status_for(exc))
        return security_page(request, who, info="Passkey removed.")
