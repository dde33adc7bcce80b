"""Learned and declared context that Sigma cannot hold: hours, networks, volumes, gaps.

Each baseline sets a flag on the event it judges (``off_hours``,
``first_seen_network``, ``volume_anomaly``) or makes a synthetic gap event; the
Sigma rules match on those flags. State is per principal and per source, bounded
(at most ``MAX_NETWORKS`` networks per principal, 14 days of daily totals), and
saved as JSON between runs.

Learned state (networks seen, daily volumes) is kept apart per tier: an event of a
production resource is judged only against what production sources taught, so a
shipper's token of a staging host (or any non-production source) cannot teach a
person's production networks or raise their production volume history.
"""

from __future__ import annotations

import ipaddress
import statistics
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from stagewall.estate._hours import parse_working_hours
from stagewall.estate.models import Estate, PrincipalKind, RuleSettings
from stagewall.monitoring.events import (
    APP_STOP,
    CLS_APPLICATION_LIFECYCLE,
    CLS_DATASTORE_ACTIVITY,
    CLS_FILE_HOSTING,
    DS_LIST,
    DS_READ,
    FILE_DOWNLOAD,
    UNKNOWN,
    Event,
)

DAY = 86400.0
LEARNING = 7 * DAY
MAX_NETWORKS = 256
HISTORY_DAYS = 14
MIN_HISTORY = 5
MAD_SCALE = 1.4826
DEFAULT_K = 5.0
DEFAULT_FLOOR_BYTES = 1024 * 1024 * 1024
DEFAULT_FLOOR_COUNT = 500
_QUARTER = 900
# How far after the receiving clock an event's time may be (clocks that disagree a
# little); a later one is stored at the clock's time (see pipeline._ingest).
MAX_AHEAD = 900.0


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _slot_at(t: float, zone: ZoneInfo) -> int:
    """The local 15-minute slot of the week (0 = Monday 00:00) at ``t``."""
    local = datetime.fromtimestamp(t, zone)
    return (local.weekday() * 1440 + local.hour * 60 + local.minute) // 15


