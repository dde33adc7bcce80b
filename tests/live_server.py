"""A real ``stagewall serve`` (uvicorn) on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from stagewall.identity import accounts
from stagewall.server import ServerState, create_app

PASSWORD = "correct horse battery staple"


def bound_socket() -> socket.socket:
    """A loopback socket bound to a port the kernel chose, held until the server takes it.

    Binding port 0, closing the socket and handing the number to the server left a
    window in which another test (two xdist workers) could take the same port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(
    state: ServerState,
    *,
    run_sweeper: bool = True,
    sock: socket.socket | None = None,
    app: FastAPI | None = None,
) -> Iterator[str]:
    """Run the app over ``state`` (or ``app``, made for it); yields its base URL; stops it.

    ``sock`` is a :func:`bound_socket` the caller made to know the port in advance."""
    sock = sock or bound_socket()
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app if app is not None else create_app(state, run_sweeper=run_sweeper),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def onboard(url: str, state: ServerState, name: str, now: datetime) -> str:
    """Invite ``name`` (as the operator), accept and confirm; returns the TOTP secret."""
    import pyotp

    inv = accounts.create_invitation(
        state.ctx.store, state.estate, name, created_by="server-operator", now=now
    )
    got = _ok(
        httpx.post(
            f"{url}/api/v1/invitations/accept", json={"token": inv.token, "password": PASSWORD}
        )
    )
    secret = str(got["totp_secret"])
    code = pyotp.TOTP(secret).at(state.now())
    _ok(httpx.post(f"{url}/api/v1/invitations/confirm", json={"token": inv.token, "otp": code}))
    return secret


def login(url: str, name: str, code: str) -> str:
    got = _ok(
        httpx.post(
            f"{url}/api/v1/session", json={"principal": name, "password": PASSWORD, "otp": code}
        )
    )
    return str(got["token"])


def _ok(res: httpx.Response) -> Any:
    if res.status_code >= 400:
        raise AssertionError(
            f"{res.request.method} {res.request.url}: {res.status_code} {res.text}"
        )
    return res.json()
