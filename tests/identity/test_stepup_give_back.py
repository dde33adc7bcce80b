"""A successful TOTP step-up gives its attempt slot back in the transaction that burns
the code (one transaction fewer per privileged act), with the same outcomes as before:
no slot kept after a success, the slot kept after a wrong code, and the slot given back
(in its own transaction, as before) when the burning transaction does not commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from stagewall import mfa
from stagewall.errors import AccessDenied
from stagewall.estate import Estate, load_estate
from stagewall.identity import attempts, stepup
from stagewall.identity._tables import identity_rate_limits
from stagewall.mfa._tables import mfa_enrolments
from stagewall.store import Store, open_store
from tests.mfa.test_totp import ESTATE

T0 = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path, any_migrated_store_url: str) -> Iterator[tuple[Store, Estate, str, Path]]:
    path = tmp_path / "stagewall.yaml"
    path.write_text(ESTATE, encoding="utf-8")
    estate = load_estate(path).estate
    store = open_store(any_migrated_store_url)
    home = tmp_path / "home"
    secret = mfa.enroll(store, estate, "alice", home=home, now=T0).secret
    try:
        yield store, estate, secret, home
    finally:
        store.dispose()


def _slots(store: Store) -> str | None:
    with store.read() as conn:
        row = conn.execute(
            select(identity_rate_limits.c.slots).where(
                identity_rate_limits.c.key == "alice:step-up"
            )
        ).first()
    return None if row is None else str(row[0])


def _step_up(store: Store, estate: Estate, code: str, home: Path, now: datetime) -> Any:
    return stepup.verify_step_up(
        store, "alice", code, purpose="test", now=now, settings=estate.server, home=home
    )


def _last_step(store: Store) -> int | None:
    with store.read() as conn:
        return conn.execute(  # type: ignore[no-any-return]
            select(mfa_enrolments.c.last_step).where(mfa_enrolments.c.principal == "alice")
        ).scalar()


def test_a_success_gives_the_slot_back_with_the_burn(
    world: tuple[Store, Estate, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, estate, secret, home = world
    own: list[int] = []
    real = attempts.Attempt._give_back

    def counting(self: attempts.Attempt) -> None:
        own.append(1)
        real(self)

    monkeypatch.setattr(attempts.Attempt, "_give_back", counting)
    for i in range(8):  # more successes than the budget of failures
        now = T0 + timedelta(seconds=30 * i)
        step = _step_up(store, estate, pyotp.TOTP(secret).at(now), home, now)
        assert step.factor == stepup.TOTP
        assert _slots(store) == ""  # nothing kept
    assert own == []  # no transaction of its own: given back with each burn
    # A wrong code keeps its slot, as before.
    now = T0 + timedelta(minutes=10)
    with pytest.raises(AccessDenied, match="wrong or expired"):
        _step_up(
            store,
            estate,
            "000000" if pyotp.TOTP(secret).at(now) != "000000" else "111111",
            home,
            now,
        )
    assert len(_slots(store) or "") == 23


def test_a_burn_that_does_not_commit_still_gives_the_slot_back(
    world: tuple[Store, Estate, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, estate, secret, home = world

    from stagewall.audit import AuditLog

    class Broken(AuditLog):  # reads as the real log (the factor's binding), cannot append
        def append(self, *_a: Any, **_k: Any) -> int:  # type: ignore[override]
            raise RuntimeError("the audit append failed")

    monkeypatch.setattr("stagewall.mfa.totp.AuditLog", Broken)
    with pytest.raises(RuntimeError, match="audit append failed"):
        _step_up(store, estate, pyotp.TOTP(secret).at(T0), home, T0)
    assert _last_step(store) is None  # the code was not burned (rolled back) ...
    assert _slots(store) == ""  # ... and the slot was given back all the same
    monkeypatch.undo()
    step = _step_up(store, estate, pyotp.TOTP(secret).at(T0), home, T0)  # still usable
    assert step.factor == stepup.TOTP and _last_step(store) is not None
