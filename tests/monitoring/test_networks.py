"""The network an address belongs to, whichever way a log spells the address."""

from __future__ import annotations

import pytest

from stagewall.monitoring.baselines import DAY, FirstSeen, informative
from stagewall.monitoring.enrich import network_of
from stagewall.monitoring.events import Event


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("8.8.8.8", "8.8.8.0/24"),
        # a dual-stack socket logs IPv4 clients as IPv4-mapped IPv6 addresses: they are
        # still the IPv4 /24, not all of the IPv4 internet in one '::/64'
        ("::ffff:8.8.8.8", "8.8.8.0/24"),
        ("::FFFF:8.8.4.4", "8.8.4.0/24"),
        ("0:0:0:0:0:ffff:808:808", "8.8.8.0/24"),
        ("::ffff:10.0.0.5", "10.0.0.0/24"),
        ("2a00:1450:4001:80b::200e", "2a00:1450:4001:80b::/64"),
        ("2A00:1450:4001:080B:0:0:0:200E", "2a00:1450:4001:80b::/64"),
    ],
)
def test_network_of_reads_every_spelling(address: str, network: str) -> None:
    assert network_of(address) == network


def test_a_private_address_in_ipv6_mapped_form_says_nothing_about_where_someone_is() -> None:
    assert not informative(network_of("::ffff:10.0.0.5"))
    assert informative(network_of("::ffff:8.8.8.8"))


def test_first_seen_tells_apart_two_ipv4_networks_logged_in_mapped_form() -> None:
    seen = FirstSeen()
    start = 1_796_000_000.0
    learned = Event(start, 3002, 1, principal="alice", src_network=network_of("::ffff:8.8.8.8"))
    seen.judge(learned)
    later = Event(
        start + 8 * DAY, 3002, 1, principal="alice", src_network=network_of("::ffff:1.1.1.1")
    )
    seen.judge(later)
    assert later.first_seen_network is True
