"""Signing in and out of the web UI (local accounts; an OIDC button when the server has one)."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stagewall.errors import StagewallError
from stagewall.identity.actor import LoginMethod, acting
from stagewall.identity.login import password_login
from stagewall.identity.tokens import TokenKind, issue_token, log_out
from stagewall.server._auth import (
    clear_session_cookie,
    end_browser_session,
    https,
    login_alert,
    refuse_offboarded,
    set_session_cookie,
    source_address,
)
from stagewall.server._state import ServerState
from stagewall.web._render import (
    LOGIN_CSRF_COOKIE,
    Viewer,
    clear_form_csrf,
    has_route,
    login_csrf_ok,
    new_login_csrf,
    render,
    safe_next,
    set_form_csrf,
    viewer,
)

OIDC_ROUTE = "oidc.login"


def _oidc_url(app: FastAPI, state: ServerState, next_url: str = "/") -> str | None:
    """The identity provider's login route, when this server has one and it is configured;
    the browser comes back to ``next_url`` once signed in."""
    if state.settings.oidc is None or not has_route(app, OIDC_ROUTE):
        return None
    path = str(app.url_path_for(OIDC_ROUTE))
    return path if next_url == "/" else path + "?next=" + quote(next_url, safe="")


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store

    def login_form(
        request: Request, next_url: str, message: str = "", status: int = 200, name: str = ""
    ) -> HTMLResponse:
        state.refresh()  # the OIDC button follows stagewall.yaml as it is now
        token = new_login_csrf()
        resp = render(
            request,
            "login.html",
            status=status,
            csrf=token,
            next_url=safe_next(next_url),
            message=message,
            principal=name,
            oidc_url=_oidc_url(r, state, safe_next(next_url)),
        )
        set_form_csrf(resp, LOGIN_CSRF_COOKIE, token, path="/login", secure=https(state))
        return resp

    @r.get("/login", name="web.login.page", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return login_form(request, next)

    @r.post("/login", name="web.login", response_class=HTMLResponse)
    def login(
        request: Request,
        principal: Annotated[str, Form(max_length=128)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        otp: Annotated[str, Form(max_length=16)] = "",
        csrf: Annotated[str, Form(max_length=128)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        if not login_csrf_ok(request, csrf, secure=https(state)):
            return login_form(
                request, next, "The form expired or was not sent by this page; try again.", 403
            )
        if not principal or not password:
            return login_form(request, next, "Enter your principal name and password.", 400)
        now = state.now()
        try:
            kind = password_login(
                store,
                state.estate,
                principal,
                password,
                otp.strip() or None,
                now=now,
                source=source_address(request, state),
                home=state.home,
                refuse=lambda who: refuse_offboarded(state, who),
                alert=login_alert(state),
            )
        except StagewallError as exc:
            return login_form(request, next, exc.message, 401, principal)
        if kind is not TokenKind.API:
            return login_form(
                request,
                next,
                "This account has no second factor yet. Finish enrolment from your "
                "invitation (or `stagewall mfa enroll`) first, then sign in with the code.",
                403,
                principal,
            )
        end_browser_session(request, state)
        ttl = state.settings.token_ttl
        new = issue_token(
            store,
            principal,
            kind=TokenKind.BROWSER,
            method=LoginMethod.LOCAL,
            now=now,
            ttl=ttl,
            source_address=source_address(request, state),
            user_agent=request.headers.get("user-agent"),
        )
        resp = RedirectResponse(safe_next(next), status_code=303)
        set_session_cookie(resp, state, new.secret, int(ttl.total_seconds()))
        clear_form_csrf(resp, LOGIN_CSRF_COOKIE, path="/login", secure=https(state))
        return resp

    @r.post("/logout", name="web.logout")
    def logout(who: Annotated[Viewer, Depends(viewer(state, "web.logout"))]) -> Response:
        with acting(who.actor):
            log_out(store, who.principal, who.actor.session_id, now=state.now())
        resp = RedirectResponse("/login", status_code=303)
        clear_session_cookie(resp, state)
        return resp
