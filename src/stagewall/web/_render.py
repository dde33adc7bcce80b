"""What every page shares: templates, the signed-in viewer, CSRF, errors, security headers."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stagewall.errors import NotAuthenticated, StagewallError, UsageError
from stagewall.identity._codes import same
from stagewall.identity.actor import Actor, ActorClass
from stagewall.identity.tokens import resolve_token
from stagewall.server._auth import authenticate, authorize, needs_row, session_cookie
from stagewall.server._problems import status_for
from stagewall.server._state import ServerState
from stagewall.server.authz import allowed

HERE = Path(__file__).parent
STATIC = HERE / "static"
_SAFE = {"GET", "HEAD", "OPTIONS"}
LOGIN_CSRF_COOKIE = "stagewall_login_csrf"
INVITE_CSRF_COOKIE = "stagewall_invite_csrf"

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


HSTS = "max-age=31536000"
"""Sent when the server's ``public_url`` is https: browsers then never use plain HTTP
(where a downgrading attacker would see the session cookie) for a year."""


class SecurityHeaders:
    """Pure ASGI middleware: every response gets the headers a route did not set itself.

    Every response but the static files is ``Cache-Control: no-store``: API bodies carry
    production passwords, login tokens, TOTP secrets and invitation tokens (RFC 6749
    5.1), and reads of the log or of grants belong in no shared cache either. With
    ``https`` (a callable: the server's ``public_url`` is https now) the response also
    carries ``Strict-Transport-Security``."""

    def __init__(self, app: ASGIApp, https: Callable[[], bool] | None = None) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")
        https = self.https is not None and self.https()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # An error is never cached, not even a static file's 404.
                cacheable = static and int(message.get("status", 500)) < 400
                secure_headers(headers, cacheable=cacheable, https=https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secure_headers(headers: MutableHeaders, *, cacheable: bool, https: bool) -> None:
    """Add the security headers (and ``no-store`` unless ``cacheable``, HSTS over https)
    that ``headers`` does not set itself. The middleware calls it for every response;
    the handler of an unhandled exception, whose 500 leaves from outside every
    middleware, calls it too."""
    for key, value in HEADERS.items():
        if key not in headers:
            headers[key] = value
    if not cacheable and "cache-control" not in headers:
        headers["cache-control"] = "no-store"
    if https and "strict-transport-security" not in headers:
        headers["strict-transport-security"] = HSTS


_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _until(value: datetime, now: datetime) -> str:
    left = value - now
    if left <= timedelta(0):
        return "ended"
    minutes = int(left.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _when(value: object) -> str:
    """A stored UTC time, readable: ``2026-12-05 06:07 UTC``."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    text = str(value or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 and text[10] == "T" else text


_env.filters["until"] = _until
_env.filters["when"] = _when


PASSKEY_ROUTE = "mfa.webauthn.assertion.options"
MAX_ASSERTION = 16384


def passkeys_on(request: Request) -> bool:
    """Passkey buttons appear when the server has the routes and a relying party."""
    state = getattr(request.app.state, "stagewall", None)
    return (
        state is not None
        and state.settings.webauthn is not None
        and has_route(request.app, PASSKEY_ROUTE)
    )


def factor(otp: str, webauthn: str) -> tuple[str | None, dict[str, Any] | None]:
    """A form's step-up: its one-time code, or its passkey assertion (JSON), or neither."""
    code = otp.strip() or None
    if not webauthn.strip():
        return code, None
    if len(webauthn) > MAX_ASSERTION:
        raise UsageError("the passkey answer is too large")
    try:
        got = json.loads(webauthn)
    except ValueError:
        raise UsageError("the passkey answer is not JSON; try again") from None
    if not isinstance(got, dict):
        raise UsageError("the passkey answer must be a JSON object")
    return code, got


def wanted_duration(text: str) -> timedelta:
    """A duration typed into a form (30m, 2h, 1d); a clear error otherwise."""
    from stagewall.estate import parse_duration

    try:
        return parse_duration(text)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"duration {text!r}: {exc}", hint="write it as 30m, 2h or 1d") from None


def has_route(app: Any, name: str) -> bool:
    """Whether this server has the route ``name`` (passkeys, OIDC are optional features)."""
    try:
        app.url_path_for(name)
    except Exception:  # starlette's NoMatchFound: the feature is not there
        return False
    return True


class LoginRequired(Exception):
    """No (valid) browser session: the page answers with a redirect to the sign-in form."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page, and their session's CSRF token."""

    actor: Actor
    csrf: str

    @property
    def principal(self) -> str:
        return self.actor.principal

    def has(self, cls: ActorClass) -> bool:
        return self.actor.has(cls)

    @property
    def sees_everyone(self) -> bool:
        """Internal people and auditors see all rows; others only their own (as the API)."""
        return self.has(ActorClass.INTERNAL) or self.has(ActorClass.AUDITOR)

    def may(self, route: str) -> bool:
        return allowed(route, self.actor.classes)


