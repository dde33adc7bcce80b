"""Outbound HTTP POSTs of the server (alert webhooks, witnesses): no redirects, a deadline.

Both ends are named in stagewall.yaml, but what answers there is someone else's: a chat
service, an auditor's witness. So:

* a redirect (3xx) is the answer, never followed — urllib would re-send the POST as a
  body-less GET to any address the receiver names (an internal service,
  ``169.254.169.254``) and hand back that address's answer;
* ``timeout`` bounds the whole exchange, not each read — a receiver answering one byte
  at a time would otherwise hold the caller (the sweeper alerts from inside a sweep)
  for as long as it liked; at the deadline a watchdog shuts the sockets down;
* ``https://`` certificates are verified; proxies from the environment still apply.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any


class Unreachable(Exception):
    """No answer within the deadline (refused, reset, cut off, TLS failure, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


@contextmanager
def deadline(seconds: float, sockets: Callable[[], list[socket.socket | None]]) -> Iterator[None]:
    """Shut down ``sockets()`` when ``seconds`` have passed since entering: the blocked
    read ends with an error, whatever the per-read timeout."""

    def cut() -> None:
        for sock in sockets():
            if sock is not None:
                with suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class _Connections:
    """The HTTP connections urllib opens for one exchange, for :func:`deadline`."""

    def __init__(self) -> None:
        self.opened: list[http.client.HTTPConnection] = []

    def sockets(self) -> list[socket.socket | None]:
        return [c.sock for c in self.opened]

    def factory(self, cls: type[http.client.HTTPConnection]) -> Any:
        def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn = cls(host, **kwargs)
            self.opened.append(conn)
            return conn

        return make


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx: the answer


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, conns: _Connections) -> None:
        super().__init__()
        self._conns = conns

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._conns.factory(http.client.HTTPConnection), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, conns: _Connections) -> None:
        super().__init__(context=ssl.create_default_context())
        self._conns = conns

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            self._conns.factory(http.client.HTTPSConnection),
            req,
            context=ssl.create_default_context(),
        )


def post(
    url: str,
    data: bytes,
    headers: Mapping[str, str],
    timeout: float,
    *,
    read_limit: int = 1 << 16,
) -> Answer:
    """POST ``data`` to ``url`` (http/https); the answer, whatever its status (a 3xx
    included), or :class:`Unreachable` when none came within ``timeout`` seconds."""
    if not url.startswith(("http://", "https://")):
        raise Unreachable(f"{url.split(':', 1)[0]!r} is not http(s)")
    conns = _Connections()
    opener = urllib.request.build_opener(_NoRedirect, _HTTPHandler(conns), _HTTPSHandler(conns))
    req = urllib.request.Request(url, data=data, method="POST", headers=dict(headers))  # noqa: S310 - scheme checked
    try:
        with deadline(timeout, conns.sockets):
            try:
                with opener.open(req, timeout=timeout) as resp:
                    return Answer(
                        int(resp.status), resp.headers.get_content_type(), resp.read(read_limit)
                    )
            except urllib.error.HTTPError as exc:
                with exc:
                    ctype = exc.headers.get_content_type() if exc.headers else ""
                    return Answer(int(exc.code), ctype, exc.read(read_limit))
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise Unreachable(f"{reason} (no answer within {timeout:g} s)") from None


__all__ = ["Answer", "Unreachable", "deadline", "post"]
