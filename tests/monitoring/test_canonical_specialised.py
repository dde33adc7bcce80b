"""The specialised canonical writer against the writer it replaced (commit ce5f6d4).

The per-identity fragment caches must give the same bytes as writing every field per
event: on random events (hypothesis) and on every event of the labelled month, with
the month's own enrichment and baselines.
"""

from __future__ import annotations

import json.encoder

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.audit._canonical import canonical_bytes
from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext
from stagewall.monitoring._canonical import canonical
from stagewall.monitoring.events import FAILURE, SUCCESS, Event, _shape, iso
from stagewall.store import Store
from tests.monitoring.replay import SOURCES, generate
from tests.monitoring.test_canonical import events, shapes

_S = json.encoder.encode_basestring
_META_TAIL = ',"product":{"name":%s,"vendor_name":"stagewall ingest"},"version":"1.3.0"}'


def _bool(value: bool) -> str:
    return "true" if value else "false"


# the previous writer, frozen: a list of parts per event, every field escaped per event
def _previous(ev: Event, index: int, prev_hash: str, time_text: str) -> bytes:
    cls, activity_name, class_name, code = _shape(ev.product, ev.class_uid, ev.activity_id)
    start = f'{{"activity_id":{ev.activity_id},"activity_name":{_S(activity_name)}'
    middle = f',"category_uid":{cls // 1000},"class_name":{_S(class_name)},"class_uid":{cls}'
    meta = f',"metadata":{{"event_code":{_S(code)},"log_index":'
    s = _S
    parts = [start]
    user = f'{{"name":{s(ev.user)}' + (f',"uid":{s(ev.principal)}}}' if ev.principal else "}")
    if cls != 3002:
        parts.append(f',"actor":{{"user":{user}}}')
    if cls == 6003:
        parts.append(f',"api":{{"operation":{s(ev.operation)}}}')
    if cls == 3002 and ev.detail:
        parts.append(f',"auth_protocol":{s(ev.detail)}')
    parts.append(middle)
    if cls == 6005:
        if ev.product == "cloudtrail":
            parts.append(f',"databucket":{{"name":{s(ev.target)}}}')
        elif ev.target:
            parts.append(f',"database":{{"name":{s(ev.target)}}}')
    if ev.host:
        parts.append(f',"dst_endpoint":{{"hostname":{s(ev.host)}}}')
    if cls == 6006:
        parts.append(f',"file":{{"name":{s(ev.object)},"size":{ev.bytes}}}')
    parts.append(f'{meta}{index},"prev_hash":{s(prev_hash)}')
    parts.append(_META_TAIL % s(ev.product))
    if cls == 6005 and ev.detail:
        parts.append(f',"query_info":{{"query_string":{s(ev.detail)}}}')
    if cls == 6003 and ev.target:
        parts.append(f',"resources":[{{"name":{s(ev.target)}}}]')
    if ev.session:
        parts.append(f',"session":{{"uid":{s(ev.session)}}}')
    parts.append(',"severity_id":1')
    if ev.src_ip:
        parts.append(f',"src_endpoint":{{"ip":{s(ev.src_ip)}}}')
    status = ev.status
    parts.append(f',"status_id":{1 if status == SUCCESS else 2 if status == FAILURE else 0}')
    if cls == 6005 and ev.object:
        parts.append(f',"table":{{"name":{s(ev.object)}}}')
    parts.append(f',"time":{s(time_text)},"type_uid":{cls * 100 + ev.activity_id}')
    u = [f',"unmapped":{{"actor":{s(ev.actor)},"affiliation":{s(ev.affiliation)}']
    if ev.bytes:
        u.append(f',"bytes":{ev.bytes}')
    if ev.claim:
        u.append(f',"claim":{s(ev.claim)}')
    if ev.resource:
        u.append(f',"environment":{s(ev.environment)}')
    if ev.first_seen_network is not None:
        u.append(f',"first_seen_network":{_bool(ev.first_seen_network)}')
    if ev.grant_active is not None:
        u.append(f',"grant_active":{_bool(ev.grant_active)}')
    u.append(f',"log_name":{s(ev.source)}')
    if ev.off_hours is not None:
        u.append(f',"off_hours":{_bool(ev.off_hours)}')
    if ev.operation:
        u.append(f',"operation":{s(ev.operation)}')
    u.append(f',"principal_kind":{s(ev.principal_kind)}')
    if ev.raw_hash:
        u.append(f',"raw_sha256":{s(ev.raw_hash)}')
    if ev.resource:
        u.append(f',"resource":{s(ev.resource)}')
    if ev.rows:
        u.append(f',"rows":{ev.rows}')
    if ev.target:
        u.append(f',"target":{s(ev.target)}')
    u.append(f',"tier":{s(ev.tier)}')
    if ev.vendor:
        u.append(f',"vendor":{s(ev.vendor)}')
    if ev.volume_anomaly:
        u.append(f',"volume_anomaly":{s(ev.volume_anomaly)}')
    u.append("}")
    parts += u
    if cls == 3002:
        parts.append(f',"user":{user}')
    parts.append("}")
    return "".join(parts).encode("utf-8", "surrogateescape")


