"""Ingest: lines -> events -> estate context -> monitoring log -> rules -> findings.

:func:`ingest_lines` is the one entry point: the CLI (``stagewall ingest``) and the
server's ingest endpoint both call it with an :class:`IngestContext` they keep
for as long as they read (parsers keep multi-line records and PID joins, the
detector its correlation windows). Malformed lines are counted and reported;
they never stop ingestion.
"""

from __future__ import annotations

import hashlib
import threading
import time as _time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from stagewall.alerts import Alert, AlertDispatcher, AlertSink, Severity
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import UnknownLogSource
from stagewall.estate.models import Estate, MonitoringSource
from stagewall.identity._seal import token_key
from stagewall.monitoring import _once, _seen
from stagewall.monitoring._audit import FINDING_CREATED, INGEST_BATCH
from stagewall.monitoring._once import PostKey
from stagewall.monitoring.baselines import (
    MAX_AHEAD,
    FirstSeen,
    Gaps,
    Volume,
    WorkingHours,
    ahead_event,
    gap_event,
)
from stagewall.monitoring.detect import Detector, Finding
from stagewall.monitoring.enrich import EstateIndex, GrantIndex
from stagewall.monitoring.events import Event, iso
from stagewall.monitoring.ingest import LineError, Parser, parser_for
from stagewall.monitoring.log import MonitorLog
from stagewall.monitoring.rules import RuleSet, load_rules
from stagewall.store import Store

CHUNK = 5000
MAX_SAMPLES = 10
_STATE_KEY = "baselines"
_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.CRITICAL,
    "medium": Severity.WARNING,
    "low": Severity.WARNING,
    "informational": Severity.INFO,
}


@dataclass
class IngestReport:
    """What one call of :func:`ingest_lines` did."""

    source: str
    lines: int = 0
    events: int = 0
    malformed: int = 0
    malformed_samples: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    suppressed: int = 0
    # rule -> {suppression entry: findings it silenced} (every rule, not only the recorded)
    suppressed_by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    first_index: int | None = None
    last_index: int | None = None
    head: str = ""
    alert_failures: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # e.g. the ingest token of a post
    first_line: int = 1  # number of this call's first line in the source's stream
    # The answer an earlier post with the same Idempotency-Key and body got: this call
    # stored, counted and alerted nothing (see _once.py)
    replayed: dict[str, Any] | None = None

    def answer(self) -> dict[str, Any]:
        """What a shipper is told of its post (the ingest API's answer).

        Not the findings, the suppressions that silenced them (with their reasons) or
        the alert sinks that failed: a shipper's token is the least trusted credential
        the server takes, and a compromised shipper would tune its forged lines against
        them, or learn that alerts are not getting through. The findings are in the
        audit log and the alert sinks; the batch's audit event counts them."""
        if self.replayed is not None:
            return {**self.replayed, "replayed": True}
        out: dict[str, Any] = {
            "source": self.source,
            "lines": self.lines,
            "events": self.events,
            "malformed": self.malformed,
            "first_index": self.first_index,
            "last_index": self.last_index,
            "head": self.head,
        }
        # Malformed lines numbered within this body, not within the source's stream.
        out["malformed_samples"] = [
            {**s, "line": int(s["line"]) - self.first_line + 1} for s in self.malformed_samples
        ]
        out["replayed"] = False
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "lines": self.lines,
            "events": self.events,
            "malformed": self.malformed,
            "malformed_samples": self.malformed_samples,
            "findings": [f.to_json() for f in self.findings],
            "suppressed": self.suppressed,
            "suppressed_by_rule": self.suppressed_by_rule,
            "first_index": self.first_index,
            "last_index": self.last_index,
            "head": self.head,
            "alert_failures": self.alert_failures,
        }


def _section(saved: dict[str, Any], key: str) -> dict[str, Any]:
    value = saved.get(key)
    return value if isinstance(value, dict) else {}