class WorkingHours:
    """Declared hours per principal: its own, else its vendor's, else the default."""

    def __init__(self, estate: Estate) -> None:
        mon = estate.monitoring
        self._plans: dict[str, tuple[ZoneInfo, frozenset[int]]] = {}
        for pid, p in estate.principals.items():
            if p.kind is not PrincipalKind.HUMAN:
                continue
            vendor = estate.vendors.get(p.vendor) if p.vendor else None
            hours = (
                p.working_hours or (vendor.working_hours if vendor else None) or mon.working_hours
            )
            self._plans[pid] = (_zone(p.timezone or mon.timezone), parse_working_hours(hours))
        self._quarters: dict[tuple[str, int], int] = {}  # (zone, UTC quarter hour) -> slot

    def judge(self, ev: Event) -> None:
        plan = self._plans.get(ev.principal)
        if plan is None:
            return
        zone, slots = plan
        t = ev.time
        quarter = int(t // _QUARTER)
        if 0.001 < t - quarter * _QUARTER < _QUARTER - 0.001:
            slot = self._quarters.get((zone.key, quarter))
            if slot is None:
                slot = self._local_slot(zone, t, quarter)
        else:  # datetime rounds to microseconds: near the edge, the direct computation
            slot = _slot_at(t, zone)
        ev.off_hours = slot not in slots

    def _local_slot(self, zone: ZoneInfo, t: float, quarter: int) -> int:
        """The local 15-minute slot of the week at ``t``; cached for its UTC quarter hour
        when the zone's offset is the same all through it and a whole number of quarter
        hours (then every instant of the quarter falls into this one local slot)."""
        slot = _slot_at(t, zone)
        start = quarter * _QUARTER
        first = datetime.fromtimestamp(start, zone).utcoffset()
        last = datetime.fromtimestamp(start + _QUARTER - 1, zone).utcoffset()
        if first is not None and first == last and first.total_seconds() % _QUARTER == 0:
            if len(self._quarters) > 100_000:
                self._quarters.clear()
            self._quarters[(zone.key, quarter)] = slot
        return slot


@lru_cache(maxsize=65536)
def informative(network: str) -> bool:
    """Whether a network says where someone is: not private, loopback or link-local.

    Office LANs, VPN pools and jump hosts (RFC 1918, ULA) are shared by everyone and
    change with the infrastructure, so first-seen judges public addresses only.
    """
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
    return not (net.is_private or net.is_loopback or net.is_link_local or net.is_multicast)


PRODUCTION = "production"
# distinct non-production resources that make a network known to production
TEACHERS = 2


class FirstSeen:
    """Public networks seen per principal; a new one after the learning period (which
    starts at the principal's first event of any tier) is flagged.

    An event of a production resource is judged against the networks production
    sources taught (:attr:`production`) and the ones events of at least
    :data:`TEACHERS` distinct non-production resources taught (:attr:`nets`, the
    resources in :attr:`taught`; a source mapped to none counts as its own): the
    shipper tokens of one staging host cannot make a network known to production,
    and a person's home network, seen by staging's database and its bastion, needs
    no production visit to be known. Other events are judged
    against every network the principal was seen from."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.nets: dict[str, OrderedDict[str, float]] = {}
        self.production: dict[str, OrderedDict[str, float]] = {}
        # principal -> network -> the first TEACHERS distinct sources that taught it
        self.taught: dict[str, dict[str, list[str]]] = {}

    def judge(self, ev: Event) -> None:
        pid, net = ev.principal, ev.src_network
        if not pid or not net or not informative(net):
            return
        first = self.first.setdefault(pid, ev.time)
        if ev.tier == PRODUCTION:
            seen = self.production.setdefault(pid, OrderedDict())
            teachers = self.taught.get(pid, {}).get(net, ())
            known = net in seen or len(teachers) >= TEACHERS
        else:
            seen = self.nets.setdefault(pid, OrderedDict())
            known = net in seen or net in self.production.get(pid, ())
            by = self.taught.setdefault(pid, {}).setdefault(net, [])
            # (a resource, not a source: one host's shippers may hold several tokens)
            teacher = ev.resource or f"source:{ev.source}"
            if len(by) < TEACHERS and teacher not in by:
                by.append(teacher)
        ev.first_seen_network = not known and ev.time - first >= LEARNING
        seen[net] = ev.time
        seen.move_to_end(net)
        if len(seen) > MAX_NETWORKS:
            old, _ = seen.popitem(last=False)
            if seen is self.nets[pid]:
                self.taught[pid].pop(old, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "nets": {k: list(v.items()) for k, v in self.nets.items()},
            "production": {k: list(v.items()) for k, v in self.production.items()},
            "taught": self.taught,
        }

    def load(self, data: dict[str, Any]) -> None:
        """State saved by :meth:`to_json`. State saved before production was kept apart
        (no ``production`` or ``taught`` key) mixed every tier's networks and did not
        say which sources taught them: its networks are kept for the other tiers only,
        and production's are learnt again (each public network a person reaches
        production from is flagged once, after the learning period, unless two
        non-production resources teach it first)."""
        self.first = {str(k): float(v) for k, v in data.get("first", {}).items()}
        self.nets = _networks(data.get("nets", {}))
        self.production = _networks(data.get("production", {}))
        self.taught = {
            str(pid): {str(n): [str(x) for x in by][:TEACHERS] for n, by in nets.items()}
            for pid, nets in data.get("taught", {}).items()
        }


def _networks(data: dict[str, Any]) -> dict[str, OrderedDict[str, float]]:
    return {str(k): OrderedDict((str(n), float(t)) for n, t in v) for k, v in data.items()}


def robust_threshold(history: list[float], k: float, floor: float) -> float:
    """``max(floor, median + k * 1.4826 * MAD)``; ``4 * floor`` before enough history."""
    if len(history) < MIN_HISTORY:
        return 4 * floor
    med = statistics.median(history)
    mad = statistics.median([abs(x - med) for x in history])
    return max(floor, med + k * MAD_SCALE * mad)


class Volume:
    """Daily read counts and downloaded bytes per principal against its own history."""

    def __init__(self, settings: RuleSettings | None = None) -> None:
        s = settings or RuleSettings()
        self.k = s.k if s.k is not None else DEFAULT_K
        self.floor_bytes = float(
            s.floor_bytes if s.floor_bytes is not None else DEFAULT_FLOOR_BYTES
        )
        self.floor_count = float(
            s.floor_count if s.floor_count is not None else DEFAULT_FLOOR_COUNT
        )
        # principal -> [day, bytes today, count today, fired flags, history [(day, bytes, count)]]
        # for the events of non-production (and unmapped) resources; production's apart
        self.state: dict[str, list[Any]] = {}
        self.production: dict[str, list[Any]] = {}
        self._limits: dict[tuple[str, bool], tuple[int, float, float]] = {}

    def judge(self, ev: Event) -> None:
        pid = ev.principal
        c, a = ev.class_uid, ev.activity_id  # counted: datastore reads/lists, downloads
        if (
            not pid
            or not (
                (c == CLS_DATASTORE_ACTIVITY and a in (DS_READ, DS_LIST))
                or (c == CLS_FILE_HOSTING and a == FILE_DOWNLOAD)
            )
            or ev.status != "success"
        ):
            return
        day = int(ev.time // DAY)
        prod = ev.tier == PRODUCTION
        learnt = self.production if prod else self.state
        st = learnt.get(pid)
        if st is None:
            st = learnt[pid] = [day, 0, 0, 0, []]
        if day < st[0]:
            # An earlier day's event (another source's late batch, a shipper catching
            # up): counted in that day's history. It reset today's totals, so one such
            # event between today's reads (any source that names the principal can
            # send one) kept the day's total under the threshold for ever.
            self._past(st, day, ev.bytes)
            return
        if st[0] != day:
            if st[1] or st[2]:
                hist = st[4]
                hist.append([st[0], st[1], st[2]])
                del hist[: max(0, len(hist) - HISTORY_DAYS)]
            st[0], st[1], st[2], st[3] = day, 0, 0, 0
            self._limits.pop((pid, prod), None)
        st[1] += ev.bytes
        st[2] += 1
        limits = self._limits.get((pid, prod))
        if limits is None or limits[0] != day:
            hist = [h for h in st[4] if day - HISTORY_DAYS <= h[0] < day]
            limits = (
                day,
                robust_threshold([float(h[1]) for h in hist], self.k, self.floor_bytes),
                robust_threshold([float(h[2]) for h in hist], self.k, self.floor_count),
            )
            self._limits[(pid, prod)] = limits
        if not st[3] & 1 and st[1] > limits[1]:
            st[3] |= 1
            ev.volume_anomaly = "bytes"
        elif not st[3] & 2 and st[2] > limits[2]:
            st[3] |= 2
            ev.volume_anomaly = "count"

    def _past(self, st: list[Any], day: int, size: int) -> None:
        if day < st[0] - HISTORY_DAYS:
            return  # older than any threshold reads
        hist = st[4]
        for h in hist:
            if h[0] == day:
                h[1] += size
                h[2] += 1
                break
        else:
            hist.append([day, size, 1])
            hist.sort(key=lambda h: h[0])
            del hist[: max(0, len(hist) - HISTORY_DAYS)]

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "production": self.production}

    def load(self, data: dict[str, Any]) -> None:
        """State saved by :meth:`to_json`; state saved before production was kept apart
        is kept for the other tiers only (see :meth:`FirstSeen.load`)."""
        self.state = {str(k): list(v) for k, v in data.get("state", {}).items()}
        self.production = {str(k): list(v) for k, v in data.get("production", {}).items()}
        self._limits.clear()


class Gaps:
    """The newest event time per source with a ``max_gap`` (the only ones observed); a
    silence longer than ``max_gap`` is an event.

    ``last`` and ``alerted`` are this context's copy of the store's
    ``monitoring_source_seen`` (see :mod:`._seen`), reloaded at the start of every
    ingest call, so an instance judges a source's gap from every instance's events.
    A silence already alerted by the silent-source check (``alerted`` equals ``last``)
    is not reported again when the source resumes: one alert per silence.
    """

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.alerted: dict[str, float] = {}

    def seen(self, source: str, last: float | None, alerted: float | None) -> None:
        """Take the store's view of ``source``."""
        for table, value in ((self.last, last), (self.alerted, alerted)):
            if value is None:
                table.pop(source, None)
            else:
                table[source] = value

    def observe(self, source: str, t: float, max_gap: float | None) -> Event | None:
        last = self.last.get(source)
        if last is None or t > last:
            self.last[source] = t
        if (
            last is not None
            and max_gap is not None
            and t - last > max_gap
            and self.alerted.get(source) != last
        ):
            return gap_event(source, last, t)
        return None


