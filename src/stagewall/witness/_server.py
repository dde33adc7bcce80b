"""``stagewall witness serve``: the tlog-witness HTTP endpoint (standard library server)."""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stagewall.witness._protocol import MAX_BODY, Response, Witness

_log = logging.getLogger("stagewall.witness")


class _Handler(BaseHTTPRequestHandler):
    server_version = "stagewall-witness"
    protocol_version = "HTTP/1.1"
    witness: Witness
    prefix: str

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def do_POST(self) -> None:
        if self.path != self.prefix + "/add-checkpoint":
            self._send(Response(404, "text/plain", b"not found\n"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(Response(411, "text/plain", b"Content-Length required\n"))
            return
        if not 0 <= length <= MAX_BODY:
            self._send(Response(400, "text/plain", b"request too large\n"))
            return
        body = self.rfile.read(length)
        self._send(self.witness.add_checkpoint(body))

    def do_GET(self) -> None:
        self._send(Response(404, "text/plain", b"not found\n"))

    def log_message(self, format: str, *args: Any) -> None:
        _log.info("%s %s", self.address_string(), format % args)


def make_server(witness: Witness, host: str, port: int, *, prefix: str = "") -> ThreadingHTTPServer:
    """An HTTP server for ``witness`` on ``host:port`` (port 0 picks a free one)."""
    handler = type(
        "WitnessHandler", (_Handler,), {"witness": witness, "prefix": prefix.rstrip("/")}
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


__all__ = ["make_server"]
