"""Authenticating a request and applying the authorization table.

Identity comes only from a bearer token (``Authorization: Bearer swt_...``; a
pipeline's ``swp_``/``swc_`` token or its CI OIDC ID token) or a
browser session cookie; for a cookie, every state-changing request must also
carry the session's CSRF token (``X-CSRF-Token`` header or ``csrf`` form field).
Nothing a client sends names the actor.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from stagewall.alerts import Alert, Severity
from stagewall.audit import AuditEvent, Status
from stagewall.errors import AccessDenied, NotAuthenticated
from stagewall.estate.models import PrincipalKind
from stagewall.identity._codes import same
from stagewall.identity._events import LOGIN
from stagewall.identity._seal import RowReport
from stagewall.identity.actor import Actor, ActorClass, acting
from stagewall.identity.ci_oidc import binding_problem
from stagewall.identity.ci_uses import session_workload
from stagewall.identity.tokens import (
    SERVICE_KINDS,
    TokenKind,
    log_out,
    resolve_token,
    revoke_token,
)
from stagewall.server._events import REQUEST_REFUSED
from stagewall.server._pipeline import authenticate_ci, looks_like_jwt, workload_of
from stagewall.server._state import ServerState
from stagewall.server._token_rows import row_reporter
from stagewall.server.authz import POLICY, allowed, classes_for

SESSION_COOKIE = "stagewall_session"
HOST_SESSION_COOKIE = "__Host-" + SESSION_COOKIE
CSRF_HEADER = "x-csrf-token"
_SAFE = {"GET", "HEAD", "OPTIONS"}
# What a first-factor-only (enrolment) token may do.
_ENROL_ROUTES = {"mfa.enroll", "whoami", "session.delete"}


def source_address(request: Request, state: ServerState) -> str | None:
    """The client address; X-Forwarded-For only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else None
    trusted = state.settings.trusted_proxies
    if peer and trusted and _in(peer, trusted):
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _in(hop, trusted):
                return hop[:64]
    return peer