def gap_event(source: str, last: float, now: float, *, unseen: bool = False) -> Event:
    """The event of a silence since ``last`` (``unseen``: since the check started
    watching a source that has no event time stored)."""
    minutes = int((now - last) // 60)
    detail = f"no event for {minutes} minutes"
    if unseen:
        detail = (
            f"no event in the {minutes} minutes since the check started watching the "
            "source (it never posted, or its row in monitoring_source_seen was deleted)"
        )
    elif last > now + MAX_AHEAD:
        # ingestion never stores a time that late: the store's row was written otherwise
        detail = (
            f"the newest event time stored for the source is {int((last - now) // 60)} "
            "minutes after the server's clock (monitoring_source_seen was edited)"
        )
    return Event(
        now,
        CLS_APPLICATION_LIFECYCLE,
        APP_STOP,
        status=UNKNOWN,
        operation="log.gap",
        detail=detail,
        source=source,
        product="stagewall",
        actor=f"source:{source}",
    )


def ahead_event(source: str, count: int, latest: float, now: float) -> Event:
    """The event that says ``count`` events of ``source`` were dated after the receiving
    clock (the latest ``latest``) and stored at its time ``now`` instead."""
    minutes = int((latest - now) // 60)
    return Event(
        now,
        CLS_APPLICATION_LIFECYCLE,
        APP_STOP,
        status=UNKNOWN,
        operation="log.time_ahead",
        detail=(
            f"{count} event(s) dated up to {minutes} minutes after the server's clock, "
            "stored at the time they were received"
        ),
        source=source,
        product="stagewall",
        actor=f"source:{source}",
    )


__all__ = [
    "FirstSeen",
    "Gaps",
    "Volume",
    "WorkingHours",
    "gap_event",
    "robust_threshold",
]
