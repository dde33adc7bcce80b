"""Migration stepupbind_0001: step-up window rows are sealed with the token key.

A window row from before the upgrade cannot be sealed (the migration does not hold the
key): the upgrade ends every open window, so nobody keeps a window nobody can vouch
for; people step up again. A window opened after the upgrade carries its seal and
counts; the downgrade drops the column (and the windows opened since).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from stagewall.errors import StepUpRequired
from stagewall.estate.models import ServerSettings
from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_step_up_windows
from stagewall.identity.actor import Actor, LoginMethod, StepUp, acting
from stagewall.identity.stepup import open_window_on, verify_step_up
from stagewall.store import Store, open_store
from tests.store.test_instances_migration import _alembic


def _columns(store: Store) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("identity_step_up_windows")}


def _windows(store: Store) -> int:
    with store.read() as conn:
        return int(
            conn.execute(select(func.count()).select_from(identity_step_up_windows)).one()[0]
        )


def test_open_windows_end_at_the_upgrade_and_new_ones_are_sealed(
    any_store_url: str, tmp_path: Path
) -> None:
    store = open_store(any_store_url)
    store.key_home = tmp_path / "home"
    now = datetime.now(UTC)
    settings = ServerSettings()
    bob = Actor("bob", frozenset(), LoginMethod.LOCAL, "s-bob")
    try:
        _alembic(store, "downgrade", "stepupbind@base")
        assert "row_mac" not in _columns(store)
        with store.transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO identity_step_up_windows (session_id, principal, factor, "
                    "verified_at, expires_at) VALUES ('s-bob', 'bob', 'totp', :v, :e)"
                ),
                {"v": fmt(now), "e": fmt(now + timedelta(seconds=120))},
            )
        _alembic(store, "upgrade", "heads")
        assert "row_mac" in _columns(store) and _windows(store) == 0
        with acting(bob), pytest.raises(StepUpRequired):
            verify_step_up(store, "bob", None, purpose="approve", now=now, settings=settings)
        open_window_on(store, "bob", "s-bob", StepUp("totp", now), now=now, settings=settings)
        with acting(bob):
            step = verify_step_up(store, "bob", None, purpose="approve", now=now, settings=settings)
        assert step.window and step.factor == "totp"
        _alembic(store, "downgrade", "stepupbind@base")
        assert "row_mac" not in _columns(store) and _windows(store) == 0
        _alembic(store, "upgrade", "heads")
        assert "row_mac" in _columns(store)
    finally:
        store.dispose()