class IngestContext:
    """Everything ingestion keeps between calls, for one estate and one store."""

    def __init__(
        self,
        estate: Estate,
        store: Store,
        *,
        audit: AuditLog | None = None,
        sinks: Sequence[AlertSink] = (),
        base_dir: Path | None = None,
        grants: GrantIndex | None = None,
        rules: RuleSet | None = None,
        year: int | None = None,
        clock: Callable[[], float] = _time.time,
    ) -> None:
        mon = estate.monitoring
        self.estate = estate
        # Its own handle that keeps connections between batches (see close()).
        self.store = store.kept_open()
        self.log = MonitorLog(store)
        self.audit = audit if audit is not None else AuditLog(store)
        self.dispatcher = AlertDispatcher(sinks)
        rules_dir = None
        if mon.rules_dir:
            rules_dir = Path(mon.rules_dir)
            if not rules_dir.is_absolute() and base_dir is not None:
                rules_dir = base_dir / rules_dir
        self.rules = rules if rules is not None else load_rules(mon.rules, rules_dir)
        self.detector = Detector(self.rules, mon.rules, mon.suppress)
        # Grants read from the store are re-read before every batch: a long-running
        # server must see a grant approved a second ago. Given grants are fixed.
        self._live_grants = grants is None
        self.index = EstateIndex(
            estate, grants if grants is not None else GrantIndex.from_store(store, estate)
        )
        self.hours = WorkingHours(estate)
        self.first_seen = FirstSeen()
        self.volume = Volume(mon.rules.get("large_read_volume"))
        self.gaps = Gaps()
        self.year = year
        # The receiving clock: no event is stored, judged or counted as later than
        # MAX_AHEAD past it (see _ingest).
        self.clock = clock
        self._parsers: dict[str, Parser] = {}
        self._line_no: dict[str, int] = {}
        # One batch at a time: parsers, baselines and the detector are not thread-safe,
        # and a server may call ingest_lines for several sources at once.
        self.lock = threading.RLock()
        saved = self.log.load_state(_STATE_KEY)
        if saved:
            self.first_seen.load(_section(saved, "first_seen"))
            self.volume.load(_section(saved, "volume"))
            # Newest event times are in monitoring_source_seen (shared by instances).

    def close(self) -> None:
        """Release the connections kept between batches."""
        self.store.dispose()

    def __enter__(self) -> IngestContext:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def refresh_grants(self) -> None:
        """Re-read grants; the index (and its caches) is rebuilt only when they changed."""
        if self._live_grants:
            grants = GrantIndex.from_store(self.store, self.estate)
            if grants.fingerprint != self.index.grants.fingerprint:
                self.index = EstateIndex(self.estate, grants)

    def source(self, name: str) -> MonitoringSource:
        src = self.estate.monitoring.sources.get(name)
        if src is None:
            known = ", ".join(sorted(self.estate.monitoring.sources)) or "none declared"
            raise UnknownLogSource(
                f"log source {name!r} is not declared in stagewall.yaml (known: {known})"
            )
        return src

    def parser(self, name: str) -> Parser:
        p = self._parsers.get(name)
        if p is None:
            src = self.source(name)
            p = self._parsers[name] = parser_for(src.type.value, year=self.year)
            p.configure(src)
        return p

    def save_state(self, conn: Connection | None = None) -> None:
        self.log.save_state(
            _STATE_KEY,
            {
                "first_seen": self.first_seen.to_json(),
                "volume": self.volume.to_json(),
            },
            conn=conn,
        )

    # -- the pipeline -----------------------------------------------------------

    def _enrich(
        self,
        name: str,
        src: MonitoringSource,
        events: list[Event],
        ahead: list[tuple[Event, float]] | None = None,
    ) -> list[Event]:
        """``events`` mapped to the estate and judged by the baselines (with the gap events
        they reveal); ``ahead`` lists the events whose time was the receiving clock's
        instead of their own (kept as their claim when they have none)."""
        out: list[Event] = []
        gap = src.max_gap.total_seconds() if src.max_gap is not None else None
        res = self.index.estate.resources.get(src.resource) if src.resource else None
        # bound methods hoisted out of the per-event loop (same calls, same order)
        observe, enrich, append = self.gaps.observe, self.index.enrich, out.append
        hours, first_seen, volume = self.hours.judge, self.first_seen.judge, self.volume.judge
        for ev in events:
            if gap is not None:  # only sources with a max_gap are watched for silences
                missing = observe(name, ev.time, gap)
                if missing is not None:
                    self._place(missing, src, res is not None)
                    append(missing)
            enrich(src, ev)
            if ev.principal:
                hours(ev)
                first_seen(ev)
                volume(ev)
            append(ev)
        if ahead:
            for ev, claimed in ahead:
                if not ev.claim:  # a mapping's claim (host:, user:...) stands
                    ev.claim = f"time:{iso(claimed)}"
            ahead.clear()
        return out

    def _place(self, ev: Event, src: MonitoringSource, declared: bool) -> None:
        if declared and src.resource:
            ev.resource = src.resource
            env = self.estate.resources[src.resource].environment
            ev.environment = env
            ev.tier = "production" if self.estate.is_production(env) else "non-production"

    def _store_and_detect(
        self, conn: Connection, events: list[Event], report: IngestReport
    ) -> None:
        if not events:
            return
        head = self.log.append(events, conn=conn)
        if report.first_index is None:
            report.first_index = events[0].index
        report.last_index = events[-1].index
        report.head = head.chain.hex()
        report.events += len(events)
        before = self.detector.suppressed
        counted = self.detector.suppressed_by.copy()
        report.findings += self.detector.process(events)
        report.suppressed += self.detector.suppressed - before
        for (rule, by), n in (self.detector.suppressed_by - counted).items():
            per = report.suppressed_by_rule.setdefault(rule, {})
            per[by] = per.get(by, 0) + n

    def record(self, conn: Connection, report: IngestReport) -> None:
        """Findings and the batch anchor to the audit log (in ``conn``'s transaction)."""
        entries = [finding_event(f) for f in report.findings]
        if report.events:
            entries.append(
                AuditEvent(
                    code=INGEST_BATCH.code,
                    status=Status.SUCCESS,
                    actor="stagewall-ingest",
                    message=f"{report.events} event(s) from {report.source} appended to the "
                    "monitoring log",
                    details={
                        "source": report.source,
                        "lines": report.lines,
                        "events": report.events,
                        "malformed": report.malformed,
                        "first_index": report.first_index,
                        "last_index": report.last_index,
                        "monitoring_head": report.head,
                        "findings": len(report.findings),
                        **(
                            {
                                "suppressed": report.suppressed,
                                "suppressed_by_rule": report.suppressed_by_rule,
                            }
                            if report.suppressed
                            else {}
                        ),
                        **({"origin": dict(report.origin)} if report.origin else {}),
                    },
                )
            )
        if entries:
            self.audit.append_many(entries, conn=conn)

    def alert(self, report: IngestReport) -> None:
        """Send the findings to the alert sinks (after the transaction committed)."""
        for f in report.findings:
            if f.suppressed:
                continue  # recorded in the audit log as evidence, its alert silenced
            for failure in self.dispatcher.send(finding_alert(f)):
                report.alert_failures.append(f"{failure.sink}: {failure.error}")


