"""Incremental rule evaluation: single-event rules, correlations, dedup, suppression.

Each event is looked at once. Correlation state is per group and bounded: an
event_count group keeps at most ``count`` timestamps, a value_count group at most
``count`` distinct values, temporal groups one time per rule; groups idle for
longer than their window are dropped. Nothing re-reads history.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from stagewall.errors import ConfigError
from stagewall.estate.models import RuleSettings, Suppression
from stagewall.monitoring.events import FAILURE, UNKNOWN, Event, iso
from stagewall.monitoring.rules import CompiledCorrelation, CompiledRule, RuleSet
from stagewall.monitoring.rules._compile import Pred

DEFAULT_DEDUP = 3600.0
MAX_EVIDENCE = 25
_PRUNE_EVERY = 20000


@dataclass(frozen=True)
class Finding:
    """One alert: the rule, who and what, and the evidence events in the monitoring log."""

    rule: str
    rule_id: str
    title: str
    level: str
    description: str
    time: float
    actor: str
    principal: str
    user: str
    src_ip: str
    resource: str
    environment: str
    tier: str
    source: str
    count: int
    evidence: tuple[tuple[int, str, str], ...] = field(default=())  # (index, time, leaf)
    # The user names failed authentications sent (``user:<name>`` as sent): claims, never
    # principals. Set for correlations over failed logins (spraying, one name everywhere).
    claims: tuple[str, ...] = field(default=())
    # The reason of the monitoring.suppress entry that silenced this finding's alert; set
    # only for EVIDENCE_RULES, whose findings are recorded even when suppressed.
    suppressed: str = ""

    @property
    def uid(self) -> str:
        raw = f"{self.rule}|{self.time}|{','.join(str(e[0]) for e in self.evidence)}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "rule": self.rule,
            "rule_id": self.rule_id,
            "title": self.title,
            "level": self.level,
            "time": iso(self.time),
            "actor": self.actor,
            "principal": self.principal,
            "user": self.user,
            "src_ip": self.src_ip,
            "resource": self.resource,
            "environment": self.environment,
            "tier": self.tier,
            "source": self.source,
            "count": self.count,
            **({"claims": list(self.claims)} if self.claims else {}),
            **({"suppressed": self.suppressed} if self.suppressed else {}),
            "evidence": [
                {"log": "monitoring", "index": i, "time": t, "leaf_hash": leaf}
                for i, t, leaf in self.evidence
            ],
        }


def _evidence(events: Iterable[Event]) -> tuple[tuple[int, str, str], ...]:
    out = [(e.index, iso(e.time), e.leaf) for e in events]
    return tuple(out[:MAX_EVIDENCE])


def _finding(
    rule: CompiledRule | CompiledCorrelation, ev: Event, evidence: Sequence[Event]
) -> Finding:
    return Finding(
        rule=rule.name,
        rule_id=rule.id,
        title=rule.title,
        level=rule.level,
        description=rule.description.strip(),
        time=ev.time,
        actor=ev.actor,
        principal=ev.principal,
        user=ev.user,
        src_ip=ev.src_ip,
        resource=ev.resource,
        environment=ev.environment,
        tier=ev.tier,
        source=ev.source,
        count=len(evidence),
        evidence=_evidence(evidence),
    )


def _correlated(corr: CompiledCorrelation, ev: Event, evidence: Sequence[Event]) -> Finding:
    """A correlation's finding. Who it names is what its evidence agrees on: events of
    several actors (a client trying many names) name none (``unknown``). The names failed
    authentications sent are listed as claims."""
    f = _finding(corr, ev, evidence)
    actor, principal, user = f.actor, f.principal, f.user
    if any(e.actor != actor for e in evidence):
        actor = UNKNOWN
    if any(e.principal != principal for e in evidence):
        principal = ""
    if any(e.user != user for e in evidence):
        user = ""
    claims = sorted(
        {f"user:{e.user}" for e in evidence if e.status == FAILURE and e.user and not e.principal}
    )
    if (actor, principal, user) == (f.actor, f.principal, f.user) and not claims:
        return f
    return replace(
        f, actor=actor, principal=principal, user=user, claims=tuple(claims[:MAX_EVIDENCE])
    )


# Rules whose findings are the evidence that someone reached production (an external or
# unknown login; a login without a grant): monitoring.suppress may silence their alerts,
# never their record, so the evidence (access.external_production,
# access.production_approvals) sees them whatever the configuration says.
EVIDENCE_RULES = frozenset({"external_production_access", "production_login_without_grant"})


class _Suppressor:
    def __init__(self, items: Sequence[Suppression]) -> None:
        self._items = []
        # how each entry is named where its effect is counted (ingest report, audit)
        self.labels: dict[int, str] = {}
        for i, s in enumerate(items):
            self.labels[id(s)] = f"monitoring.suppress[{i}] ({s.reason})"
            net = None
            if s.src_ip:
                try:
                    net = ipaddress.ip_network(s.src_ip, strict=False)
                except ValueError:
                    raise ConfigError(
                        f"monitoring.suppress: {s.src_ip!r} is not an address or CIDR network"
                    ) from None
            until = (
                datetime.combine(s.until, datetime.max.time(), tzinfo=UTC).timestamp()
                if s.until
                else None
            )
            self._items.append((s, net, until))

    def suppressed(self, f: Finding) -> bool:
        return self.match(f) is not None

    def match(self, f: Finding) -> Suppression | None:
        """The suppression that silences ``f`` (None: none does)."""
        for s, net, until in self._items:
            if s.rule != f.rule or (until is not None and f.time > until):
                continue
            if s.principal is not None and s.principal != f.principal:
                continue
            if s.user is not None and s.user != f.user:
                continue
            if s.resource is not None and s.resource != f.resource:
                continue
            if net is not None:
                try:
                    if ipaddress.ip_address(f.src_ip) not in net:
                        continue
                except ValueError:
                    continue
            return s
        return None


_MAX_CANDIDATE_KEYS = 4096
_MAX_PICKS = 4096  # combinations of text values kept (the labelled month has 52)

# The text fields with few distinct values (estate names, outcomes, operations) that
# rules are pre-selected by. Picks are kept only for values that are all plain str, so
# a value found among them equals a str (parsers and enrichment write plain str; no
# str subclass), and is matched alike; 1, 1.0 and True are equal but are not matched
# alike, so a non-text value is never cached (tests/monitoring/test_rule_picks.py).
SELECT_FIELDS = (
    "affiliation",
    "claim",  # empty, or host:/session: with a declared resource's or principal's name
    "environment",
    "operation",
    "principal_kind",
    "product",
    "resource",
    "source",
    "status",
    "tier",
    "vendor",
    "volume_anomaly",
)


@dataclass
class _Plan:
    """The rules an event of one class and product can meet, and how they are picked.

    ``fields`` are the :data:`SELECT_FIELDS` the rules' necessary conditions read
    (``CompiledRule.needs``); ``picks`` maps the event's values of them (all text)
    to the rules whose necessary conditions those values pass, in the rules' order.
    Only those are evaluated: a rule whose necessary condition fails cannot match.
    """

    rules: tuple[CompiledRule, ...]
    fields: tuple[str, ...]
    read: Callable[[Event], Any] | None
    tests: tuple[tuple[CompiledRule, tuple[Pred, ...]], ...]
    picks: dict[tuple[Any, ...], tuple[CompiledRule, ...]] = field(default_factory=dict)


def _plan(rules: Sequence[CompiledRule]) -> _Plan:
    wanted = set(SELECT_FIELDS)
    fields = tuple(sorted({f for r in rules for f, _t in r.needs if f in wanted}))
    tests = tuple((r, tuple(t for f, t in r.needs if f in wanted)) for r in rules)
    if not fields:
        return _Plan(tuple(rules), (), None, tests)
    # attrgetter of two or more names gives a tuple; with one field, "product" (the
    # same for every event of a plan) makes it two
    names = fields if len(fields) > 1 else (*fields, "product")
    return _Plan(tuple(rules), fields, attrgetter(*names), tests)


class Detector:
    """Runs a :class:`RuleSet` over events in time order; returns findings."""

    def __init__(
        self,
        rules: RuleSet,
        settings: dict[str, RuleSettings] | None = None,
        suppress: Sequence[Suppression] = (),
    ) -> None:
        self.rules = rules
        settings = settings or {}
        self._dedup = {
            name: (s.dedup.total_seconds() if s.dedup is not None else DEFAULT_DEDUP)
            for name, s in settings.items()
        }
        self._suppress = _Suppressor(suppress)
        self._feeds: dict[str, list[CompiledCorrelation]] = {}
        for corr in rules.correlations:
            for name in corr.rules:
                self._feeds.setdefault(name, []).append(corr)
        self._active = [r for r in rules.rules if r.name in rules.emitting or r.name in self._feeds]
        # The rules an event can meet by its logsource (class and product), computed
        # once per combination: a large rule set costs a dict lookup per event, not
        # two set tests per rule; then picked by the event's text fields (see _Plan).
        self._candidates: dict[tuple[int, str], _Plan] = {}
        self._picks = 0
        self._groups: dict[str, dict[tuple[Any, ...], Any]] = {
            c.name: {} for c in rules.correlations
        }
        self._fired: dict[tuple[str, str, str], float] = {}
        self._seen = 0
        self.suppressed = 0
        # (rule, suppression entry) -> findings it silenced, every rule's (EVIDENCE_RULES
        # findings are also recorded one by one; the others only here)
        self.suppressed_by: Counter[tuple[str, str]] = Counter()
        self.evaluated = 0

    # -- evaluation -------------------------------------------------------------

    def process(self, events: Iterable[Event]) -> list[Finding]:
        out: list[Finding] = []
        emitting = self.rules.emitting
        feeds = self._feeds
        cache = self._candidates
        seen = before = self._seen  # counted in a local, stored once per call
        try:
            for ev in events:
                seen += 1
                key = (ev.class_uid, ev.product)
                plan = cache.get(key)
                if plan is None:
                    plan = self._select(key)
                read = plan.read
                if read is None:
                    candidates = plan.rules
                else:
                    values = read(ev)
                    picked = plan.picks.get(values)
                    candidates = self._pick(plan, values, ev) if picked is None else picked
                for rule in candidates:
                    if not rule.match(ev):
                        continue
                    if rule.name in emitting:
                        self._emit(out, _finding(rule, ev, [ev]), rule.name, ev)
                    for corr in feeds.get(rule.name, ()):
                        self._correlate(out, corr, rule.name, ev)
                if seen % _PRUNE_EVERY == 0:
                    self._prune(ev.time)
        finally:
            self._seen = seen
            self.evaluated += seen - before
        return out

    def _select(self, key: tuple[int, str]) -> _Plan:
        cls, product = key
        out = []
        for rule in self._active:
            if rule.classes is not None and cls not in rule.classes:
                continue
            if rule.products is not None and product not in rule.products:
                continue
            out.append(rule)
        if len(self._candidates) >= _MAX_CANDIDATE_KEYS:
            self._candidates.clear()
            self._picks = 0
        found = self._candidates[key] = _plan(out)
        return found

    def _pick(self, plan: _Plan, values: tuple[Any, ...], ev: Event) -> tuple[CompiledRule, ...]:
        """The plan's rules whose necessary conditions ``ev`` passes (kept for ``values``
        when they are all text: the tests read those fields only)."""
        picked = tuple(r for r, tests in plan.tests if all(t(ev) for t in tests))
        if all(v.__class__ is str for v in values):
            if self._picks >= _MAX_PICKS:
                for other in self._candidates.values():
                    other.picks.clear()
                self._picks = 0
            plan.picks[values] = picked
            self._picks += 1
        return picked

    def _emit(self, out: list[Finding], f: Finding, name: str, ev: Event) -> None:
        who = f.actor
        if who == UNKNOWN and f.claims:
            who = f"{UNKNOWN}@{ev.src_client}"  # several names from one client: per client
        key = (name, who, f.resource if f.resource else f.src_ip)
        window = self._dedup.get(name, DEFAULT_DEDUP)
        last = self._fired.get(key)
        if last is not None and 0 <= ev.time - last < window:
            return
        self._fired[key] = ev.time
        hit = self._suppress.match(f)
        if hit is not None:
            self.suppressed += 1
            self.suppressed_by[(f.rule, self._suppress.labels.get(id(hit), hit.reason))] += 1
            if f.rule not in EVIDENCE_RULES:
                return
            # silenced, not hidden: the finding still goes to the audit log (no alert)
            f = replace(f, suppressed=hit.reason)
        out.append(f)

    def _correlate(
        self, out: list[Finding], corr: CompiledCorrelation, rule: str, ev: Event
    ) -> None:
        key = tuple(ev.get(f) for f in corr.group_by)
        groups = self._groups[corr.name]
        span = corr.timespan
        need = corr.count + (1 if corr.op == ">" else 0)
        t = ev.time
        if corr.type == "event_count":
            dq = groups.get(key)
            if dq is None:
                dq = groups[key] = deque(maxlen=need)
            dq.append(ev)
            if len(dq) == need and t - dq[0].time <= span:
                del groups[key]
                self._emit(out, _correlated(corr, ev, list(dq)), corr.name, ev)
        elif corr.type == "value_count":
            values = groups.get(key)
            if values is None:
                values = groups[key] = {}
            values[ev.get(corr.field or "")] = ev
            for v in [v for v, e in values.items() if t - e.time > span]:
                del values[v]
            if len(values) >= need:
                del groups[key]
                evidence = sorted(values.values(), key=lambda e: e.time)
                self._emit(out, _correlated(corr, ev, evidence), corr.name, ev)
        else:
            seen = groups.get(key)
            if seen is None:
                seen = groups[key] = {}
            seen[rule] = ev
            fresh = [seen.get(r) for r in corr.rules]
            if all(e is not None and t - e.time <= span for e in fresh):
                times = [e.time for e in fresh if e is not None]
                if corr.type == "temporal" or times == sorted(times):
                    del groups[key]
                    self._emit(out, _correlated(corr, ev, [e for e in fresh if e]), corr.name, ev)

    def _prune(self, now: float) -> None:
        for corr in self.rules.correlations:
            groups = self._groups[corr.name]
            span = corr.timespan
            stale = []
            for key, state in groups.items():
                if isinstance(state, deque):
                    newest = state[-1].time if state else 0.0
                else:
                    newest = max((e.time for e in state.values()), default=0.0)
                if now - newest > span:
                    stale.append(key)
            for key in stale:
                del groups[key]
        longest = max([DEFAULT_DEDUP, *self._dedup.values()])
        for key in [k for k, t in self._fired.items() if now - t > longest]:
            del self._fired[key]

    def state_size(self) -> int:
        """How many items the detector holds (for the bounded-memory test)."""
        groups = sum(len(s) for g in self._groups.values() for s in g.values())
        return groups + len(self._fired)


__all__ = ["Detector", "Finding"]
