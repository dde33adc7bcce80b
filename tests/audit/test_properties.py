"""Property: whatever (valid) events are appended, the log and its bundle verify."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.audit._bundle import export_bundle, verify_bundle
from stagewall.audit._verify import NO_WITNESS_WARNING, verify_store
from stagewall.errors import ConfigError
from stagewall.keys import SigningKey
from stagewall.store import Store, open_store
from tests.audit.conftest import TEST_CODE

KEY = SigningKey("test.example/props", b"\x11" * 32)
# Text that tries to look like the metadata the fast verifier reads.
TRICKY = '"metadata":{"event_code":"x","log_index":0,"prev_hash":"' + "0" * 64 + '"'

texts = st.one_of(st.text(min_size=1, max_size=40), st.just(TRICKY))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)  # beyond: refused (test_redteam_canonical.py)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "note", "ref", "é"]), inner, max_size=3)
    ),
    max_leaves=8,
)
events = st.builds(
    AuditEvent,
    code=st.just(TEST_CODE),
    status=st.sampled_from(list(Status)),
    actor=texts,
    message=texts,
    resource=st.none() | texts,
    details=st.dictionaries(
        st.sampled_from(["x", "y", "meta", "metadata"]), json_values, max_size=3
    ),
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, AuditLog]]:
    base = tmp_path_factory.mktemp("props")
    store = open_store(f"sqlite:///{base / 'store.db'}")
    yield store, AuditLog(store, checkpoint_every=5, checkpoint_interval=None, signing_key=KEY)
    store.dispose()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(events, min_size=1, max_size=4))
def test_untouched_log_always_verifies(
    shared: tuple[Store, AuditLog], batch: list[AuditEvent]
) -> None:
    _store, log = shared
    before = log.size()
    assert log.append_many(batch) == list(range(before, before + len(batch)))
    stored = log.events(before)
    assert [e.message for e in stored] == [e.message for e in batch]
    assert [dict(e.details) for e in stored] == [dict(e.details) for e in batch]
    assert verify_store(log, KEY.public).size == before + len(batch)
    tmp = Path(tempfile.mkdtemp(prefix="swp-"))
    try:
        export_bundle(log, tmp / "b", signing_key=KEY, public_key=KEY.public)
        report = verify_bundle(tmp / "b", public_key=KEY.public)
        assert report.size == log.size() and report.warnings == (NO_WITNESS_WARNING,)
    finally:
        shutil.rmtree(tmp)


def test_lone_surrogates_are_refused(shared: tuple[Store, AuditLog]) -> None:
    _store, log = shared
    ev = AuditEvent(
        code=TEST_CODE, status=Status.SUCCESS, actor="a", message="m", details={"x": "\ud800"}
    )
    with pytest.raises(ConfigError, match=r"details\.x is not valid Unicode"):
        log.append(ev)
