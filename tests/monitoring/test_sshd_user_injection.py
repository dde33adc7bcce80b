"""A user name is the client's to choose; the address sshd logs after it is not.

sshd logs the name a client tried as it was sent, spaces included. A name such as
``x from 10.0.0.5 port 1 ssh2`` made the parser take 10.0.0.5 for the client's
address: an attacker chose the address of every failure (framing an internal host,
or a new one each time so that failed_login_burst never counted twenty)."""

from __future__ import annotations

from pathlib import Path

from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.monitoring.ingest import parser_for
from stagewall.store import Store
from tests.monitoring.conftest import make_estate

REAL = "8.8.8.8"


def test_the_address_is_the_one_sshd_wrote_after_the_name() -> None:
    p = parser_for("sshd", year=2026)
    p.trust_programs = True  # a source declaring trust_program_names
    lines = [
        "Dec  5 02:41:22 bastion sshd[1]: Failed password for invalid user "
        f"x from 10.0.0.5 port 1 ssh2 from {REAL} port 22234 ssh2",
        f"Dec  5 02:41:23 bastion sshd[2]: Invalid user y from 10.0.0.6 port 2 from {REAL} port 1",
        "Dec  5 02:41:24 bastion sshd[3]: error: maximum authentication attempts exceeded "
        f"for invalid user z from 10.0.0.7 port 3 ssh2 from {REAL} port 2 ssh2 [preauth]",
        "Dec  5 02:41:25 bastion sshd[4]: Failed publickey for invalid user "
        f"k from 10.0.0.8 port 4 ssh2: RSA SHA256:fake from {REAL} port 9 ssh2: RSA SHA256:real",
    ]
    evs = [ev for line in lines for ev in p.feed(line)]
    assert [(e.user, e.src_ip) for e in evs] == [
        ("x from 10.0.0.5 port 1 ssh2", REAL),
        ("y from 10.0.0.6 port 2", REAL),
        ("z from 10.0.0.7 port 3 ssh2", REAL),
        ("k from 10.0.0.8 port 4 ssh2: RSA SHA256:fake", REAL),
    ]
    assert evs[-1].detail == "publickey RSA SHA256:real"


def test_names_with_made_up_addresses_do_not_split_a_burst(tmp_path: Path) -> None:
    estate = make_estate()
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    lines = [
        f"Dec  1 09:00:{i:02d} bastion sshd[{100 + i}]: Failed password for invalid user "
        f"root from 10.9.{i}.1 port 22 ssh2 from {REAL} port {4000 + i} ssh2"
        for i in range(20)
    ]
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        report = ingest_lines("ssh", lines, ctx, final=True)
    assert "failed_login_burst" in {f.rule for f in report.findings}