def _in(addr: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for net in networks:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


def refuse_offboarded(state: ServerState, principal: str) -> None:
    """NotAuthenticated when ``principal`` belongs to a vendor that was offboarded, whose
    contract has not started or has ended, or that the estate no longer declares.

    Asked on every request of a vendor's principal (internal people have no vendor and
    cost nothing): a login minted before, during or behind the back of the offboarding
    stays dead, on every instance sharing the store; a contract that ended without
    anyone offboarding the vendor ends its people's logins too (fail closed)."""
    p = state.estate.principals.get(principal)
    if p is None or p.vendor is None:
        return
    vendor = state.estate.vendors.get(p.vendor)
    today = state.now().date()
    if vendor is None or not vendor.contract_start <= today <= vendor.contract_end:
        window = (
            "is not declared in the estate"
            if vendor is None
            else f"has a contract from {vendor.contract_start} to {vendor.contract_end}"
        )
        raise NotAuthenticated(
            f"vendor {p.vendor!r} of {principal!r} {window}, which does not cover today "
            f"({today}); its people and pipelines can sign in only while it runs",
            hint="if the contract was renewed, an internal administrator updates the "
            "vendor's contract_end in stagewall.yaml",
        )
    with state.ctx.store.read() as conn:
        gone = p.vendor in state.ctx.offboarded(conn)
    if gone:
        raise NotAuthenticated(
            f"vendor {p.vendor!r} of {principal!r} has been offboarded; its people and "
            "pipelines can no longer sign in",
            hint="ask an internal administrator if this is wrong",
        )


def login_alert(state: ServerState) -> Callable[[str, str], None]:
    """The alert a local login raises when a principal's second-factor failures are
    spent (wrong codes after the right password: someone may hold the password)."""

    def send(title: str, text: str) -> None:
        state.ctx.alert(
            Alert(
                kind="identity.login.factor_spent",
                title=title,
                text=text,
                severity=Severity.CRITICAL,
            )
        )

    return send


def https(state: ServerState) -> bool:
    """Whether people reach this server over https (its ``public_url``, whose scheme the
    estate's validation has checked and put in lower case): the one place that decides
    Secure and ``__Host-`` cookies and HSTS, asked per request (stagewall.yaml reloads)."""
    return state.settings.public_url.startswith("https://")


def session_cookie(state: ServerState) -> str:
    """The browser session cookie's name: ``__Host-stagewall_session`` over https.

    Browsers accept a ``__Host-`` cookie only from this very host (Secure, Path=/, no
    Domain), so a sibling subdomain cannot plant its own session in a person's browser
    (cookie tossing); the server reads no other name. Plain http (loopback,
    development) cannot have the prefix and keeps ``stagewall_session``."""
    return HOST_SESSION_COOKIE if https(state) else SESSION_COOKIE


def set_session_cookie(response: Response, state: ServerState, secret: str, max_age: int) -> None:
    """Set the browser session cookie: HttpOnly, SameSite=Strict, Path=/, Secure over https."""
    _set_host_cookie(response, state, session_cookie(state), secret, max_age, httponly=True)


CSRF_COOKIE = "stagewall_csrf"


def csrf_cookie(state: ServerState) -> str:
    """The name of the script-readable cookie holding an OIDC session's CSRF token:
    ``__Host-stagewall_csrf`` over https (no sibling subdomain can set or shadow it),
    ``stagewall_csrf`` over plain http."""
    return "__Host-" + CSRF_COOKIE if https(state) else CSRF_COOKIE


def set_csrf_cookie(response: Response, state: ServerState, token: str, max_age: int) -> None:
    """The session's CSRF token for the page's script (not HttpOnly), sent back as
    ``X-CSRF-Token``; the server compares it with the session's own."""
    _set_host_cookie(response, state, csrf_cookie(state), token, max_age, httponly=False)


def _set_host_cookie(
    response: Response, state: ServerState, name: str, value: str, max_age: int, *, httponly: bool
) -> None:
    """A session's cookie: SameSite=Strict, Path=/, no Domain, Secure over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=httponly,
        secure=https(state),
        samesite="strict",
    )


def clear_session_cookie(response: Response, state: ServerState) -> None:
    """Remove the session cookie and the session's script-readable CSRF cookie."""
    for name, httponly in ((session_cookie(state), True), (csrf_cookie(state), False)):
        response.delete_cookie(
            name, path="/", httponly=httponly, secure=https(state), samesite="strict"
        )


def request_reporter(request: Request, state: ServerState, secret: str) -> RowReport:
    """:func:`row_reporter` for a request that presents ``secret`` (a token, a link):
    records and alerts a store row refused while serving it, with where it came from."""
    return row_reporter(
        state,
        source=source_address(request, state),
        user_agent=request.headers.get("user-agent"),
        secret=secret,
    )


def end_browser_session(request: Request, state: ServerState) -> None:
    """Revoke, in the store, the live session whose cookie ``request`` presents: called on
    every successful sign-in (local, OIDC, invitation) before the new session is issued,
    so the browser's previous session (perhaps another person's, or one an attacker
    fixed) does not outlive it. Recorded as that session's ``identity.logout``."""
    secret = request.cookies.get(session_cookie(state), "")
    if not secret:
        return
    report = request_reporter(request, state, secret)
    try:
        info = resolve_token(state.ctx.store, secret, now=state.now(), report=report)
    except NotAuthenticated:  # a refused row (SW973-SW975, SW867, SW868): no session to end
        return
    if info is None or info.kind in SERVICE_KINDS:
        return
    log_out(
        state.ctx.store,
        info.principal,
        info.id,
        now=state.now(),
        how="was signed out: the browser signed in again",
    )


def _is_service(state: ServerState, principal: str) -> bool:
    """Whether ``principal`` is a declared service principal (a pipeline, not a person);
    asked of the estate, not of the classes (an auditor's only class is auditor)."""
    p = state.estate.principals.get(principal)
    return p is not None and p.kind is PrincipalKind.SERVICE


def authenticate(
    request: Request, state: ServerState, route: str, *, form_csrf: str | None = None
) -> Actor:
    """The actor of ``request``; ``form_csrf`` is the ``csrf`` field of a posted form."""
    state.refresh()
    header = request.headers.get("authorization", "")
    via_cookie = False
    if header[:7].lower() == "bearer ":
        secret = header[7:].strip()
    else:
        secret = request.cookies.get(session_cookie(state), "")
        via_cookie = bool(secret)
    if not secret:
        raise NotAuthenticated("this request needs a login (no token was sent)")
    if not via_cookie and looks_like_jwt(secret):
        actor, burnt = authenticate_ci(
            state,
            secret,
            source=source_address(request, state),
            user_agent=request.headers.get("user-agent"),
        )
        if not actor.classes or not _is_service(state, actor.principal):
            raise NotAuthenticated(f"{actor.principal!r} is no longer an enabled service principal")
        refuse_offboarded(state, actor.principal)
        request.state.ci_burnt = burnt  # POST /api/v1/ci/session exchanges it
        return actor
    report = row_reporter(
        state,
        source=source_address(request, state),
        user_agent=request.headers.get("user-agent"),
        secret=secret,
    )
    info = resolve_token(state.ctx.store, secret, now=state.now(), report=report)
    if info is None:
        raise NotAuthenticated("the login token is unknown, expired or revoked")
    if via_cookie and info.kind in SERVICE_KINDS:
        raise NotAuthenticated("a pipeline token is a bearer token, never a cookie")
    if via_cookie and request.method not in _SAFE:
        sent = request.headers.get(CSRF_HEADER, "") or form_csrf or ""
        if not sent or not same(sent, info.csrf):
            raise AccessDenied(
                "the CSRF token is missing or wrong for this session",
                hint="reload the page; scripts should use a bearer token instead of a cookie",
            )
    classes = classes_for(state.estate, info.principal)
    if not classes:
        raise NotAuthenticated(
            f"{info.principal!r} is no longer a declared, enabled principal",
            hint="ask an admin; the login was refused",
        )
    refuse_offboarded(state, info.principal)
    # Service principals act only through CI OIDC or their pipeline token; a pipeline
    # token acts only for a service principal.
    if _is_service(state, info.principal) != (info.kind in SERVICE_KINDS):
        raise NotAuthenticated(
            f"this token of {info.principal!r} does not fit its kind of principal",
            hint="pipelines use CI OIDC or `stagewall server pipeline-token create`; "
            "people use `stagewall login`",
        )
    if info.kind is TokenKind.ENROL and route not in _ENROL_ROUTES:
        raise AccessDenied(
            "this login has no second factor yet; enrol one first (stagewall mfa enroll)",
        )
    workload: tuple[tuple[str, str], ...] = ()
    if info.kind is TokenKind.CI:  # a CI job session: its acts carry the job's claims
        seen = session_workload(state.ctx.store, info.id)
        _refuse_unbound_session(state, info.principal, info.id, seen)
        workload = workload_of(seen)
    return Actor(
        principal=info.principal,
        classes=classes,
        method=info.method,
        session_id=info.id,
        source_address=source_address(request, state),
        user_agent=request.headers.get("user-agent"),
        workload=workload,
        row_report=report,  # a step-up window row it did not seal is reported (SW869)
    )


def _refuse_unbound_session(
    state: ServerState, principal: str, session_id: str, seen: dict[str, Any]
) -> None:
    """End a CI job session whose ci binding no longer admits it (removed, narrowed, its
    issuer undeclared): checked on every use, so an estate change takes effect at once
    rather than when the session expires. The session is revoked and the refusal
    audited; re-adding the binding does not revive it (the job exchanges a new token)."""
    why = binding_problem(state.estate, principal, seen)
    if why is None:
        return
    now = state.now()
    if revoke_token(state.ctx.store, session_id, now=now, by=principal):
        state.ctx.audit.append(
            AuditEvent(
                LOGIN.code,
                Status.FAILURE,
                principal,
                f"CI job session {session_id} of {principal} ended: {why}",
                resource="pipeline",
                details={"session": session_id, "reason": why, "claims": seen},
            )
        )
    raise NotAuthenticated(
        f"this CI job session no longer stands: {why}",
        hint="the job must present a CI token that a ci binding in stagewall.yaml admits",
    )


def authorize(state: ServerState, route: str, actor: Actor) -> Actor:
    """``actor`` if the table row of ``route`` admits its classes; refused and audited if not."""
    if not allowed(route, actor.classes):
        have = ", ".join(sorted(c.value for c in actor.classes))
        with acting(actor):
            raise state.ctx.refuse(
                REQUEST_REFUSED.code,
                actor.principal,
                f"{actor.principal!r} ({have}) may not call {route}",
                resource=f"route:{route}",
                details={"route": route, "classes": sorted(c.value for c in actor.classes)},
                hint="the server's authorization table decides who may do what",
            )
    return actor


def needs_row(route: str) -> None:
    if route not in POLICY or POLICY[route] is None:
        raise RuntimeError(f"route {route!r} needs an authenticated row in server.authz.POLICY")


def guard(state: ServerState, route: str) -> Callable[[Request], Actor]:
    """A FastAPI dependency: authenticate and check the table row of ``route``."""
    needs_row(route)

    def dependency(request: Request) -> Actor:
        return authorize(state, route, authenticate(request, state, route))

    return dependency


__all__ = [
    "HOST_SESSION_COOKIE",
    "SESSION_COOKIE",
    "ActorClass",
    "authenticate",
    "authorize",
    "clear_session_cookie",
    "csrf_cookie",
    "end_browser_session",
    "guard",
    "login_alert",
    "needs_row",
    "refuse_offboarded",
    "request_reporter",
    "session_cookie",
    "set_csrf_cookie",
    "set_session_cookie",
    "source_address",
]
