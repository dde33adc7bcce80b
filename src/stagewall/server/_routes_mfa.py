"""Routes of passkeys (WebAuthn) and the step-up window.

A principal registers passkeys for itself only: no route takes a principal name,
the server uses the authenticated actor. Registering a factor while one already
exists (TOTP or a passkey) needs step-up with an existing factor first, so a stolen
session alone cannot add an attacker's authenticator. Challenges are bound to the
session or token that asked for them.
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations,
# which use the local ``state`` inside Depends(guard(state, ...)).

import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from stagewall.identity import passkeys, stepup
from stagewall.identity._codes import fmt
from stagewall.identity.actor import Actor, acting
from stagewall.server._auth import guard
from stagewall.server._device_decision import Decision, decide, fresh_factor, has_factor
from stagewall.server._state import ServerState
from stagewall.server._stepup import OTP_DESCRIPTION, WEBAUTHN_DESCRIPTION, Privileged


class RegistrationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: dict[str, Any] = Field(
        description="The RegistrationResponseJSON from navigator.credentials.create()."
    )
    name: str = Field(min_length=1, max_length=64, description="A label such as 'YubiKey 5'.")


class StepUpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    otp: str | None = Field(default=None, max_length=16, description=OTP_DESCRIPTION)
    webauthn: dict[str, Any] | None = Field(default=None, description=WEBAUTHN_DESCRIPTION)


class DeviceApproveBody(Privileged):
    user_code: str = Field(min_length=1, max_length=32, description="The code the terminal shows.")


class PasskeyOut(BaseModel):
    id: str
    name: str
    created_at: str
    last_used_at: str | None
    sign_count: int
    aaguid: str
    backed_up: bool
    suspended_at: str | None = None


class StepUpOut(BaseModel):
    principal: str
    factor: str
    verified_at: str
    expires_at: str
    window_seconds: int


def _options(text: str) -> JSONResponse:
    return JSONResponse(json.loads(text), headers={"Cache-Control": "no-store"})


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store

    @r.post(
        "/api/v1/mfa/webauthn/registration/options",
        name="mfa.webauthn.registration.options",
        summary="PublicKeyCredentialCreationOptions for registering a passkey for yourself",
    )
    def registration_options(
        body: Privileged,
        actor: Annotated[Actor, Depends(guard(state, "mfa.webauthn.registration.options"))],
    ) -> JSONResponse:
        now = state.now()
        with acting(actor):
            passkeys.relying_party(state.settings)
            if any(has_factor(state, actor.principal)):
                # a factor sent now, never an open window: a session held by someone
                # else for those 120 s must not gain a way to step up for good
                fresh_factor(state, actor, body.otp, body.webauthn, act="register a passkey")
            text = passkeys.registration_options(
                store, state.settings, actor.principal, session_id=actor.session_id, now=now
            )
        return _options(text)

    @r.post(
        "/api/v1/mfa/webauthn/registration",
        name="mfa.webauthn.register",
        status_code=201,
        response_model=PasskeyOut,
    )
    def registration(
        body: RegistrationBody,
        actor: Annotated[Actor, Depends(guard(state, "mfa.webauthn.register"))],
    ) -> PasskeyOut:
        with acting(actor):
            got = passkeys.register(
                store,
                state.settings,
                actor.principal,
                body.credential,
                name=body.name,
                session_id=actor.session_id,
                now=state.now(),
            )
        return PasskeyOut(**got.__dict__)

    @r.get(
        "/api/v1/mfa/webauthn/credentials",
        name="mfa.webauthn.list",
        response_model=list[PasskeyOut],
    )
    def credentials(
        actor: Annotated[Actor, Depends(guard(state, "mfa.webauthn.list"))],
    ) -> list[PasskeyOut]:
        return [PasskeyOut(**p.__dict__) for p in passkeys.list_passkeys(store, actor.principal)]

    @r.delete(
        "/api/v1/mfa/webauthn/credentials/{passkey_id}",
        name="mfa.webauthn.remove",
        status_code=204,
    )
    def remove(
        passkey_id: str,
        actor: Annotated[Actor, Depends(guard(state, "mfa.webauthn.remove"))],
        body: Privileged | None = None,
    ) -> None:
        """Remove one of your passkeys; needs step-up; never your last second factor."""
        step = body or Privileged()
        with acting(actor):
            passkeys.remove_own(
                store,
                actor.principal,
                passkey_id,
                otp=step.otp,
                webauthn=step.webauthn,
                now=state.now(),
                settings=state.settings,
                home=state.home,
            )

    @r.post(
        "/api/v1/mfa/webauthn/assertion/options",
        name="mfa.webauthn.assertion.options",
        summary="PublicKeyCredentialRequestOptions for a step-up with one of your passkeys",
    )
    def assertion_options(
        actor: Annotated[Actor, Depends(guard(state, "mfa.webauthn.assertion.options"))],
    ) -> JSONResponse:
        with acting(actor):
            text = passkeys.assertion_options(
                store,
                state.settings,
                actor.principal,
                session_id=actor.session_id,
                now=state.now(),
            )
        return _options(text)

    @r.post("/api/v1/device/approve", name="device.approve_session", status_code=204)
    def approve_device(
        body: DeviceApproveBody,
        actor: Annotated[Actor, Depends(guard(state, "device.approve_session"))],
    ) -> None:
        """Sign a terminal (``stagewall login``) in as yourself from a logged-in session.

        The terminal receives a token of the same principal and login method. Minting a
        token is a privileged act: it needs a factor sent with this request (``otp`` or
        ``webauthn``; an open step-up window is not enough), so a stolen session or
        token cannot renew itself. The ``/device`` page does the same for a browser and
        shows who asked first; both call one decision (``_device_decision.decide``).
        """
        step = fresh_factor(state, actor, body.otp, body.webauthn)
        decide(state, actor, body.user_code, Decision.APPROVE, step=step, via="api")

    @r.post("/api/v1/step-up", name="step_up", response_model=StepUpOut)
    def step_up(
        body: StepUpBody,
        actor: Annotated[Actor, Depends(guard(state, "step_up"))],
    ) -> StepUpOut:
        """Verify a factor and open a step-up window on this session or token."""
        with acting(actor):
            factor = stepup.factor_of(body.otp, body.webauthn)
            step, until = stepup.open_window(
                store,
                actor.principal,
                factor or "",
                now=state.now(),
                settings=state.settings,
                home=state.home,
            )
        return StepUpOut(
            principal=actor.principal,
            factor=step.factor,
            verified_at=step.time,
            expires_at=fmt(until),
            window_seconds=state.settings.step_up_window_seconds,
        )
