"""Map what a log says (user names, hosts, databases) to what the estate declares.

User names become principals through their declared identities (``logins``,
``github``, ``gitlab``, ``cloud``, e-mails, the principal id) and through the
database logins stagewall itself issued for grants. Hosts, databases, buckets and
repositories become resources (and so environments and tiers) through each
resource's identifiers, host and database, or the source's own ``resource``.
Whatever cannot be mapped stays visible: principal ``""`` with affiliation and
tier ``unknown``, and ``actor`` = ``unknown:<user>``.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from stagewall.estate.models import (
    DATABASE_KINDS,
    Estate,
    MonitoringSource,
    ResourceKind,
    SourceType,
)
from stagewall.monitoring.events import (
    CLS_AUTHENTICATION,
    FAILURE,
    HTTP_DETAIL,
    HTTP_UNAUTHORIZED,
    UNKNOWN,
    Event,
)
from stagewall.store import Store

_DB_SOURCES = frozenset({SourceType.POSTGRESQL, SourceType.MARIADB})
_LOGIN_SOURCES = frozenset(
    {SourceType.POSTGRESQL, SourceType.MARIADB, SourceType.SSHD, SourceType.SFTP, SourceType.GIT}
)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class GrantWindow:
    """A grant as it matters to monitoring: who, which environment, when."""

    principal: str
    environment: str
    start: float
    end: float
    resources: frozenset[str] | None = None  # None: the whole environment


class GrantIndex:
    """Answers "did P hold a grant on environment E (and resource R) at time t?"."""

    def __init__(self, windows: Iterable[GrantWindow], logins: Mapping[str, str] | None = None):
        self._by: dict[tuple[str, str], list[GrantWindow]] = {}
        for w in windows:
            self._by.setdefault((w.principal, w.environment), []).append(w)
        self._starts: dict[tuple[str, str], list[float]] = {}
        for key, items in self._by.items():
            items.sort(key=lambda w: w.start)
            self._starts[key] = [w.start for w in items]
        self.logins = dict(logins or {})
        # Equal exactly for equal grant sets (windows and issued logins), in any order:
        # compared by value, not by a hash, so a revoked grant can never look unchanged.
        self.fingerprint: tuple[frozenset[GrantWindow], frozenset[tuple[str, str]]] = (
            frozenset(w for items in self._by.values() for w in items),
            frozenset(self.logins.items()),
        )

    def active(self, principal: str, environment: str, resource: str, t: float) -> bool:
        items = self._by.get((principal, environment))
        if not items:
            return False
        hi = bisect.bisect_right(self._starts[(principal, environment)], t)
        for w in items[:hi]:
            if w.start <= t < w.end and (w.resources is None or resource in w.resources):
                return True
        return False

    @classmethod
    def from_store(cls, store: Store, estate: Estate) -> GrantIndex:
        """Every grant ever recorded (active, expired, revoked) and the logins issued for them."""
        from stagewall.access._tables import access_credentials, access_grants

        windows: list[GrantWindow] = []
        logins: dict[str, str] = {}
        g = access_grants.c
        with store.read() as conn:
            rows = conn.execute(
                select(
                    g.id, g.principal, g.role, g.environment, g.starts_at, g.ends_at, g.revoked_at
                )
            ).all()
            creds = conn.execute(
                select(access_credentials.c.grant_id, access_credentials.c.login)
            ).all()
        holder = {}
        for gid, principal, role, env, starts, ends, revoked in rows:
            end = _ts(ends)
            if revoked:
                end = min(end, _ts(revoked))
            r = estate.roles.get(role)
            windows.append(
                GrantWindow(principal, env, _ts(starts), end, frozenset(r.resources) if r else None)
            )
            holder[gid] = principal
        for gid, login in creds:
            if gid in holder:
                logins[login.lower()] = holder[gid]
        return cls(windows, logins)


@dataclass(frozen=True)
class _Res:
    name: str
    environment: str
    tier: str


# principal, actor, affiliation, principal kind, vendor, resource, claim
_Mapping = tuple[str, str, str, str, str, "_Res | None", str]

_GIT_SOURCES = frozenset({SourceType.GITHUB, SourceType.GITLAB, SourceType.GIT})
# Sources whose events' host is the parser's own constant (github.com), not the log's.
_FIXED_HOST = frozenset({SourceType.GITHUB, SourceType.GITLAB})


class EstateIndex:
    """Lookups from log names to estate names, built once per estate."""

    def __init__(self, estate: Estate, grants: GrantIndex | None = None) -> None:
        self.estate = estate
        self.grants = grants or GrantIndex(())
        self._ns: dict[str, dict[str, str]] = {
            k: {} for k in ("login", "github", "gitlab", "cloud")
        }
        for pid, p in estate.principals.items():
            ids = p.identities
            for ns, names in (
                ("login", [pid, *ids.logins, *p.emails]),
                ("github", [*ids.github, *p.emails]),
                ("gitlab", [*ids.gitlab, *p.emails]),
                ("cloud", [*ids.cloud, *ids.logins, *p.emails]),
            ):
                for n in names:
                    self._ns[ns].setdefault(n.lower(), pid)
        for login, pid in self.grants.logins.items():
            self._ns["login"].setdefault(login, pid)
        self._res: dict[str, _Res] = {}
        self._db: dict[tuple[str, str], _Res] = {}
        for name, r in estate.resources.items():
            tier = "production" if estate.is_production(r.environment) else "non-production"
            info = _Res(name, r.environment, tier)
            for ident in r.all_identifiers():
                self._res.setdefault(ident, info)
            self._res.setdefault(name.lower(), info)
            if r.kind in DATABASE_KINDS and r.database:
                self._db[((r.host or "").lower(), r.database.lower())] = info
        self._principal_cache: dict[tuple[str, str], str] = {}
        # (source type, resource and hosts, user, target, host) -> mapping; address -> network
        self._enrich_cache: dict[
            tuple[SourceType, str | None, tuple[str, ...], str, str, str, bool], _Mapping
        ] = {}
        self._speaks_for: dict[tuple[str | None, tuple[str, ...]], frozenset[str]] = {}
        self._networks: dict[str, str] = {}

    # -- principals -------------------------------------------------------------

    def principal(self, source_type: SourceType, user: str) -> str:
        key = (source_type.value, user)
        hit = self._principal_cache.get(key)
        if hit is not None:
            return hit
        ns = (
            "login"
            if source_type in _LOGIN_SOURCES
            else "cloud"
            if source_type is SourceType.CLOUDTRAIL
            else source_type.value
        )
        low = user.lower()
        # Only case is folded, not look-alikes that str.lower() also maps: U+212A KELVIN
        # SIGN lowers to "k" and U+212B ANGSTROM SIGN to "\u00e5", so a login spelled
        # with one (a different account) was another principal's, under that one's
        # grant. A name whose lower case does not upper-case back to it is no one's.
        pid = "" if low.upper() != user.upper() else self._ns[ns].get(low, "")
        if (
            not pid
            and ns == "cloud"
            and low.startswith("arn:")
            and ":assumed-role/" not in low
            and ":federated-user/" not in low
        ):
            # an IAM user's or role's name (an administrator's choice), never a
            # session's name (the caller's choice)
            pid = self._ns[ns].get(low.rsplit("/", 1)[-1], "")
        if len(self._principal_cache) > 100_000:
            self._principal_cache.clear()
        self._principal_cache[key] = pid
        return pid

    # -- resources --------------------------------------------------------------

    def speaks_for(self, src: MonitoringSource) -> frozenset[str]:
        """The host names (lower case) ``src``'s lines may carry: its ``hosts`` and the
        identifiers of its own resource and of the resources its ``hosts`` name."""
        key = (src.resource, src.hosts)
        known = self._speaks_for.get(key)
        if known is None:
            names = {h.lower() for h in src.hosts}
            for name in (*src.hosts, *([src.resource] if src.resource else [])):
                r = self.estate.resources.get(name)
                if r is not None:
                    names.add(name.lower())
                    names.update(i.lower() for i in r.all_identifiers())
                    if r.host:
                        names.add(r.host.lower())
            known = self._speaks_for[key] = frozenset(names)
        return known

    def host_claim(self, src: MonitoringSource, host: str) -> str:
        """``host:<name>`` when ``host`` (as a line writes it) names a declared resource
        that ``src`` is not declared for, else empty. Whoever writes a line chooses its
        host name: a shipper for one host must not speak for another's resource."""
        if not host or src.type in _FIXED_HOST:
            return ""
        low = host.lower()
        if low in self._res and low not in self.speaks_for(src):
            return f"host:{host}"
        return ""

    def _repository(self, target: str) -> _Res | None:
        """The declared repository a git line's path names (whole, or its last part)."""
        low = target.lower()
        hit = self._res.get(low)
        if hit is None:
            hit = self._res.get(low.rsplit("/", 1)[-1])
            if hit is not None and self._kind(hit) is not ResourceKind.REPOSITORY:
                return None
        return hit

    def serves(self, src: MonitoringSource, res: _Res) -> bool:
        """Whether ``src`` is declared for ``res``: its own resource, named in its
        ``hosts``, or (a repository) served on a host the source speaks for."""
        names = self.speaks_for(src)
        if res.name.lower() in names:
            return True
        host = self.estate.resources[res.name].host
        return bool(host) and str(host).lower() in names

    def repository_claim(self, src: MonitoringSource, target: str) -> str:
        """``repository:<path>`` when a git source's line (a plain git server's, or a
        GitHub or GitLab audit record) names a declared resource that ``src`` is not
        declared for, else empty. The path is written by whoever sends the line, as a
        syslog host name is (see :meth:`host_claim`): a shipper of one organisation's
        audit log must not speak for another's repositories."""
        if not target or src.type not in _GIT_SOURCES:
            return ""
        hit = self._repository(target)
        if hit is not None and not self.serves(src, hit):
            return f"repository:{target}"
        return ""

    def resource(self, src: MonitoringSource, ev: Event) -> _Res | None:
        own = self._res.get(src.resource.lower()) if src.resource else None
        target = ev.target.lower()
        if src.type in _DB_SOURCES and target:
            host = ""
            if src.resource:
                r = self.estate.resources.get(src.resource)
                host = (r.host or "").lower() if r else ""
            hit = self._db.get((host, target))
            if hit is not None:
                return hit
            if own is not None:
                # A database the estate does not declare (``postgres``, ``template1``,
                # a new one) is on the source's server: fail closed to its resource.
                # Mapped to nothing, an external login to ``postgres`` on the
                # production server had tier ``unknown`` and raised no alert.
                return own
            return self._res.get(target)
        if target:
            if src.type not in _GIT_SOURCES:
                hit = self._res.get(target)
                if hit is not None:
                    return hit
            else:
                hit = self._repository(target)
                if hit is not None and not self.serves(src, hit):
                    return own  # named, not served here: a claim (repository_claim)
                return hit
        host = ev.host
        if host and not self.host_claim(src, host):
            hit = self._res.get(host.lower())
            if hit is not None:
                return hit
        return own

    def _kind(self, res: _Res) -> ResourceKind:
        return self.estate.resources[res.name].kind

    # -- the whole event --------------------------------------------------------

    def enrich(self, src: MonitoringSource, ev: Event) -> None:
        user = ev.user
        # A failed authentication's user is the name the client sent (sshd's "Invalid
        # user", PostgreSQL's "password authentication failed for user", an HTTP 401):
        # a claim, never the principal (no baseline, no alert in that principal's name).
        # So is an access log's user where the source does not authenticate it (a
        # proxy logging a header or a basic-auth name it never checked).
        sent = (
            (
                ev.status == FAILURE
                and (ev.class_uid == CLS_AUTHENTICATION or ev.detail == HTTP_UNAUTHORIZED)
            )
            or (
                # a line whose program name is not proven (ingest._base.vouch)
                ev.claim[:8] == "program:"
            )
            or (
                ev.detail[:5] == HTTP_DETAIL
                and src.type is SourceType.GIT
                and not src.authenticating
                and user != ""
            )
        )
        key = (src.type, src.resource, src.hosts, user, ev.target, ev.host, sent)
        hit = self._enrich_cache.get(key)
        if hit is None:
            hit = self._mapping(src, ev, sent)
            if len(self._enrich_cache) > 100_000:
                self._enrich_cache.clear()
            self._enrich_cache[key] = hit
        pid, actor, affiliation, kind, vendor, res, claim = hit
        ev.actor = actor
        if claim and not ev.claim:  # a parser's claim (program:) stands
            ev.claim = claim
        elif ev.session and src.type is SourceType.CLOUDTRAIL:
            # A session name is the caller's: one naming a declared principal the
            # session's role does not map to is a claim, recorded and alerted.
            named = self.principal(SourceType.CLOUDTRAIL, ev.session)
            if named and named != pid:
                ev.claim = f"session:{named}"
        if pid:
            ev.principal, ev.affiliation, ev.principal_kind, ev.vendor = (
                pid,
                affiliation,
                kind,
                vendor,
            )
        if res is not None:
            ev.resource, ev.environment, ev.tier = res.name, res.environment, res.tier
        ip = ev.src_ip
        if ip:
            net = self._networks.get(ip)
            if net is None:
                if len(self._networks) > 100_000:
                    self._networks.clear()
                net = self._networks[ip] = network_of(ip)
            ev.src_network = net
        if (
            ev.class_uid == CLS_AUTHENTICATION
            and ev.tier == "production"
            and ev.activity_id == 1
            and ev.status == "success"
        ):
            ev.grant_active = bool(pid) and self.grants.active(
                pid, ev.environment, ev.resource, ev.time
            )

    def _mapping(self, src: MonitoringSource, ev: Event, sent: bool) -> _Mapping:
        """Who and where an event is, from its source, user, target and host only
        (``sent``: the user is only the name a failed authentication sent)."""
        user = ev.user
        pid = self.principal(src.type, user) if user else ""
        res = self.resource(src, ev)
        claim = self.host_claim(src, ev.host) or self.repository_claim(src, ev.target)
        if sent:
            claim, pid = claim or (f"user:{pid}" if pid else ""), ""
        if not pid:
            return "", f"unknown:{user}" if user else "unknown", "", "", "", res, claim
        p = self.estate.principals[pid]
        return pid, pid, p.affiliation.value, p.kind.value, p.vendor or "", res, claim


def network_of(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of an address; "" when it is not one.

    An IPv4-mapped IPv6 address (``::ffff:8.8.8.8``, how a dual-stack socket logs an
    IPv4 client) is its IPv4 address: its /64 would be ``::/64``, one network for the
    whole IPv4 internet, in which every new address looks seen before."""
    if ip.count(".") == 3 and ":" not in ip:
        head = ip.rsplit(".", 1)[0]
        return f"{head}.0/24"
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address):
        mapped = addr.ipv4_mapped
        if mapped is None:
            return str(ipaddress.ip_network(f"{addr}/64", strict=False))
        addr = mapped
    return str(ipaddress.ip_network(f"{addr}/24", strict=False))


__all__ = ["UNKNOWN", "EstateIndex", "GrantIndex", "GrantWindow", "network_of"]
