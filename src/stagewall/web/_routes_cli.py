"""The browser's half of the CLI hand-offs: ``login --browser`` and ``mfa step-up --browser``.

Both pages need a browser session (signed out, they send the person to the sign-in
page — local account or OIDC — and come back). ``/cli/login`` asks the signed-in
person to confirm the terminal and sends the browser to the terminal's loopback
listener with a one-time code; ``/cli/step-up`` verifies a passkey (or code) with the
one step-up check and opens the ordinary step-up window on the terminal's session.
See :mod:`stagewall.identity.handoff`.
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stagewall.errors import UsageError
from stagewall.identity import handoff, stepup
from stagewall.identity._codes import fmt
from stagewall.identity._events import BROWSER_LOGIN_APPROVED, BROWSER_STEP_UP
from stagewall.identity.actor import acting
from stagewall.identity.tokens import issued_at
from stagewall.server._state import ServerState
from stagewall.web._render import CSP, Viewer, factor, render, viewer

FRESH_SIGN_IN = timedelta(minutes=10)
"""A browser session this young was just signed in (both factors, or the IdP): its
person confirms a terminal without another factor; an older one steps up first."""


def _csp_for(redirect_uri: str) -> str:
    """The page's CSP, letting its form's answer redirect to the terminal's listener."""
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    return CSP.replace("form-action 'self'", f"form-action 'self' {origin}")


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store

    def fresh(who: Viewer) -> bool:
        at = issued_at(store, who.actor.session_id)
        return at is not None and state.now() - at <= FRESH_SIGN_IN

    def checked(redirect_uri: str, code_challenge: str, method: str, login_state: str) -> str:
        handoff.check_challenge(code_challenge, method)
        if not 16 <= len(login_state) <= 256:
            raise UsageError("state must be 16 to 256 characters, chosen by the terminal")
        return handoff.loopback_redirect(redirect_uri)

    @r.get("/cli/login", name="web.cli.login.page", response_class=HTMLResponse)
    def login_page(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.cli.login.page"))],
        redirect_uri: str = "",
        code_challenge: str = "",
        code_challenge_method: str = "",
    ) -> HTMLResponse:
        login_state = request.query_params.get("state", "")
        uri = checked(redirect_uri, code_challenge, code_challenge_method, login_state)
        resp = render(
            request,
            "cli_login.html",
            who=who,
            listener=urlsplit(uri).netloc,
            redirect_uri=uri,
            login_state=login_state,
            code_challenge=code_challenge,
            fresh=fresh(who),
        )
        resp.headers["content-security-policy"] = _csp_for(uri)
        return resp

    @r.post("/cli/login", name="web.cli.login")
    def login_confirm(
        who: Annotated[Viewer, Depends(viewer(state, "web.cli.login"))],
        redirect_uri: Annotated[str, Form(max_length=256)],
        login_state: Annotated[str, Form(alias="state", max_length=256)],
        code_challenge: Annotated[str, Form(max_length=128)],
        code_challenge_method: Annotated[str, Form(max_length=8)] = "S256",
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=16384)] = "",
    ) -> Response:
        uri = checked(redirect_uri, code_challenge, code_challenge_method, login_state)
        now = state.now()
        actor = who.actor
        with acting(actor):
            if not fresh(who):
                # Minting a token is a privileged act: an old session steps up first.
                code_, assertion = factor(otp, webauthn)
                state.ctx.step_up(actor.principal, code_, assertion, purpose="sign in a terminal")
            code = handoff.approve_login(
                store,
                actor.principal,
                actor.method,
                challenge=code_challenge,
                redirect_uri=uri,
                now=now,
            )
            state.ctx.record(
                BROWSER_LOGIN_APPROVED.code,
                actor.principal,
                f"{actor.principal} signed in a terminal from the browser ({actor.method.value})",
                resource=f"principal:{actor.principal}",
                details={"method": actor.method.value, "listener": urlsplit(uri).netloc},
            )
        target = uri + "?" + urlencode({"code": code, "state": login_state})
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})

    def step_up_page(request: Request, who: Viewer, secret: str, done: str = "") -> HTMLResponse:
        return render(
            request,
            "cli_step_up.html",
            who=who,
            request_secret=secret,
            window=state.settings.step_up_window_seconds,
            done=done,
        )

    @r.get("/cli/step-up", name="web.cli.step_up.page", response_class=HTMLResponse)
    def step_up_form(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.cli.step_up.page"))],
    ) -> HTMLResponse:
        secret = request.query_params.get("request", "")[:128]
        with acting(who.actor):
            handoff.pending_step_up(store, secret, who.principal, now=state.now())
        return step_up_page(request, who, secret)

    @r.post("/cli/step-up", name="web.cli.step_up", response_class=HTMLResponse)
    def step_up_confirm(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.cli.step_up"))],
        secret: Annotated[str, Form(alias="request", max_length=128)],
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=16384)] = "",
    ) -> HTMLResponse:
        now = state.now()
        actor = who.actor
        with acting(actor):
            pending = handoff.pending_step_up(store, secret, actor.principal, now=now)
            code, assertion = factor(otp, webauthn)
            if not code and assertion is None:
                raise UsageError("confirm with your passkey (or a one-time code)")
            stepup.window_seconds(state.settings)  # refused before the factor is spent
            # The one step-up check, here in the browser's session (whose passkey
            # challenge this is); then the terminal's session gets the ordinary window.
            step = state.ctx.step_up(actor.principal, code, assertion, purpose="step up a terminal")
            handoff.confirm_step_up(store, secret, now=now)
            until = stepup.open_window_on(
                store,
                actor.principal,
                pending.session_id,
                step,
                now=now,
                settings=state.settings,
                how=" confirmed in a browser",
            )
            state.ctx.record(
                BROWSER_STEP_UP.code,
                actor.principal,
                f"{actor.principal} stepped up terminal session {pending.session_id} from the "
                f"browser with {step.factor}",
                resource=f"principal:{actor.principal}",
                details={
                    "session": pending.session_id,
                    "factor": step.factor,
                    "expires_at": fmt(until),
                },
            )
        return step_up_page(
            request, who, "", done=f"Step-up confirmed: the terminal may act until {fmt(until)}."
        )


__all__ = ["register"]
