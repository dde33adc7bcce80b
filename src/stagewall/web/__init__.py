"""The web UI served by ``stagewall serve``: server-rendered pages over the same library.

Pages authenticate with the browser session cookie; every form carries the
session's CSRF token; every decision calls the library function the API calls.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from stagewall.errors import InternalError, StagewallError, UsageError
from stagewall.server._auth import https
from stagewall.server._problems import phrase
from stagewall.server._state import ServerState
from stagewall.web import (
    _routes_access,
    _routes_audit,
    _routes_breakglass,
    _routes_cli,
    _routes_device,
    _routes_evidence,
    _routes_inbox,
    _routes_invite,
    _routes_plans,
    _routes_reviews,
    _routes_session,
)
from stagewall.web._render import (
    STATIC,
    LoginRequired,
    SecurityHeaders,
    error_page,
    is_page,
    login_redirect,
    problem_list,
    secure_headers,
    wants_page,
)


async def _maybe(result: Response | Awaitable[Response]) -> Response:
    return await result if inspect.isawaitable(result) else result


def register(app: FastAPI, state: ServerState) -> None:
    """Add the pages, the static files and the security headers to ``app``."""
    app.state.stagewall = state
    _routes_session.register(app, state)
    _routes_invite.register(app, state)
    _routes_inbox.register(app, state)
    _routes_access.register(app, state)
    _routes_audit.register(app, state)
    _routes_breakglass.register(app, state)
    _routes_evidence.register(app, state)
    _routes_reviews.register(app, state)
    _routes_plans.register(app, state)
    _routes_cli.register(app, state)
    _routes_device.register(app, state)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders, https=lambda: https(state))

    api_error = app.exception_handlers[StagewallError]
    api_invalid = app.exception_handlers[RequestValidationError]

    async def on_login_required(request: Request, exc: Exception) -> Response:
        return login_redirect(request)

    async def on_error(request: Request, exc: Exception) -> Any:
        if is_page(request) and isinstance(exc, StagewallError):
            return error_page(request, exc)
        return await _maybe(api_error(request, exc))

    async def on_invalid(request: Request, exc: Exception) -> Any:
        if is_page(request) and isinstance(exc, RequestValidationError):
            return error_page(
                request, UsageError("the form is not valid: " + problem_list(list(exc.errors())))
            )
        return await _maybe(api_invalid(request, exc))

    api_http = app.exception_handlers[StarletteHTTPException]

    async def on_http(request: Request, exc: Exception) -> Any:
        # 404 and 405 from routing: the error page for a browser, else the problem.
        if wants_page(request) and isinstance(exc, StarletteHTTPException):
            text = "There is nothing at this address." if exc.status_code == 404 else ""
            fault = UsageError(text or phrase(exc.status_code), hint="go back to the inbox")
            return error_page(request, fault, exc.status_code)
        return await _maybe(api_http(request, exc))

    async def on_crash(request: Request, exc: Exception) -> Response:
        """An unhandled exception: a fixed answer that says nothing of it (the server
        logs it). Starlette sends this 500 from outside every middleware, so it gets
        its security headers here."""
        fault = InternalError("the server failed to answer this request")
        if wants_page(request):
            res = error_page(request, fault)
        else:
            res = await _maybe(api_error(request, fault))
        secure_headers(res.headers, cacheable=False, https=https(state))
        return res

    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(StagewallError, on_error)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


__all__ = ["register"]
