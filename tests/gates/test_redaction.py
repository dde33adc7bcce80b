"""Gates events and alerts go through the one redaction path (issue 12).

A connection string pasted into a break-glass reason (or any other text a gates
event carries) must not put its password into the audit log or an alert.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.audit import Status
from stagewall.gates import _events as ev
from tests.gates.conftest import World, digest

PASSWORD = "Pr0d%Secr@t-77"
URL = f"postgresql://admin:{PASSWORD}@prod-db.internal:5432/shop"


def _everything(world: World) -> str:
    from stagewall.audit import AuditLog
    from stagewall.store import open_store

    store = open_store(world.db)
    try:
        events = AuditLog(store).events()
    finally:
        store.dispose()
    text = json.dumps([[e.message, e.resource, e.details] for e in events], default=dict)
    alerts = world.root / "alerts.jsonl"
    return text + (alerts.read_text() if alerts.exists() else "")


def test_break_glass_reason_with_a_connection_string_is_redacted(world: World) -> None:
    sha = world.commit("alice@example.com")
    r = world.gate(
        "break-glass",
        "--repo",
        str(world.repo),
        "--change",
        sha,
        "--artifact",
        digest("hotfix"),
        "--to",
        "production",
        "--as",
        "alice",
        "--reason",
        f"checkout down, {URL} refuses connections",
        "--otp",
        world.otp("alice"),
    )
    assert r.exit_code == 0, r.stderr
    recorded = _everything(world)
    assert "prod-db.internal" in recorded  # the event is there ...
    assert PASSWORD not in recorded and "Pr0d" not in recorded  # ... without the password


_password = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/\\"),
    min_size=6,
    max_size=24,
).filter(lambda p: not p.startswith(("@", ":")) and "@" not in p[-1:])


@settings(max_examples=200, deadline=None)
@given(password=_password)
def test_no_generated_password_reaches_a_gates_event(password: str) -> None:
    url = f"postgresql://svc:{password}@db.example:5432/app"
    made = ev.event(
        ev.SUBMITTED.code,
        Status.FAILURE,
        "alice",
        f"could not reach {url}",
        f"stage:{url}",
        {"reason": f"see {url}", "nested": [{"dsn": url}], "n": 3},
    )
    text = json.dumps([made.message, made.resource, made.details], default=dict)
    assert password not in text
    assert made.details["n"] == 3
