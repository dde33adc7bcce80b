"""Errors as RFC 9457 problem details (``application/problem+json``).

Every refusal carries the stable stagewall error code, the message and the hint;
never a traceback, never a secret (messages come from StagewallError, which the
library already keeps secret-free).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stagewall.errors import (
    AccessDenied,
    AuthenticationFailed,
    BackendError,
    ConfigError,
    NotAuthenticated,
    RateLimited,
    StagewallError,
)

PROBLEM = "application/problem+json"


def status_for(exc: StagewallError) -> int:
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    if isinstance(exc, NotAuthenticated | AuthenticationFailed):
        return 401
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, BackendError):
        return 503
    if isinstance(exc, ConfigError):
        return 400
    return 409


def problem(
    status: int, title: str, detail: str, *, code: str, hint: str = "", **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://stagewall.dev/errors/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if hint:
        body["hint"] = hint
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="stagewall"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def on_stagewall_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StagewallError)
    res = problem(
        status_for(exc),
        type(exc).__name__,
        exc.message,
        code=exc.code,
        hint=exc.hint,
        exit_code=exc.exit_code,
    )
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        res.headers["Retry-After"] = str(retry_after)
    return res


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return problem(
        422,
        "InvalidRequest",
        "the request is not valid: " + "; ".join(parts),
        code="SW101",
        hint="see /openapi.json for the request schema",
        exit_code=2,
    )


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {401: "SW720", 403: "SW400", 404: "SW101", 405: "SW101"}.get(exc.status_code, "SW000")
    # The status's own phrase, never the exception's detail: the body says nothing else.
    res = problem(exc.status_code, "HTTPError", phrase(exc.status_code), code=code, exit_code=2)
    if exc.headers and "allow" in {k.lower() for k in exc.headers}:
        res.headers["Allow"] = next(v for k, v in exc.headers.items() if k.lower() == "allow")
    return res


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
