"""Request input that no store can hold is refused (SW101) before any route runs.

A NUL byte is an error of PostgreSQL's driver (``text`` cannot hold it) and an unpaired
surrogate cannot be encoded as UTF-8: either, in an id, a name or a filter that reaches
a query, was a bare 500 with a traceback on a PostgreSQL store (SQLite stores them
silently). Percent-encoded bytes that are not UTF-8 (``%C3%28``) would otherwise be read
as U+FFFD, a value the client never sent. One app-wide dependency checks every path
parameter, query parameter, header and cookie, and form or JSON string (keys too) of
every route before the route's own dependencies (authentication included) read or record
anything. Headers are checked as the bytes that arrived (Starlette would read them as
Latin-1): a NUL or bytes that are not UTF-8 (a UTF-8-encoded surrogate among them) in
any header (Authorization, Cookie, X-CSRF-Token, Origin, Referer, User-Agent,
X-Forwarded-For) never reach a token lookup, a comparison, a log line or the store;
other control characters are left to the code that shows such a value (a User-Agent's
ESC is stored escaped, see identity.device.printable). Cookie values are checked once
more as parsed (a quoted value's ``\\000`` escape is a NUL). The refusal names the
header or cookie, never its value (it may be a secret). Bodies a route reads itself (the
ingest endpoint's log lines, which may hold any byte) are left to that route.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from stagewall.errors import UsageError

_MAX_DEPTH = 64


def _flaw(text: str) -> str | None:
    """What makes ``text`` unstorable, or None."""
    if "\x00" in text:
        return "a NUL byte"
    if any("\ud800" <= c <= "\udfff" for c in text):
        return "an unpaired surrogate (not a Unicode character)"
    return None


def _refuse(where: str, reason: str) -> UsageError:
    return UsageError(
        f"{where} contains {reason}; no stagewall value can",
        hint="send UTF-8 text without NUL bytes (remove the %00 or \\u0000)",
    )


def _raw_flaw(raw: bytes) -> str | None:
    """What makes percent-decoded ``raw`` bytes unacceptable, or None."""
    if b"\x00" in raw:
        return "a NUL byte"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes that are not UTF-8"
    return None


def _shown(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)[:64]


def _refuse_header(where: str, reason: str) -> UsageError:
    return UsageError(
        f"{where} contains {reason}; the request was refused before anything read it",
        hint="send header and cookie values as UTF-8 text without NUL bytes; in a "
        "browser, delete the named cookie and sign in again",
    )


def _check_headers(request: Request) -> None:
    for raw_name, raw_value in request.scope.get("headers", ()):
        reason = _raw_flaw(raw_name) or _raw_flaw(raw_value)
        if reason:
            raise _refuse_header(f"the {_shown(raw_name.decode('latin-1'))!r} header", reason)
    for name, value in request.cookies.items():
        reason = _flaw(name) or _flaw(value)
        if reason:
            raise _refuse_header(f"the cookie {_shown(name)!r}", reason)


def _check_json(value: Any, where: str, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        return  # the route's own schema refuses such nesting
    if isinstance(value, str):
        reason = _flaw(value)
        if reason:
            raise _refuse(f"the JSON field {where or '(body)'!r}", reason)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            reason = _flaw(str(key))
            if reason:
                raise _refuse(f"a JSON key of {where or '(body)'!r}", reason)
            _check_json(item, name, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]", depth + 1)


def _check_query(query: bytes) -> None:
    for pair in query.split(b"&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition(b"=")
        key = unquote_to_bytes(raw_key.replace(b"+", b" "))
        value = unquote_to_bytes(raw_value.replace(b"+", b" "))
        shown = key.decode("utf-8", "replace").replace("\x00", "\\x00")[:64]
        reason = _raw_flaw(key)
        if reason:
            raise _refuse(f"a query parameter name ({shown!r})", reason)
        reason = _raw_flaw(value)
        if reason:
            raise _refuse(f"the query parameter {shown!r}", reason)


async def refuse_unstorable_input(request: Request) -> None:
    """The app-wide dependency: SW101 for a NUL byte, an unpaired surrogate or bytes
    that are not UTF-8 in the path, the query, a header or a cookie, or a form or JSON
    body the route parses."""
    raw_path = request.scope.get("raw_path") or request.scope.get("path", "").encode()
    reason = _raw_flaw(unquote_to_bytes(raw_path))
    route = request.scope.get("route")
    if reason:
        names = [k for k, v in request.path_params.items() if _flaw(str(v)) or "\ufffd" in str(v)]
        where = f"the path parameter {names[0]!r}" if names else "the request path"
        raise _refuse(where, reason)
    for name, value in request.path_params.items():
        reason = _flaw(str(value))
        if reason:
            raise _refuse(f"the path parameter {name!r}", reason)
    _check_query(request.scope.get("query_string", b""))
    _check_headers(request)
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()  # FastAPI parsed it already: the cached form
        for key, item in form.multi_items():
            reason = _flaw(key)
            if reason:
                raise _refuse(f"a form field name ({key[:64]!r})", reason)
            if isinstance(item, UploadFile):
                continue
            reason = _flaw(item)
            if reason:
                raise _refuse(f"the form field {key!r}", reason)
        return
    body = await request.body()  # cached: FastAPI read it before solving dependencies
    if body and (content_type in ("", "application/json") or content_type.endswith("+json")):
        try:
            value = await request.json()
        except ValueError:
            return  # FastAPI refused it already (422, SW101)
        _check_json(value, "")


__all__ = ["refuse_unstorable_input"]
