"""The terminal's half of the CLI hand-offs (``login --browser``, ``mfa step-up --browser``).

``POST /api/v1/cli/token`` redeems the one-time code the browser handed to the
terminal's loopback listener, with the PKCE verifier, for a personal token.
``POST /api/v1/step-up/browser`` makes a step-up request bound to the calling session;
``GET /api/v1/step-up/browser/{id}`` tells that session whether it was confirmed.
The browser pages are in :mod:`stagewall.web._routes_cli`.
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from stagewall.errors import StagewallError, UsageError
from stagewall.identity import attempts, handoff
from stagewall.identity._codes import fmt
from stagewall.identity.actor import Actor, acting
from stagewall.identity.tokens import TokenKind, issue_token
from stagewall.server._auth import guard, refuse_offboarded, source_address
from stagewall.server._state import ServerState
from stagewall.web._queries import step_up_until


class CliTokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=128)
    code_verifier: str = Field(min_length=43, max_length=128)
    redirect_uri: str = Field(min_length=1, max_length=256)


class CliTokenOut(BaseModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name
    expires_at: str
    principal: str
    method: str


class StepUpRequestOut(BaseModel):
    request: str
    path: str
    url: str
    expires_at: str


class StepUpStateOut(BaseModel):
    request: str
    status: str
    window_until: str | None = None


def register(r: FastAPI, state: ServerState) -> None:
    store = state.ctx.store

    @r.post("/api/v1/cli/token", name="cli.token", response_model=CliTokenOut)
    def cli_token(body: CliTokenBody, request: Request) -> CliTokenOut:
        """Redeem the one-time code of ``stagewall login --browser`` (with its PKCE verifier)."""
        now = state.now()
        source = source_address(request, state)
        key = f"{attempts.address_key(source)}:cli-token"
        with attempts.attempt(store, key, now=now, reserve=False) as slots:
            try:
                principal, method = handoff.redeem_login(
                    store, body.code, body.code_verifier, body.redirect_uri, now=now
                )
            except StagewallError:
                slots.failed()
                raise
        # A browser sign-in approved before an offboarding mints nothing after it.
        refuse_offboarded(state, principal)
        new = issue_token(
            store,
            principal,
            kind=TokenKind.API,
            method=method,
            now=now,
            ttl=state.settings.token_ttl,
            source_address=source,
            user_agent=request.headers.get("user-agent"),
        )
        return CliTokenOut(
            token=new.secret,
            expires_at=fmt(new.info.expires_at),
            principal=principal,
            method=method.value,
        )

    @r.post("/api/v1/step-up/browser", name="step_up.browser", response_model=StepUpRequestOut)
    def step_up_request(
        actor: Annotated[Actor, Depends(guard(state, "step_up.browser"))],
    ) -> StepUpRequestOut:
        """A step-up request for this session, to confirm with a passkey in a browser."""
        with acting(actor):
            req = handoff.request_step_up(store, actor.principal, actor.session_id, now=state.now())
        path = "/cli/step-up?request=" + quote(req.secret, safe="")
        return StepUpRequestOut(
            request=req.id,
            path=path,
            url=state.settings.public_url.rstrip("/") + path,
            expires_at=fmt(req.expires_at),
        )

    @r.get(
        "/api/v1/step-up/browser/{request_id}",
        name="step_up.browser.status",
        response_model=StepUpStateOut,
    )
    def step_up_status(
        request_id: str,
        actor: Annotated[Actor, Depends(guard(state, "step_up.browser.status"))],
    ) -> StepUpStateOut:
        """``pending``, ``confirmed`` (with the window's end) or ``expired``; only for the
        session that made the request."""
        now = state.now()
        got = handoff.step_up_state(store, request_id[:32], actor.session_id, now=now)
        if got is None:
            raise UsageError(f"this session made no step-up request {request_id[:32]!r}")
        until = step_up_until(store, actor.session_id, fmt(now)) if got == "confirmed" else None
        return StepUpStateOut(request=request_id[:32], status=got, window_until=until)


__all__ = ["register"]
