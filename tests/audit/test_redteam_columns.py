"""The unhashed columns of audit_events (time, code, status, actor, resource) are what
evidence checks, the web's links and `audit list` filter on. An insider with the store
could rewrite them (drop the triggers, UPDATE) while the signed bytes stay intact, and
`audit verify` passed: every column must agree with the event's signed bytes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from stagewall.audit import AuditLog, LogBroken
from stagewall.audit._verify import verify_store
from stagewall.keys import init_keys, load_public_key
from stagewall.store import Store
from tests.audit.conftest import allow_tampering, make_event


def _log(store: Store) -> AuditLog:
    init_keys()
    log = AuditLog(store, checkpoint_every=5, checkpoint_interval=None)
    log.append_many([make_event(i) for i in range(12)])
    return log


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("code", "access.grant.revoked"),
        ("time", "1970-01-01T00:00:00.000000Z"),
        ("status", "failure"),
        ("actor", "mallory"),
        ("resource", "prod-db"),
        ("resource", None),
    ],
)
def test_a_rewritten_column_fails_verify_and_names_the_index(
    store: Store, column: str, value: str | None
) -> None:
    log = _log(store)
    verify_store(log, load_public_key())
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text(f"UPDATE audit_events SET {column} = :v WHERE idx = 7"), {"v": value})
        if value is None:  # make sure the event had a resource to lose
            conn.execute(text("UPDATE audit_events SET resource = 'x' WHERE idx = 6"))
    with pytest.raises(LogBroken, match=r"broken at index [67]: .*column") as exc:
        verify_store(log, load_public_key())
    assert exc.value.code == "SW501"
    assert "mallory" not in str(exc.value)  # names the column, not its value
