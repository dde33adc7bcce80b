"""Red team: a NUL byte or bytes that are not UTF-8 in a header or a cookie are refused
(SW101) before anything reads them.

The app-wide input check covered the path, the query and the body only. A bearer token
with a NUL in it, a session cookie whose quoted value carries a ``\\000`` escape, an
X-CSRF-Token, Origin, Referer or User-Agent with a NUL or bytes that are not UTF-8
(a UTF-8-encoded surrogate among them) reached the token lookup, the CSRF comparison,
the log and the store (a User-Agent is stored with a new session). Requests are sent as
raw ASGI messages: an HTTP client would refuse to send such headers at all, a proxy in
front of the server might not.
"""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from stagewall.identity._tables import identity_tokens
from stagewall.server._auth import session_cookie
from tests.server.conftest import PASSWORD, Person, World


def _asgi(
    world: World, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, str]:
    """Send one raw request to the app; (status, body text)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(world.app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, text.decode("utf-8", "replace")


@pytest.fixture
def alice(world: World) -> Person:
    person = world.onboard("alice")
    world.settle()
    person.login()
    return person


def _cases(token: bytes, cookie: bytes) -> dict[str, tuple[bytes, bytes]]:
    """(header name, raw value) a client should never be able to hand the server."""
    return {
        "authorization-nul": (b"authorization", b"Bearer " + token[:12] + b"\x00" + token[12:]),
        "authorization-not-utf8": (b"authorization", b"Bearer " + token + b"\xc3\x28"),
        "authorization-surrogate": (b"authorization", b"Bearer " + token + b"\xed\xa0\x80"),
        "cookie-nul": (b"cookie", cookie + b"=" + token + b"\x00"),
        "cookie-escaped-nul": (b"cookie", cookie + b'="\\000' + token + b'"'),
        "cookie-not-utf8": (b"cookie", cookie + b"=" + token + b"\xff"),
        "csrf-nul": (b"x-csrf-token", b"abc\x00def"),
        "origin-nul": (b"origin", b"http://testserver\x00.evil"),
        "referer-not-utf8": (b"referer", b"http://testserver/\xc3\x28"),
        "user-agent-nul": (b"user-agent", b"curl/8\x00"),
        "forwarded-for-nul": (b"x-forwarded-for", b"203.0.113.9\x00"),
    }


_CASES = sorted(_cases(b"t", b"c"))


@pytest.mark.parametrize("case", _CASES)
def test_a_bad_header_or_cookie_is_sw101_before_anything_reads_it(
    world: World, alice: Person, case: str
) -> None:
    token = (alice.token or "").encode()
    cookie = session_cookie(world.state).encode()
    name, value = _cases(token, cookie)[case]
    good = [] if name in (b"authorization", b"cookie") else [(b"authorization", b"Bearer " + token)]
    status, text = _asgi(world, "GET", "/api/v1/whoami", [*good, (name, value)])
    body = json.loads(text)
    assert (status, body["code"]) == (400, "SW101"), body
    shown = "cookie" if name == b"cookie" else name.decode()
    assert shown in body["detail"].lower()
    assert token.decode() not in text  # the refusal never repeats a secret
    assert "Traceback" not in text


def test_the_same_request_with_clean_headers_works(world: World, alice: Person) -> None:
    token = (alice.token or "").encode()
    status, text = _asgi(
        world,
        "GET",
        "/api/v1/whoami",
        [(b"authorization", b"Bearer " + token), (b"user-agent", b"stagewall-cli\tv1")],
    )
    assert status == 200 and json.loads(text)["principal"] == "alice", text


def test_a_sign_in_with_a_bad_user_agent_changes_nothing(world: World, alice: Person) -> None:
    store = world.state.ctx.store
    with store.read() as conn:
        tokens = conn.execute(select(func.count()).select_from(identity_tokens)).scalar_one()
    events = len(world.events())
    login = json.dumps({"principal": "alice", "password": PASSWORD, "otp": alice.otp()})
    status, text = _asgi(
        world,
        "POST",
        "/api/v1/session",
        [(b"content-type", b"application/json"), (b"user-agent", b"agent\x00\xff")],
        login.encode(),
    )
    assert (status, json.loads(text)["code"]) == (400, "SW101"), text
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(identity_tokens)).scalar_one() == (
            tokens
        )
    assert len(world.events()) == events  # no login, no failed-login event either


def test_a_web_page_with_a_bad_session_cookie_says_sw101(world: World, alice: Person) -> None:
    cookie = session_cookie(world.state).encode()
    status, text = _asgi(
        world, "GET", "/", [(b"accept", b"text/html"), (b"cookie", cookie + b"=a\x00b")]
    )
    assert status == 400
    assert "SW101" in html.unescape(text) and "Traceback" not in text