def viewer(state: ServerState, route: str) -> Callable[[Request], Awaitable[Viewer]]:
    """FastAPI dependency of a page: the session cookie's person, CSRF-checked for a POST."""
    needs_row(route)

    def resolve(request: Request, form_csrf: str | None) -> Viewer:
        secret = request.cookies.get(session_cookie(state), "")
        if not secret and not request.headers.get("authorization"):
            raise LoginRequired
        try:
            actor = authenticate(request, state, route, form_csrf=form_csrf)
        except NotAuthenticated:
            raise LoginRequired from None
        authorize(state, route, actor)
        info = resolve_token(state.ctx.store, secret, now=state.now()) if secret else None
        return Viewer(actor, info.csrf if info is not None else "")

    async def dependency(request: Request) -> Viewer:
        form_csrf: str | None = None
        if request.method not in _SAFE:
            form = await request.form()
            got = form.get("csrf")
            form_csrf = got if isinstance(got, str) else None
        return await run_in_threadpool(resolve, request, form_csrf)

    return dependency


def signed_in(state: ServerState, request: Request, route: str) -> Viewer | None:
    """The person whose browser session sent ``request`` (a page anyone may open), or
    None: no cookie, an unknown, expired or revoked session, or a class ``route`` does
    not admit. Only for showing a page; every POST authenticates again (``viewer``)."""
    secret = request.cookies.get(session_cookie(state), "")
    if not secret:
        return None
    try:
        actor = authorize(state, route, authenticate(request, state, route))
    except StagewallError:
        return None
    info = resolve_token(state.ctx.store, secret, now=state.now())
    return Viewer(actor, info.csrf) if info is not None else None


def render(
    request: Request,
    template: str,
    *,
    who: Viewer | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    html = _env.get_template(template).render(
        request=request,
        who=who,
        ActorClass=ActorClass,
        passkeys=passkeys_on(request),
        **context,
    )
    return HTMLResponse(
        html, status_code=status, headers={"cache-control": "no-store", "pragma": "no-cache"}
    )


def form_page(
    request: Request,
    template: str,
    who: Viewer,
    *,
    message: str = "",
    done: Any = None,
    form: dict[str, str] | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A form page: shown empty, again with the library's refusal and what was typed,
    or with what was ``done``."""
    return render(
        request,
        template,
        who=who,
        status=status,
        message=message,
        done=done,
        form=form or {},
        **context,
    )


def safe_next(target: str | None) -> str:
    """A same-site path to return to after sign-in (never another origin).

    Browsers remove every tab and newline inside a URL before parsing it, so
    ``/<TAB>/evil.example`` is ``//evil.example`` to them: a path with any control
    character (C0 or DEL) or a backslash is refused, not only CR and LF."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    back = request.url.path if request.method == "GET" else "/"
    if request.method == "GET" and request.url.query:
        back += "?" + request.url.query
    return RedirectResponse("/login?next=" + quote(safe_next(back), safe=""), status_code=303)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def pre_session_cookie(name: str, path: str, secure: bool) -> tuple[str, str]:
    """(name, path) of a cookie that proves a browser started a form or a login.

    Over https it is a ``__Host-`` cookie at ``Path=/``: browsers take it only from this
    host (Secure, no Domain), so a sibling subdomain cannot toss in a value it knows
    and sign the person in to the attacker's account (login CSRF). Plain http keeps
    the bare name at ``path``."""
    return ("__Host-" + name, "/") if secure else (name, path)


def set_form_csrf(resp: Response, cookie_name: str, token: str, *, path: str, secure: bool) -> None:
    """The double-submit cookie of a form shown before there is a session (30 minutes)."""
    name, where = pre_session_cookie(cookie_name, path, secure)
    resp.set_cookie(
        name,
        token,
        max_age=int(timedelta(minutes=30).total_seconds()),
        httponly=True,
        secure=secure,
        samesite="strict",
        path=where,
    )


def clear_form_csrf(resp: Response, cookie_name: str, *, path: str, secure: bool) -> None:
    name, where = pre_session_cookie(cookie_name, path, secure)
    resp.delete_cookie(name, path=where, secure=secure, httponly=True, samesite="strict")


def form_csrf_ok(request: Request, cookie_name: str, sent: str, *, secure: bool) -> bool:
    """Double-submit check of a form shown before there is a session."""
    cookie = request.cookies.get(pre_session_cookie(cookie_name, "/", secure)[0], "")
    return bool(cookie) and bool(sent) and same(cookie, sent)


def login_csrf_ok(request: Request, sent: str, *, secure: bool) -> bool:
    return form_csrf_ok(request, LOGIN_CSRF_COOKIE, sent, secure=secure)


def is_page(request: Request) -> bool:
    route = request.scope.get("route")
    return str(getattr(route, "name", "")).startswith("web.")


def wants_page(request: Request) -> bool:
    """Whether an error answers with the HTML error page rather than a problem (JSON):
    the request reached a page's route, or it matched no route, is outside ``/api/`` and
    asks for HTML (a browser following a stale link)."""
    if is_page(request):
        return True
    if request.scope.get("route") is not None or request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, exc: StagewallError, status: int | None = None) -> Response:
    status = status or status_for(exc)
    heading = {
        401: "Sign in again",
        403: "Not allowed",
        404: "Not found",
        405: "Not allowed",
        500: "Something went wrong",
    }.get(status, "That did not work")
    return render(request, "error.html", status=status, error=exc, heading=heading)


def problem_list(errors: list[Mapping[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query"))
        parts.append(f"{where or 'form'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)