def ingest_lines(
    source: str,
    lines: Iterable[str],
    ctx: IngestContext,
    *,
    final: bool = False,
    origin: dict[str, str] | None = None,
    once: PostKey | None = None,
) -> IngestReport:
    """Parse, normalise, store and evaluate ``lines`` of ``source``.

    ``final`` ends the input (a record still buffered, e.g. an unterminated JSON
    document, then counts as malformed). Line numbers continue across calls. Calls
    on one context are serialised (safe to share between server threads).
    ``origin`` is recorded in the batch's audit event (who sent the lines). With
    ``once`` (a post's Idempotency-Key) a post already taken is answered again and
    nothing is ingested (see _once.py).
    """
    with ctx.lock:
        report = _ingest(source, lines, ctx, final, origin or {}, once)
    ctx.alert(report)
    return report


def _ingest(
    source: str,
    lines: Iterable[str],
    ctx: IngestContext,
    final: bool,
    origin: dict[str, str],
    once: PostKey | None,
) -> IngestReport:
    src = ctx.source(source)
    ctx.refresh_grants()
    parser = ctx.parser(source)
    product = src.type.value
    report = IngestReport(source, origin=origin)
    line_no = ctx._line_no.get(source, 0)
    report.first_line = line_no + 1
    pending: list[Event] = []
    sha = hashlib.sha256
    feed = parser.feed
    # Whoever writes a line chooses its time. An event dated after the receiving clock
    # (plus MAX_AHEAD for clocks that disagree a little) is stored at the clock's time,
    # its own kept as its claim: one dated 2099 made the source's newest event 2099 (its
    # silence never alerted again), pruned every source's correlation windows and the
    # dedup memory, and started a principal's learning period in the future.
    now = ctx.clock()
    latest = now + MAX_AHEAD
    ahead = _Ahead(now)

    def bad(reason: str, line_no: int) -> None:
        report.malformed += 1
        if len(report.malformed_samples) < MAX_SAMPLES:
            report.malformed_samples.append({"line": line_no, "reason": reason})

    with ctx.store.transaction() as conn:
        if once is not None:
            # Claimed before a line is parsed, in the transaction that stores them: the
            # lines and the claim are stored together or not at all.
            earlier = _once.claim(conn, token_key(ctx.store), source, once, now)
            if earlier is not None:
                report.replayed = earlier
                return report
        tracked = src.max_gap is not None
        if tracked:
            ctx.gaps.seen(source, *_seen.hold(conn, source, now))
        for line_no, line in enumerate(lines, report.first_line):
            text = line.rstrip("\r\n")
            plain = text.isascii()
            try:
                events = feed(text if plain else _valid_text(text))
            except LineError as exc:
                bad(str(exc), line_no)
                continue
            except Exception as exc:  # a parser bug must not stop a follower
                bad(f"parser failure ({exc.__class__.__name__})", line_no)
                continue
            if events:
                # ASCII text encodes the same with or without the error handler
                raw = text.encode() if plain else text.encode("utf-8", "surrogateescape")
                digest = sha(raw).hexdigest()
                for ev in events:
                    ev.source = source
                    ev.product = product
                    ev.raw_hash = digest
                    if ev.time > latest:
                        ahead.take(ev)
                pending += events
                if len(pending) >= CHUNK:
                    events = ctx._enrich(source, src, pending, ahead.events)
                    ctx._store_and_detect(conn, events, report)
                    pending = []
        report.lines = line_no - report.first_line + 1
        if final:
            try:
                flushed = parser.flush()
            except LineError as exc:
                bad(str(exc), line_no)
            else:
                for ev in flushed:
                    ev.source, ev.product = source, product
                    if ev.time > latest:
                        ahead.take(ev)
                pending += flushed
        ctx._line_no[source] = line_no
        events = ctx._enrich(source, src, pending, ahead.events)
        if ahead.count:
            late = ahead_event(source, ahead.count, ahead.latest, now)
            ctx._place(late, src, src.resource is not None)
            events.append(late)
        ctx._store_and_detect(conn, events, report)
        newest = ctx.gaps.last.get(source)
        if tracked and newest is not None:
            _seen.advance(conn, source, newest, now)
        ctx.record(conn, report)
        ctx.save_state(conn)
        if once is not None:
            _once.answer(conn, token_key(ctx.store), source, once, report.answer())
    return report


