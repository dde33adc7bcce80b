"""The CLI's browser hand-offs: ``login --browser`` and ``mfa step-up --browser``.

Login follows RFC 8252 (OAuth for native apps): a one-shot HTTP listener on
``127.0.0.1`` and a random port receives the one-time code from the browser; a
random ``state`` ties that answer to this terminal and a PKCE (S256) verifier, which
never leaves the terminal until the code is redeemed, makes a stolen code useless.
The URL is always printed, for when no browser can be opened here.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import click

from stagewall.cli._client import Client
from stagewall.errors import NotAuthenticated, StepUpRequired

LOGIN_WAIT_S = 300.0
CALLBACK = "/callback"

_DONE_PAGE = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>stagewall</title>"
    b"<main><h1>Signed in</h1><p>You can close this page and return to the terminal.</p>"
    b"</main></html>"
)


class _Listener:
    """A loopback HTTP listener that waits for one ``GET /callback`` with our state."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.code: str | None = None
        self.error: str | None = None
        self._got = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                sent = query.get("state", "")
                if parts.path != CALLBACK or not hmac.compare_digest(sent, outer.state):
                    # Not the answer to this sign-in (a probe, another tab): keep waiting.
                    self.send_error(400, "not the sign-in this terminal started")
                    return
                outer.code = query.get("code") or None
                outer.error = query.get("error") or (None if outer.code else "no code")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_DONE_PAGE)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(_DONE_PAGE)
                outer._got.set()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK}"

    def __enter__(self) -> _Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def wait(self, timeout: float) -> bool:
        return self._got.wait(timeout)


def _show(url: str, open_browser: bool, what: str) -> None:
    click.echo(f"{what}:\n  {url}")
    if open_browser and not webbrowser.open(url):
        click.echo("(no browser could be opened here: open the URL above yourself)")


def browser_login(client: Client, *, open_browser: bool) -> dict[str, Any]:
    """Sign in through the browser; the server's token answer (token, principal, ...)."""
    from stagewall.identity.handoff import s256

    # An unreachable or mistyped server fails now (SW723), not after five minutes of
    # waiting for a browser that can never sign in.
    client.request("GET", "/healthz")
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(24)
    with _Listener(state) as listener:
        query = urlencode(
            {
                "redirect_uri": listener.redirect_uri,
                "state": state,
                "code_challenge": s256(verifier),
                "code_challenge_method": "S256",
            }
        )
        _show(f"{client.server}/cli/login?{query}", open_browser, "Sign in in your browser")
        if not listener.wait(LOGIN_WAIT_S):
            raise NotAuthenticated("the browser sign-in was not finished within 5 minutes")
    if listener.code is None:
        raise NotAuthenticated(f"the browser sign-in failed ({listener.error})")
    got: dict[str, Any] = client.request(
        "POST",
        "/api/v1/cli/token",
        json_body={
            "code": listener.code,
            "code_verifier": verifier,
            "redirect_uri": listener.redirect_uri,
        },
    )
    return got


def browser_step_up(client: Client, *, open_browser: bool, poll_s: float = 1.0) -> dict[str, Any]:
    """Ask for a step-up of this login, to confirm with a passkey in a browser; wait for it."""
    req = client.request("POST", "/api/v1/step-up/browser")
    _show(
        client.server + str(req["path"]), open_browser, "Confirm with your passkey in the browser"
    )
    deadline = time.monotonic() + LOGIN_WAIT_S
    while time.monotonic() < deadline:
        got: dict[str, Any] = client.request("GET", f"/api/v1/step-up/browser/{req['request']}")
        if got["status"] == "confirmed":
            return got
        if got["status"] == "expired":
            break
        time.sleep(poll_s)
    raise StepUpRequired("the step-up was not confirmed in the browser in time; nothing changed")


__all__ = ["browser_login", "browser_step_up"]
