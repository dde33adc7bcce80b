"""The direct canonical writer gives exactly the bytes of the reference document."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.audit._canonical import canonical_bytes
from stagewall.monitoring._canonical import canonical
from stagewall.monitoring.events import ACTIVITY_NAMES, Event, iso

text = st.text(max_size=12)
opt_bool = st.none() | st.booleans()
shapes = st.sampled_from([(c, a) for c, acts in ACTIVITY_NAMES.items() if c != 2004 for a in acts])


@st.composite
def events(draw: st.DrawFn) -> Event:
    cls, act = draw(shapes)
    return Event(
        time=draw(st.floats(min_value=0, max_value=4e9)),
        class_uid=int(cls),
        activity_id=act,
        status=draw(st.sampled_from(["success", "failure", "unknown"])),
        user=draw(text),
        src_ip=draw(text),
        host=draw(text),
        target=draw(text),
        object=draw(text),
        operation=draw(text),
        bytes=draw(st.integers(0, 2**40)),
        rows=draw(st.integers(0, 10)),
        detail=draw(text),
        session=draw(text),
        source=draw(text),
        product=draw(st.sampled_from(["postgresql", "cloudtrail", "sshd", ""])),
        raw_hash=draw(text),
        principal=draw(text),
        actor=draw(text),
        affiliation=draw(text),
        principal_kind=draw(text),
        vendor=draw(text),
        resource=draw(text),
        environment=draw(text),
        tier=draw(text),
        grant_active=draw(opt_bool),
        off_hours=draw(opt_bool),
        first_seen_network=draw(opt_bool),
        volume_anomaly=draw(text),
        claim=draw(text),
    )


@settings(max_examples=400, deadline=None)
@given(events(), st.integers(0, 2**40), st.text(alphabet="0123456789abcdef", max_size=64))
def test_direct_bytes_equal_the_reference_document(ev: Event, index: int, prev: str) -> None:
    when = iso(ev.time)
    reference = canonical_bytes(ev.document(index=index, prev_hash=prev, time_text=when))
    assert canonical(ev, index, prev, when) == reference


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=-6e10, max_value=2.5e11), st.binary(min_size=32, max_size=32))
def test_the_writers_own_strings_need_no_escaping(t: float, digest: bytes) -> None:
    """canonical() writes ``prev_hash`` and ``time`` without the escaping call: every ISO
    time and hex digest the writer produces is its own JSON string."""
    for value in (iso(t), digest.hex()):
        assert json.dumps(value, ensure_ascii=False) == f'"{value}"'