@dataclass
class _Ahead:
    """The events of one call dated after the receiving clock ``now`` (see _ingest)."""

    now: float
    events: list[tuple[Event, float]] = field(default_factory=list)  # not yet enriched
    count: int = 0
    latest: float = 0.0

    def take(self, ev: Event) -> None:
        """Store ``ev`` at ``now``; its own time becomes its claim once it is enriched."""
        self.events.append((ev, ev.time))
        self.count += 1
        self.latest = max(self.latest, ev.time)
        ev.time = self.now


def _valid_text(text: str) -> str:
    """``text`` with undecodable bytes (surrogate escapes) as U+FFFD.

    Files are read with ``surrogateescape`` so that the raw hash covers the bytes as
    they were; the parsed fields must be valid Unicode, or a single bad byte in a
    user name (which an attacker can put into a database's log) would stop the
    store write and with it the follower.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def check_gaps(ctx: IngestContext, now: float | None = None) -> list[Finding]:
    """Gap events for every source silent longer than its ``max_gap``, evaluated and recorded."""
    t = _time.time() if now is None else now
    findings: list[Finding] = []
    with ctx.lock:
        reports = _gaps(ctx, t)
    for report in reports:
        ctx.alert(report)
        findings += report.findings
    return findings


def _gaps(ctx: IngestContext, t: float) -> list[IngestReport]:
    reports: list[IngestReport] = []
    for name, src in ctx.estate.monitoring.sources.items():
        if src.max_gap is None:
            continue
        report = IngestReport(name)
        with ctx.store.transaction() as conn:
            # Claimed in the store: one alert per silence across instances and leaders;
            # rolled back with the finding if recording it fails (retried next check).
            # A source with no stored time (it never posted, or its row was deleted) is
            # watched from now on.
            _seen.watch(conn, name, t)
            gap = src.max_gap.total_seconds()
            last = _seen.claim_silence(conn, name, t, gap)
            unseen = last is None
            if unseen:
                last = _seen.claim_unseen(conn, name, t, gap)
            if last is None:
                continue
            ev = gap_event(name, last, t, unseen=unseen)
            ctx._place(ev, src, src.resource is not None)
            ctx._store_and_detect(conn, [ev], report)
            ctx.record(conn, report)
            ctx.save_state(conn)
        if not unseen:
            ctx.gaps.seen(name, last, last)
        reports.append(report)
    return reports


def finding_event(f: Finding) -> AuditEvent:
    """The OCSF Detection Finding (2004) for the audit log."""
    who = f.principal or f.actor
    where = f" on {f.resource}" if f.resource else ""
    return AuditEvent(
        code=FINDING_CREATED.code,
        status=Status.SUCCESS,
        actor="stagewall-monitoring",
        resource=f.resource or None,
        message=f"{f.title}: {who}{where}",
        details={
            "finding_info": {
                "uid": f.uid,
                "title": f.title,
                "desc": f.description,
                "analytic": {"name": f.rule, "uid": f.rule_id, "type": "Rule"},
                "first_seen_time": f.evidence[0][1] if f.evidence else iso(f.time),
                "last_seen_time": iso(f.time),
            },
            "severity": f.level,
            "is_alert": not f.suppressed,
            **({"suppressed": f.suppressed} if f.suppressed else {}),
            "suspect": {
                "actor": f.actor,
                "principal": f.principal,
                "user": f.user,
                "src_ip": f.src_ip,
                "environment": f.environment,
                "tier": f.tier,
                "source": f.source,
            },
            "evidence_count": f.count,
            "evidences": [
                {"log": "monitoring", "index": i, "time": t, "leaf_hash": leaf}
                for i, t, leaf in f.evidence
            ],
        },
    )


def finding_alert(f: Finding) -> Alert:
    who = f.principal or f.actor
    where = f" on {f.resource} ({f.environment})" if f.resource else ""
    text = f"{f.title}: {who}{where} at {iso(f.time)}"
    if f.src_ip:
        text += f" from {f.src_ip}"
    text += f"; {f.count} evidence event(s) in the monitoring log."
    return Alert(
        kind=f"monitoring.{f.rule}",
        title=f"{f.title}: {who}",
        text=text,
        severity=_SEVERITY.get(f.level, Severity.WARNING),
        details={"finding": f.to_json()},
    )


__all__ = [
    "IngestContext",
    "IngestReport",
    "check_gaps",
    "finding_alert",
    "finding_event",
    "ingest_lines",
]