# few distinct values, so that the caches are hit with changing neighbours
few = st.sampled_from(["", "alice", "bob", 'q"uote', "\u00e9t\u00e9", "unknown"])
opt_bool = st.none() | st.booleans()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(events(), min_size=1, max_size=4),
    st.lists(st.tuples(few, few, few, few, few, few, opt_bool, opt_bool, opt_bool), max_size=4),
    st.integers(0, 2**40),
    st.text(alphabet="0123456789abcdef", max_size=64),
)
def test_same_bytes_as_the_previous_writer(
    evs: list[Event],
    idents: list[tuple],  # type: ignore[type-arg]
    index: int,
    prev: str,
) -> None:
    for ev, ident in zip(evs, idents, strict=False):
        (ev.user, ev.principal, ev.actor, ev.resource, ev.tier, ev.vendor) = ident[:6]
        ev.off_hours, ev.grant_active, ev.first_seen_network = ident[6:]
    for ev in evs + evs:  # twice: the second round reads the cached fragments
        when = iso(ev.time)
        assert canonical(ev, index, prev, when) == _previous(ev, index, prev, when)


def test_same_bytes_on_the_labelled_month(tmp_path) -> None:  # type: ignore[no-untyped-def]
    month = generate(7)
    estate = parse_estate(month.estate_yaml).estate
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    ctx = IngestContext(estate, store, grants=GrantIndex(month.grants), year=2026)
    parsers = {s: ctx.parser(s) for s in SOURCES}
    index, checked, differ = 0, 0, []
    try:
        for source, lines in month.day_chunks():
            evs = []
            for line in lines:
                for ev in parsers[source].feed(line):
                    ev.source, ev.product, ev.raw_hash = source, SOURCES[source], "ab" * 32
                    evs.append(ev)
            for ev in ctx._enrich(source, ctx.source(source), evs):
                prev = f"{index:064x}"
                when = iso(ev.time)
                if canonical(ev, index, prev, when) != _previous(ev, index, prev, when):
                    differ.append(index)
                checked += 1
                index += 1
    finally:
        ctx.close()
        store.dispose()
    assert checked > 50_000
    assert differ == []


# every field from two or three values: the cached parts are reused by events that
# differ in one field only, which must be part of what they are cached by
tiny = st.sampled_from(["", "a", 'q"'])


@st.composite
def look_alikes(draw: st.DrawFn) -> Event:
    cls, act = draw(shapes)
    return Event(
        time=draw(st.sampled_from([1.8e9, 1.8e9 + 0.5])),
        class_uid=int(cls),
        activity_id=act,
        status=draw(st.sampled_from(["success", "failure", "unknown"])),
        **{name: draw(tiny) for name in _TEXT},
        bytes=draw(st.sampled_from([0, 7])),
        rows=draw(st.sampled_from([0, 3])),
        product=draw(st.sampled_from(["postgresql", "cloudtrail", ""])),
        grant_active=draw(opt_bool),
        off_hours=draw(opt_bool),
        first_seen_network=draw(opt_bool),
    )


_TEXT = [
    "user",
    "src_ip",
    "host",
    "target",
    "object",
    "operation",
    "detail",
    "session",
    "source",
    "raw_hash",
    "principal",
    "actor",
    "affiliation",
    "principal_kind",
    "vendor",
    "resource",
    "environment",
    "tier",
    "volume_anomaly",
    "claim",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(look_alikes(), min_size=2, max_size=12), st.integers(0, 2**40))
def test_same_bytes_for_events_that_differ_in_one_field(evs: list[Event], index: int) -> None:
    for ev in evs:
        when = iso(ev.time)
        reference = canonical_bytes(ev.document(index=index, prev_hash="ab" * 32, time_text=when))
        assert canonical(ev, index, "ab" * 32, when) == reference
