"""A burst of failed logins from one IPv6 /64 is one client's burst.

A host holds a whole /64 and can send each attempt from a new address in it; counted
per address, twenty attempts from twenty addresses of one /64 were twenty clients
with one failure each, and failed_login_burst stayed quiet."""

from __future__ import annotations

from pathlib import Path

from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.monitoring.events import Event
from stagewall.store import Store
from tests.monitoring.conftest import make_estate

T = "2026-12-01 09:00:{:02d}.000 UTC"


def attempts(addresses: list[str]) -> list[str]:
    lines: list[str] = []
    for i, ip in enumerate(addresses):
        ts = T.format(i)
        lines += [
            f"{ts} [{100 + i}] LOG:  connection received: host={ip} port=5000",
            f'{ts} [{100 + i}] FATAL:  password authentication failed for user "postgres"',
        ]
    return lines


def rules(tmp_path: Path, addresses: list[str]) -> list[str]:
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    with IngestContext(make_estate(), store, grants=GrantIndex(())) as ctx:
        report = ingest_lines("pg", attempts(addresses), ctx, final=True)
    return sorted({f.rule for f in report.findings})


def test_twenty_failures_from_twenty_addresses_of_one_ipv6_64_are_a_burst(tmp_path: Path) -> None:
    assert "failed_login_burst" in rules(
        tmp_path, [f"2a00:1450:4001:80b::{i:x}" for i in range(20)]
    )


def test_twenty_failures_from_twenty_ipv4_addresses_stay_per_address(tmp_path: Path) -> None:
    assert "failed_login_burst" not in rules(tmp_path, [f"8.8.8.{i}" for i in range(20)])


def test_src_client_is_the_ipv4_address_or_the_ipv6_64() -> None:
    v6 = Event(0.0, 3002, 1, src_ip="2a00:1450:4001:80b::7", src_network="2a00:1450:4001:80b::/64")
    v4 = Event(0.0, 3002, 1, src_ip="8.8.8.8", src_network="8.8.8.0/24")
    mapped = Event(0.0, 3002, 1, src_ip="::ffff:8.8.8.8", src_network="8.8.8.0/24")
    assert [e.get("src_client") for e in (v6, v4, mapped)] == [
        "2a00:1450:4001:80b::/64",
        "8.8.8.8",
        "8.8.8.8",
    ]
