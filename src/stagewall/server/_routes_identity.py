"""Routes of logging in and out, invitations, device login (RFC 8628) and factors."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations,
# which use the local ``state`` inside Depends(guard(state, ...)).

import html
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from stagewall import mfa
from stagewall.alerts import Alert, Severity
from stagewall.errors import AccessDenied, UsageError
from stagewall.identity import accounts, device, passkeys
from stagewall.identity._codes import fmt, same
from stagewall.identity.actor import Actor, LoginMethod, acting
from stagewall.identity.login import password_login
from stagewall.identity.tokens import ENROL_TTL, TokenKind, issue_token, log_out
from stagewall.server._auth import (
    guard,
    refuse_offboarded,
    set_session_cookie,
    source_address,
)
from stagewall.server._state import ServerState
from stagewall.server._stepup import Privileged

_FORM_CSRF_COOKIE = "stagewall_form_csrf"


class _Body(BaseModel):
    """Request bodies reject unknown fields: nothing a client adds can name an actor."""

    model_config = ConfigDict(extra="forbid")


class LoginBody(_Body):
    principal: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)
    otp: str | None = Field(default=None, max_length=16)
    browser: bool = Field(default=False, description="Also set a session cookie.")


class TokenOut(BaseModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name
    expires_at: str
    principal: str
    enrol_only: bool
    csrf: str | None = None


class WhoAmI(BaseModel):
    principal: str
    classes: list[str]
    method: str
    session: str


class InvitationBody(Privileged):
    principal: str = Field(min_length=1, max_length=128)


class InvitationOut(BaseModel):
    invitation: str
    principal: str
    token: str
    expires_at: str
    accept_url: str


class AcceptBody(_Body):
    token: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class AcceptOut(BaseModel):
    principal: str
    totp_secret: str
    totp_uri: str


class ConfirmBody(_Body):
    token: str = Field(min_length=1, max_length=256)
    otp: str = Field(min_length=1, max_length=16)


class EnrolOut(BaseModel):
    principal: str
    totp_secret: str
    totp_uri: str


class ResetBody(Privileged):
    """Your own step-up (otp, webauthn or the open window) for resetting someone else."""


class DeviceCodeOut(BaseModel):
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store

    @r.post("/api/v1/session", name="session.create", response_model=TokenOut)
    def create_session(body: LoginBody, request: Request) -> Any:
        now = state.now()
        kind = password_login(
            store,
            state.estate,
            body.principal,
            body.password,
            body.otp,
            now=now,
            source=source_address(request, state),
            home=state.home,
            refuse=lambda who: refuse_offboarded(state, who),
        )
        if body.browser and kind is TokenKind.API:
            kind = TokenKind.BROWSER
        ttl = ENROL_TTL if kind is TokenKind.ENROL else state.settings.token_ttl
        new = issue_token(
            store,
            body.principal,
            kind=kind,
            method=LoginMethod.LOCAL,
            now=now,
            ttl=ttl,
            source_address=source_address(request, state),
            user_agent=request.headers.get("user-agent"),
        )
        out = TokenOut(
            token=new.secret,
            expires_at=fmt(new.info.expires_at),
            principal=body.principal,
            enrol_only=kind is TokenKind.ENROL,
            csrf=new.info.csrf if kind is TokenKind.BROWSER else None,
        )
        resp = JSONResponse(out.model_dump())
        if kind is TokenKind.BROWSER:
            set_session_cookie(resp, state, new.secret, int(ttl.total_seconds()))
        return resp

    @r.delete("/api/v1/session", name="session.delete", status_code=204)
    def delete_session(actor: Annotated[Actor, Depends(guard(state, "session.delete"))]) -> None:
        with acting(actor):
            log_out(store, actor.principal, actor.session_id, now=state.now())

    @r.get("/api/v1/whoami", name="whoami", response_model=WhoAmI)
    def whoami(actor: Annotated[Actor, Depends(guard(state, "whoami"))]) -> WhoAmI:
        return WhoAmI(
            principal=actor.principal,
            classes=sorted(c.value for c in actor.classes),
            method=actor.method.value,
            session=actor.session_id,
        )

    @r.post("/api/v1/invitations", name="invitation.create", response_model=InvitationOut)
    def create_invitation(
        body: InvitationBody,
        actor: Annotated[Actor, Depends(guard(state, "invitation.create"))],
    ) -> InvitationOut:
        with acting(actor):
            if body.principal not in state.estate.principals:
                raise UsageError(f"principal {body.principal!r} is not declared")
            # An invitation hands its holder a new identity's first factor: an admin whose
            # own factor was just reset (and may be someone else now) creates none.
            quarantined = accounts.factor_reset_problem(store, actor.principal, state.now())
            if quarantined is not None:
                raise AccessDenied(quarantined, hint="another admin creates the invitation")
            state.ctx.step_up(
                actor.principal, body.otp, body.webauthn, purpose=f"invite {body.principal}"
            )
            inv = accounts.create_invitation(
                store, state.estate, body.principal, created_by=actor.principal, now=state.now()
            )
        return InvitationOut(
            invitation=inv.id,
            principal=inv.principal,
            token=inv.token,
            expires_at=fmt(inv.expires_at),
            accept_url=state.settings.public_url.rstrip("/") + "/api/v1/invitations/accept",
        )

    @r.post("/api/v1/invitations/accept", name="invitation.accept", response_model=AcceptOut)
    def accept(body: AcceptBody) -> AcceptOut:
        got = accounts.accept_invitation(
            store, state.estate, body.token, body.password, now=state.now(), home=str(state.home)
        )
        state.ctx.alert(got.alert())
        return AcceptOut(
            principal=got.principal, totp_secret=got.totp_secret, totp_uri=got.totp_uri
        )

    @r.post("/api/v1/invitations/confirm", name="invitation.confirm", response_model=WhoAmI)
    def confirm(body: ConfirmBody) -> WhoAmI:
        who = accounts.confirm_invitation(
            store, body.token, body.otp, now=state.now(), home=str(state.home)
        )
        return WhoAmI(principal=who, classes=[], method="local", session="")

    @r.post("/api/v1/mfa/totp", name="mfa.enroll", response_model=EnrolOut)
    def enrol(
        actor: Annotated[Actor, Depends(guard(state, "mfa.enroll"))],
        body: Privileged | None = None,
    ) -> EnrolOut:
        # Only ever for the logged-in principal itself: there is no principal parameter.
        with acting(actor):
            if passkeys.has_passkey(store, actor.principal):
                # A new factor while one exists: step up with it (a stolen session is not
                # enough to add an attacker's authenticator app).
                step = body or Privileged()
                state.ctx.step_up(actor.principal, None, step.webauthn, purpose="enrol TOTP")
            got = mfa.enroll(store, state.estate, actor.principal, home=state.home, now=state.now())
            if actor.method is LoginMethod.LOCAL:
                log_out(
                    store,
                    actor.principal,
                    actor.session_id,
                    now=state.now(),
                    how="was signed out after enrolling TOTP (sign in with the new code)",
                )
        return EnrolOut(principal=got.principal, totp_secret=got.secret, totp_uri=got.uri)

    @r.post("/api/v1/principals/{principal}/mfa/reset", name="mfa.reset", status_code=204)
    def reset(
        principal: str,
        body: ResetBody,
        actor: Annotated[Actor, Depends(guard(state, "mfa.reset"))],
    ) -> None:
        now = state.now()
        with acting(actor):
            mfa.reset(
                store,
                state.estate,
                principal,
                actor=actor.principal,
                code=body.otp,
                home=state.home,
                now=now,
                webauthn=body.webauthn,
            )
        state.ctx.alert(
            Alert(
                kind="identity.factor.reset",
                title=f"MFA factor of {principal} reset by {actor.principal}",
                text=(
                    f"{actor.principal} reset the MFA factor of {principal}. {principal} may "
                    f"approve nothing until {fmt(now + accounts.RESET_QUARANTINE)}; all of "
                    f"{principal}'s logins were revoked."
                ),
                severity=Severity.CRITICAL,
                details={"principal": principal, "reset_by": actor.principal},
            )
        )

    # -- RFC 8628 device authorization ------------------------------------

    @r.post("/api/v1/device/code", name="device.code", response_model=DeviceCodeOut)
    def device_code() -> DeviceCodeOut:
        now = state.now()
        code = device.start(store, now=now)
        base = state.settings.public_url.rstrip("/") + "/device"
        return DeviceCodeOut(
            device_code=code.device_code,
            user_code=code.user_code,
            verification_uri=base,
            verification_uri_complete=f"{base}?user_code={code.user_code}",
            expires_in=int((code.expires_at - now).total_seconds()),
            interval=device.INTERVAL_S,
        )

    @r.post("/api/v1/device/token", name="device.token")
    def device_token(
        request: Request,
        grant_type: Annotated[str, Form()],
        device_code: Annotated[str, Form(max_length=256)],
    ) -> JSONResponse:
        if grant_type != device.GRANT_TYPE:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        now = state.now()
        got = device.poll(store, device_code, now=now)
        if got.result is not device.PollResult.APPROVED or got.principal is None:
            return JSONResponse({"error": got.result.value}, status_code=400)
        new = issue_token(
            store,
            got.principal,
            kind=TokenKind.API,
            method=got.method or LoginMethod.LOCAL,
            now=now,
            ttl=state.settings.token_ttl,
            source_address=source_address(request, state),
            user_agent=request.headers.get("user-agent"),
        )
        return JSONResponse(
            {
                "access_token": new.secret,
                "token_type": "Bearer",
                "expires_in": int((new.info.expires_at - now).total_seconds()),
                "principal": got.principal,
            },
            headers={"Cache-Control": "no-store"},
        )

    @r.get("/device", name="device.page", response_class=HTMLResponse)
    def device_page(user_code: str = "") -> HTMLResponse:
        return _device_form(user_code, "")

    @r.post("/device", name="device.approve", response_class=HTMLResponse)
    def device_approve(
        request: Request,
        user_code: Annotated[str, Form(max_length=32)],
        principal: Annotated[str, Form(max_length=128)],
        password: Annotated[str, Form(max_length=1024)],
        otp: Annotated[str, Form(max_length=16)],
        csrf: Annotated[str, Form(max_length=128)],
    ) -> HTMLResponse:
        cookie = request.cookies.get(_FORM_CSRF_COOKIE, "")
        if not cookie or not same(cookie, csrf):
            raise AccessDenied("the form's CSRF token is missing or wrong; reload the page")
        now = state.now()
        if device.pending_user_code(store, user_code, now=now) is None:
            return _device_form(user_code, "This code is unknown, used or expired.", 400)
        kind = password_login(
            store,
            state.estate,
            principal,
            password,
            otp,
            now=now,
            source=source_address(request, state),
            home=state.home,
        )
        if kind is not TokenKind.API:
            return _device_form(user_code, "Enrol a second factor first.", 403)
        refuse_offboarded(state, principal)
        if not device.approve(store, user_code, principal, LoginMethod.LOCAL, now=now):
            return _device_form(user_code, "This code is unknown, used or expired.", 400)
        return HTMLResponse(
            "<!doctype html><title>stagewall</title><main><h1>Signed in</h1>"
            "<p>You can close this page and return to the terminal.</p></main>"
        )


def _device_form(user_code: str, message: str, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    msg = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    body = f"""<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stagewall: sign in a terminal</title>
<main><h1>Sign in a terminal</h1>{msg}
<form method="post" action="/device">
<input type="hidden" name="csrf" value="{token}">
<p><label for="user_code">Code shown in the terminal</label>
<input id="user_code" name="user_code" value="{html.escape(user_code)}" required></p>
<p><label for="principal">Principal</label>
<input id="principal" name="principal" autocomplete="username" required></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><label for="otp">One-time code</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required></p>
<p><button type="submit">Approve this terminal</button></p>
</form></main></html>"""
    resp = HTMLResponse(body, status_code=status)
    resp.set_cookie(
        _FORM_CSRF_COOKIE,
        token,
        max_age=int(timedelta(minutes=15).total_seconds()),
        httponly=True,
        samesite="strict",
    )
    return resp
