"""Enrolment through an invitation link: set a password, add the authenticator, confirm.

The page is reached only with the invitation's one-time token (what an admin sent);
the library decides everything (token valid and unused, password length, the code).
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from stagewall.errors import StagewallError
from stagewall.identity import accounts
from stagewall.server._auth import (
    clear_session_cookie,
    end_browser_session,
    https,
    refuse_offboarded,
    request_reporter,
)
from stagewall.server._problems import status_for
from stagewall.server._state import ServerState
from stagewall.web._render import (
    INVITE_CSRF_COOKIE,
    form_csrf_ok,
    new_login_csrf,
    render,
    set_form_csrf,
)


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store

    def page(
        request: Request,
        token: str,
        *,
        step: str,
        message: str = "",
        status: int = 200,
        secret: str = "",
        uri: str = "",
        principal: str = "",
    ) -> HTMLResponse:
        csrf = new_login_csrf()
        resp = render(
            request,
            "invite.html",
            status=status,
            token=token,
            step=step,
            message=message,
            csrf=csrf,
            secret=secret,
            uri=uri,
            principal=principal,
        )
        set_form_csrf(resp, INVITE_CSRF_COOKIE, csrf, path="/invite", secure=https(state))
        return resp

    @r.get("/invite", name="web.invite.page", response_class=HTMLResponse)
    def invite(request: Request, token: str = "") -> HTMLResponse:
        return page(request, token[:256], step="password")

    @r.post("/invite", name="web.invite.accept", response_class=HTMLResponse)
    def accept(
        request: Request,
        token: Annotated[str, Form(max_length=256)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        again: Annotated[str, Form(max_length=1024)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> HTMLResponse:
        if not form_csrf_ok(request, INVITE_CSRF_COOKIE, csrf, secure=https(state)):
            return page(
                request, token, step="password", message="The form expired; try again.", status=403
            )
        if password != again:
            return page(
                request, token, step="password", message="The passwords differ.", status=400
            )
        try:
            got = accounts.accept_invitation(
                store,
                state.estate,
                token,
                password,
                now=state.now(),
                home=str(state.home),
                refuse=lambda who: refuse_offboarded(state, who),
                report=request_reporter(request, state, token),
            )
        except StagewallError as exc:
            return page(
                request, token, step="password", message=exc.message, status=status_for(exc)
            )
        state.ctx.alert(got.alert())
        return page(
            request,
            token,
            step="confirm",
            secret=got.totp_secret,
            uri=got.totp_uri,
            principal=got.principal,
        )

    @r.post("/invite/confirm", name="web.invite.confirm", response_class=HTMLResponse)
    def confirm(
        request: Request,
        token: Annotated[str, Form(max_length=256)] = "",
        otp: Annotated[str, Form(max_length=16)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
    ) -> HTMLResponse:
        if not form_csrf_ok(request, INVITE_CSRF_COOKIE, csrf, secure=https(state)):
            return page(
                request, token, step="confirm", message="The form expired; try again.", status=403
            )
        try:
            who = accounts.confirm_invitation(
                store,
                token,
                otp.strip(),
                now=state.now(),
                home=str(state.home),
                refuse=lambda name: refuse_offboarded(state, name),
                report=request_reporter(request, state, token),
            )
        except StagewallError as exc:
            return page(request, token, step="confirm", message=exc.message, status=status_for(exc))
        # The browser now belongs to the invited person: a session it held ends here.
        end_browser_session(request, state)
        resp = page(request, "", step="done", principal=who)
        clear_session_cookie(resp, state)
        return resp
