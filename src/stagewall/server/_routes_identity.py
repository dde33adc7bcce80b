"""Routes of logging in and out, invitations, device login (RFC 8628) and factors."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations,
# which use the local ``state`` inside Depends(guard(state, ...)).

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from stagewall import mfa
from stagewall.alerts import Alert, Severity
from stagewall.errors import (
    AccessDenied,
    CodeFromBeforeUpgrade,
    CodeRowAltered,
    CodeRowForged,
    UsageError,
)
from stagewall.identity import accounts, attempts, device, passkeys, stepup
from stagewall.identity._codes import fmt
from stagewall.identity.actor import Actor, LoginMethod, StepUp, acting
from stagewall.identity.login import password_login
from stagewall.identity.tokens import ENROL_TTL, TokenKind, issue_token, log_out
from stagewall.server import _device_page
from stagewall.server._auth import (
    authorize,
    clear_session_cookie,
    end_browser_session,
    guard,
    https,
    login_alert,
    refuse_offboarded,
    request_reporter,
    set_session_cookie,
    source_address,
)
from stagewall.server._device_decision import Decision, decide, fresh_factor
from stagewall.server._state import ServerState
from stagewall.server._stepup import Privileged
from stagewall.server.authz import classes_for
from stagewall.web import _routes_device
from stagewall.web._render import form_csrf_ok, signed_in


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
            alert=login_alert(state),
        )
        if body.browser and kind is TokenKind.API:
            kind = TokenKind.BROWSER
            end_browser_session(request, state)
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
    def delete_session(
        actor: Annotated[Actor, Depends(guard(state, "session.delete"))], response: Response
    ) -> None:
        with acting(actor):
            log_out(store, actor.principal, actor.session_id, now=state.now())
        clear_session_cookie(response, state)  # a browser's cookies (a bearer has none)

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
            # a factor sent now, never an open window: a session held by someone else
            # for those 120 s must not make a new identity whose first factor it sets
            fresh_factor(state, actor, body.otp, body.webauthn, act=f"invite {body.principal}")
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
    def accept(request: Request, body: AcceptBody) -> AcceptOut:
        got = accounts.accept_invitation(
            store,
            state.estate,
            body.token,
            body.password,
            now=state.now(),
            home=str(state.home),
            refuse=lambda who: refuse_offboarded(state, who),
            report=request_reporter(request, state, body.token),
        )
        state.ctx.alert(got.alert())
        return AcceptOut(
            principal=got.principal, totp_secret=got.totp_secret, totp_uri=got.totp_uri
        )

    @r.post("/api/v1/invitations/confirm", name="invitation.confirm", response_model=WhoAmI)
    def confirm(request: Request, body: ConfirmBody) -> WhoAmI:
        who = accounts.confirm_invitation(
            store,
            body.token,
            body.otp,
            now=state.now(),
            home=str(state.home),
            refuse=lambda name: refuse_offboarded(state, name),
            report=request_reporter(request, state, body.token),
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
                # A new factor while one exists: a passkey assertion sent now (a stolen
                # session, even with an open step-up window, must not add an attacker's
                # authenticator app).
                step = body or Privileged()
                fresh_factor(state, actor, None, step.webauthn, act="enrol TOTP")
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
    def device_code(
        request: Request,
        client_hostname: Annotated[str | None, Form(max_length=1024)] = None,
    ) -> DeviceCodeOut:
        now = state.now()
        address = source_address(request, state)
        state.starts.admit(address, "device codes or identity-provider logins")
        code = device.start(
            store,
            now=now,
            address=address,
            user_agent=request.headers.get("user-agent"),
            hostname=client_hostname,
        )
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
        try:
            got = device.poll(store, device_code, now=now)
        except (CodeRowForged, CodeRowAltered, CodeFromBeforeUpgrade) as exc:
            # RFC 8628 §3.5: the terminal stops polling on expired_token; it shows why
            refused = {"error": "expired_token", "error_description": exc.message}
            return JSONResponse({**refused, "code": exc.code}, status_code=400)
        if got.result is not device.PollResult.APPROVED or got.principal is None:
            return JSONResponse({"error": got.result.value}, status_code=400)
        # Approved before an offboarding (or the end of the contract), redeemed after: no
        # token is minted for it (the code is spent either way).
        refuse_offboarded(state, got.principal)
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

    _UNKNOWN = "This code is unknown, used or expired: run `stagewall login` again."

    def lookup(user_code: str, source: str | None, now: datetime) -> device.Requester | None:
        """The waiting code's requester. Codes looked up from one address are rate-limited
        like logins (a wrong guess keeps its slot), on the GET and on the form's POST, so
        nobody pages through the codes and their requesters."""
        key = f"{attempts.address_key(source)}:device-code"
        with attempts.attempt(store, key, now=now) as slots:
            who = device.pending(store, user_code[:32], now=now)
            if who is None:
                slots.failed()
        return who

    def signed_out_page(
        request: Request, who: device.Requester, message: str = "", status: int = 200
    ) -> HTMLResponse:
        back = "/device?" + urlencode({"user_code": who.user_code})
        oidc = None
        if state.settings.oidc is not None:
            oidc = str(request.app.url_path_for("oidc.login")) + "?" + urlencode({"next": back})
        return _device_page.confirm_page(
            who,
            now=state.now(),
            viewer_address=source_address(request, state),
            message=message,
            status=status,
            secure=https(state),
            sign_in="/login?" + urlencode({"next": back}),
            oidc_sign_in=oidc,
        )

    @r.get("/device", name="device.page", response_class=HTMLResponse)
    def device_page(request: Request, user_code: str = "") -> HTMLResponse:
        """Enter a code, or (with one, e.g. from the link) see who asked: nothing is decided.

        Signed in (a browser session, any login method), the page names the person and
        offers their own step-up; signed out, ways to sign in and the local-account form."""
        if not user_code:
            return _device_page.entry_page("")
        state.refresh()  # the sign-in choices follow stagewall.yaml as it is now
        now = state.now()
        who = lookup(user_code, source_address(request, state), now)
        if who is None:
            return _device_page.entry_page(user_code[:32], _UNKNOWN, 400)
        person = signed_in(state, request, _routes_device.ROUTE)
        if person is not None:
            return _routes_device.page(request, state, person, who, now=now)
        return signed_out_page(request, who)

    @r.post("/device", name="device.approve", response_class=HTMLResponse)
    def device_approve(
        request: Request,
        user_code: Annotated[str, Form(max_length=32)],
        csrf: Annotated[str, Form(max_length=128)],
        decision: Annotated[Literal["approve", "deny"], Form()],
        principal: Annotated[str, Form(max_length=128)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        otp: Annotated[str, Form(max_length=16)] = "",
    ) -> HTMLResponse:
        """Approve or deny with a local account's principal, password and one-time code
        (both decisions need them: holding a code is no right to void it)."""
        if not form_csrf_ok(request, _device_page.FORM_CSRF_COOKIE, csrf, secure=https(state)):
            raise AccessDenied("the form's CSRF token is missing or wrong; reload the page")
        now = state.now()
        source = source_address(request, state)
        who = lookup(user_code, source, now)
        if who is None:
            return _device_page.entry_page(user_code, _UNKNOWN, 400)
        if not (principal and password and otp):
            return signed_out_page(
                request,
                who,
                f"Give your principal, password and one-time code to {decision}, or sign in.",
                400,
            )
        kind = password_login(
            store,
            state.estate,
            principal,
            password,
            otp,
            now=now,
            source=source,
            home=state.home,
            refuse=lambda name: refuse_offboarded(state, name),
            alert=login_alert(state),
        )
        if kind is not TokenKind.API:
            return _device_page.entry_page(user_code, "Enrol a second factor first.", 403)
        # The password and the code were checked just now, for this decision.
        actor = authorize(
            state,
            _routes_device.ROUTE,
            Actor(
                principal=principal,
                classes=classes_for(state.estate, principal),
                method=LoginMethod.LOCAL,
                session_id="",
                source_address=source,
                user_agent=request.headers.get("user-agent"),
            ),
        )
        step = StepUp(stepup.TOTP, now) if decision == "approve" else None
        try:
            decide(state, actor, user_code, Decision(decision), step=step, via="page")
        except UsageError:
            return _device_page.entry_page(user_code, _UNKNOWN, 400)
        return _device_page.decided_page(decision)
