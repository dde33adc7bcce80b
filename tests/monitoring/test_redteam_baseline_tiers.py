"""Red team: one shipper's token cannot teach production what is normal.

Baselines (networks a person was seen from, daily read volumes) were learnt from
every source that names a principal, in one pool per person. A shipper's token of a
staging host (root there may be a vendor's) could post lines, dated back into the
person's learning week, "from" the network an attacker holding the person's
production credentials will use, or a week of large reads: a production login from
that network was then not new, and a large production read stayed under the
person's raised threshold.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from stagewall.estate import Estate
from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.monitoring.baselines import DAY, FirstSeen, Volume
from stagewall.monitoring.events import CLS_DATASTORE_ACTIVITY, DS_READ, Event
from stagewall.store import Store
from tests.monitoring.conftest import ESTATE


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _pg_login(stamp: str, ip: str, user: str = "alice", pid: int = 1) -> list[str]:
    return [
        f"{stamp} UTC [{pid}] LOG:  connection received: host={ip} port=5000",
        f"{stamp} UTC [{pid}] LOG:  connection authorized: user={user} database=app",
    ]


def _first_seen(findings: list[object]) -> list[object]:
    return [f for f in findings if getattr(f, "rule", "") == "first_seen_network"]


def _context(estate: Estate, store: Store, now: str) -> IngestContext:
    clock = _ts(now)
    return IngestContext(estate, store, grants=GrantIndex(()), clock=lambda: clock)


def test_a_staging_token_cannot_make_a_network_known_to_production(
    estate: Estate, store: Store
) -> None:
    ctx = _context(estate, store, "2026-12-20 10:00:00")
    # alice's first event: her learning week starts on 1 December
    ingest_lines("pg-stg", _pg_login("2026-12-01 09:00:00.000", "9.9.9.9"), ctx)
    # the staging host's shipper posts, on the 20th, a login dated into that week
    # from the attacker's network: learnt silently, as any network of the week is
    taught = ingest_lines("pg-stg", _pg_login("2026-12-02 09:00:00.000", "8.8.8.8", pid=2), ctx)
    assert _first_seen(taught.findings) == []
    # the attacker, with alice's production credentials, from that network
    prod = ingest_lines("pg", _pg_login("2026-12-20 09:55:00.000", "8.8.8.8", pid=3), ctx)
    found = _first_seen(prod.findings)
    assert len(found) == 1 and found[0].principal == "alice"  # type: ignore[attr-defined]
    # once seen on production it is production's: not flagged again
    again = ingest_lines("pg", _pg_login("2026-12-20 09:58:00.000", "8.8.8.8", pid=4), ctx)
    assert _first_seen(again.findings) == []
    ctx.close()


def test_a_network_two_non_production_resources_saw_is_known_to_production(
    tmp_path: Path,
) -> None:
    # a person's home network, seen by staging's database and by the staging bastion,
    # needs no production visit to be known there (the labelled month's noise)
    estate = _with_staging_bastion()
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    ctx = _context(estate, store, "2026-12-20 10:00:00")
    ingest_lines("pg-stg", _pg_login("2026-12-01 09:00:00.000", "9.9.9.9"), ctx)
    ingest_lines("pg-stg", _pg_login("2026-12-02 09:00:00.000", "8.8.8.8", pid=2), ctx)
    ssh = (
        "2026-12-03T09:00:00Z bastion-stg sshd[7]: Accepted publickey for alice from 8.8.8.8 "
        "port 1 ssh2"
    )
    ingest_lines("ssh-stg", [ssh], ctx)
    assert ctx.first_seen.taught["alice"]["8.8.8.0/24"] == ["db-staging", "bastion-stg"]
    prod = ingest_lines("pg", _pg_login("2026-12-20 09:55:00.000", "8.8.8.8", pid=3), ctx)
    assert _first_seen(prod.findings) == []
    ctx.close()


def _with_staging_bastion() -> Estate:
    text = ESTATE.replace(
        "  exports: {environment: production",
        "  bastion-stg: {environment: staging, kind: host, identifiers: [bastion-stg]}\n"
        "  exports: {environment: production",
    )
    text += "    ssh-stg: {type: sshd, resource: bastion-stg, trust_program_names: true}\n"
    return parse_estate(text).estate


def _event(t: float, net: str, tier: str, resource: str, pid: str = "alice") -> Event:
    return Event(
        t, 3002, 1, principal=pid, src_network=net, tier=tier, resource=resource, source=resource
    )


def test_one_resource_twice_is_one_teacher_and_production_teaches_the_others() -> None:
    seen = FirstSeen()
    start = 20_000 * DAY
    seen.judge(_event(start, "9.9.9.0/24", "non-production", "db-staging"))
    for k in range(3):  # the same host, several of its sources' tokens
        seen.judge(_event(start + DAY + k, "8.8.8.0/24", "non-production", "db-staging"))
    late = start + 10 * DAY
    ev = _event(late, "8.8.8.0/24", "production", "db-prod")
    seen.judge(ev)
    assert ev.first_seen_network is True
    # a network production taught is known to the other tiers too
    seen.judge(_event(late, "7.7.7.0/24", "production", "bastion"))
    ev = _event(late + 1, "7.7.7.0/24", "non-production", "db-staging")
    seen.judge(ev)
    assert ev.first_seen_network is False


def test_state_saved_before_the_tiers_keeps_its_networks_for_non_production_only() -> None:
    seen = FirstSeen()
    start = 20_000 * DAY
    seen.load({"first": {"alice": start}, "nets": {"alice": [["8.8.8.0/24", start]]}})
    late = start + 10 * DAY
    stg = _event(late, "8.8.8.0/24", "non-production", "db-staging")
    seen.judge(stg)
    assert stg.first_seen_network is False
    prod = _event(late, "8.8.8.0/24", "production", "db-prod")
    seen.judge(prod)
    assert prod.first_seen_network is True
    # and the new state round-trips
    again = FirstSeen()
    again.load(seen.to_json())
    assert again.to_json() == seen.to_json()


def _read(t: float, tier: str, pid: str = "dana") -> Event:
    return Event(t, CLS_DATASTORE_ACTIVITY, DS_READ, principal=pid, tier=tier)


@pytest.mark.parametrize("poisoned", [False, True])
def test_staging_reads_do_not_raise_the_production_threshold(poisoned: bool) -> None:
    volume = Volume()
    start = 20_000 * DAY
    for d in range(10):  # ten production reads a day, a normal fortnight
        for i in range(10):
            volume.judge(_read(start + d * DAY + i, "production"))
        if poisoned:  # a staging token posts 5,000 reads a day "of dana's"
            for i in range(5000):
                volume.judge(_read(start + d * DAY + 100 + i, "non-production"))
    today = start + 10 * DAY
    flagged = []
    for i in range(2000):
        ev = _read(today + i, "production")
        volume.judge(ev)
        flagged += [ev.volume_anomaly] if ev.volume_anomaly else []
    assert flagged == ["count"]
    again = Volume()
    again.load(volume.to_json())
    assert again.to_json() == volume.to_json()
