"""Alert sinks against a real local HTTP server and files; failing sinks never raise."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from stagewall.alerts import Alert, AlertDispatcher, FileAlertSink, SmtpAlertSink, WebhookAlertSink


def _server(status: int, bodies: list[Any]) -> HTTPServer:
    class H(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    srv = HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_webhook_plain_and_slack() -> None:
    bodies: list[Any] = []
    srv = _server(200, bodies)
    url = f"http://127.0.0.1:{srv.server_port}/hook"
    try:
        alert = Alert(kind="k", title="T", text="body")
        assert (
            AlertDispatcher([WebhookAlertSink(url), WebhookAlertSink(url, slack=True)]).send(alert)
            == []
        )
    finally:
        srv.shutdown()
        srv.server_close()
    assert bodies[0]["kind"] == "k" and bodies[0]["title"] == "T"
    assert bodies[1] == {"text": "[warning] T\nbody"}


def test_failing_sinks_are_reported_not_raised(tmp_path: Path) -> None:
    bodies: list[Any] = []
    srv = _server(500, bodies)
    good = FileAlertSink(tmp_path / "a.jsonl")
    try:
        failures = AlertDispatcher(
            [
                WebhookAlertSink(f"http://127.0.0.1:{srv.server_port}/x"),
                SmtpAlertSink("127.0.0.1", 1, "a@b", ["c@d"], timeout=2),
                good,
            ]
        ).send(Alert(kind="k", title="T", text="x"))
    finally:
        srv.shutdown()
        srv.server_close()
    assert failures[0].error == f"webhook(127.0.0.1:{srv.server_port}) answered HTTP 500"
    assert failures[1].sink == "smtp(127.0.0.1:1)"
    assert json.loads((tmp_path / "a.jsonl").read_text())["title"] == "T"


def test_slack_text_escapes_what_a_monitored_name_can_carry() -> None:
    """A login name is the attacker's: in Slack's text ``<https://x|label>`` is a link and
    ``<!channel>`` pings everyone. &, < and > are sent escaped (Slack's own rule)."""
    bodies: list[Any] = []
    srv = _server(200, bodies)
    url = f"http://127.0.0.1:{srv.server_port}/hook"
    name = "unknown:<https://evil.example/reset|Reset your password> <!channel> &amp;"
    try:
        alert = Alert(kind="k", title=f"Burst of failed logins: {name}", text=f"user {name}")
        assert AlertDispatcher([WebhookAlertSink(url, slack=True)]).send(alert) == []
    finally:
        srv.shutdown()
        srv.server_close()
    text = bodies[0]["text"]
    assert "<" not in text and ">" not in text
    assert (
        "&lt;https://evil.example/reset|Reset your password&gt; &lt;!channel&gt; &amp;amp;" in text
    )
