"""Red team of alert delivery: a webhook receiver that redirects, or that answers one
byte at a time, and an SMTP server that does the same, against real local sockets.

The sweeper alerts from inside a sweep, so a delivery that can be held open holds
back the expiry of grants; a redirect followed by urllib re-sent the alert as a GET
without its body, to any address the receiver named, and counted it delivered.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from stagewall.alerts import Alert, AlertDispatcher, SmtpAlertSink, WebhookAlertSink
from stagewall.alerts import sinks as sinks_module

ALERT = Alert(kind="k", title="T", text="body")


def _serve(handler: type[BaseHTTPRequestHandler]) -> HTTPServer:
    srv = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@contextmanager
def redirecting_to_internal(body: bytes = b"internal") -> Iterator[tuple[str, list[str]]]:
    """A receiver whose every POST answers 302 to an "internal" server (404 + ``body``);
    yields the receiver's URL and the paths the internal server was asked for."""
    fetched: list[str] = []

    class Internal(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # what urllib turned the POST into
            fetched.append(self.path)
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *a: Any) -> None:
            pass

    inner = _serve(Internal)

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{inner.server_port}/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    outer = _serve(Redirecting)
    try:
        yield f"http://127.0.0.1:{outer.server_port}", fetched
    finally:
        for srv in (outer, inner):
            srv.shutdown()
            srv.server_close()


def test_a_webhook_redirect_is_a_failure_and_is_not_followed() -> None:
    with redirecting_to_internal() as (url, fetched):
        failures = AlertDispatcher([WebhookAlertSink(f"{url}/hook")]).send(ALERT)
    assert fetched == []  # nothing reached the address the receiver named
    host = url.removeprefix("http://")
    assert [f.error for f in failures] == [
        f"webhook({host}) answered HTTP 302 (a redirect, not followed)"
    ]


@pytest.fixture
def dripping() -> Iterator[int]:
    """A TCP server that answers one byte every 0.2 s for 20 s (then closes)."""
    lsock = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(0.2)
                with suppress(OSError):
                    conn.recv(65536)  # the HTTP request, if any
                try:
                    for _ in range(100):
                        if stop.is_set():
                            break
                        conn.sendall(b"a")
                        time.sleep(0.2)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield int(lsock.getsockname()[1])
    finally:
        stop.set()
        lsock.close()


def test_a_webhook_answering_byte_by_byte_cannot_hold_the_caller(
    dripping: int,
) -> None:
    port = dripping
    t0 = time.monotonic()
    failures = AlertDispatcher(
        [WebhookAlertSink(f"http://127.0.0.1:{port}/hook", timeout=1.0)]
    ).send(ALERT)
    elapsed = time.monotonic() - t0
    assert elapsed < 8, elapsed  # the receiver would have held it 20 s
    assert len(failures) == 1 and "no answer within 1 s" in failures[0].error


def test_an_smtp_server_answering_byte_by_byte_cannot_hold_the_caller(
    dripping: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sinks_module, "SMTP_DEADLINE_S", 1.0, raising=False)
    port = dripping
    t0 = time.monotonic()
    failures = AlertDispatcher(
        [SmtpAlertSink("127.0.0.1", port, "a@b", ["c@d"], starttls=False, timeout=1.0)]
    ).send(ALERT)
    elapsed = time.monotonic() - t0
    assert elapsed < 8, elapsed
    assert len(failures) == 1 and failures[0].sink == f"smtp(127.0.0.1:{port})"
