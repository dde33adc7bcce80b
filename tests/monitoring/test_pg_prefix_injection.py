"""A PostgreSQL stderr prefix's ``%u`` is the user name the client sent.

With ``log_line_prefix = '%m [%p] %u@%d %r '`` a failed login's prefix holds the
name the client tried before the client's address: a name such as
``x 10.0.0.1(1)`` put a made-up address first, and the parser took it for the
client's. The address from the same process's ``connection received`` line
(written by the server) wins."""

from __future__ import annotations

from stagewall.monitoring.ingest import parser_for

REAL = "8.8.8.8"


def test_a_failed_login_keeps_the_address_the_server_received_it_from() -> None:
    p = parser_for("postgresql", year=2026)
    ts = "2026-12-05 02:41:20.123 UTC"
    lines = [
        f"{ts} [77] [unknown]@[unknown] {REAL}(5555) LOG:  connection received: "
        f"host={REAL} port=5555",
        f"{ts} [77] x 10.0.0.1(1)@postgres {REAL}(5555) FATAL:  password authentication "
        'failed for user "x 10.0.0.1(1)"',
    ]
    evs = [ev for line in lines for ev in p.feed(line)]
    assert [(e.status, e.src_ip) for e in evs] == [("failure", REAL)]
