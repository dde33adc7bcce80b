"""Migration stepupbind_0001: step-up window and WebAuthn challenge rows are sealed.

A row from before the upgrade cannot be sealed (the migration does not hold the key):
the upgrade ends every open step-up window and every outstanding challenge, so nobody
keeps a right nobody can vouch for; people step up again, a passkey prompt is asked
again. Rows made after the upgrade carry their seal and count; the downgrade drops the
columns (and the rows made since).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from stagewall.errors import StepUpRequired
from stagewall.estate.models import ServerSettings, WebauthnSettings
from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_step_up_windows as windows
from stagewall.identity._tables import identity_webauthn_challenges as challenges
from stagewall.identity.actor import Actor, LoginMethod, StepUp, acting
from stagewall.identity.passkeys import registration_options
from stagewall.identity.stepup import open_window_on, verify_step_up
from stagewall.store import Store, open_store
from tests.store.test_instances_migration import _alembic

_OLD_WINDOW = (
    "INSERT INTO identity_step_up_windows (session_id, principal, factor, verified_at, "
    "expires_at) VALUES ('s-bob', 'bob', 'totp', :n, :e)"
)
_OLD_CHALLENGE = (
    "INSERT INTO identity_webauthn_challenges (id, challenge_hash, challenge, purpose, "
    "principal, session_id, created_at, expires_at) VALUES ('wc-old', 'h', :c, "
    "'assertion', 'bob', 's-bob', :n, :e)"
)


def _sealed(store: Store) -> set[str]:
    """The tables of the two that have ``row_mac``."""
    names = ("identity_step_up_windows", "identity_webauthn_challenges")
    got = inspect(store.engine)
    return {n for n in names if "row_mac" in {c["name"] for c in got.get_columns(n)}}


def test_rows_end_at_the_upgrade_and_new_ones_are_sealed(
    any_store_url: str, tmp_path: Path
) -> None:
    store = open_store(any_store_url)
    store.key_home = tmp_path / "home"
    now = datetime.now(UTC)
    rp = WebauthnSettings(rp_id="stagewall.example.com", origins=["https://stagewall.example.com"])
    settings = ServerSettings(webauthn=rp)
    bob = Actor("bob", frozenset(), LoginMethod.LOCAL, "s-bob")
    try:
        _alembic(store, "downgrade", "stepupbind@base")
        assert _sealed(store) == set()
        times = {"n": fmt(now), "e": fmt(now + timedelta(seconds=120)), "c": b"x" * 32}
        with store.transaction() as conn:
            conn.execute(text(_OLD_WINDOW), times)
            conn.execute(text(_OLD_CHALLENGE), times)
        _alembic(store, "upgrade", "heads")
        assert len(_sealed(store)) == 2
        with store.read() as conn:
            assert conn.execute(select(windows)).all() == []
            assert conn.execute(select(challenges)).all() == []
        with acting(bob), pytest.raises(StepUpRequired):
            verify_step_up(store, "bob", None, purpose="approve", now=now, settings=settings)
        open_window_on(store, "bob", "s-bob", StepUp("totp", now), now=now, settings=settings)
        with acting(bob):
            step = verify_step_up(store, "bob", None, purpose="approve", now=now, settings=settings)
        assert step.window and step.factor == "totp"
        registration_options(store, settings, "bob", session_id="s-bob", now=now)
        with store.read() as conn:
            [row] = conn.execute(select(challenges)).all()
        assert len(row.row_mac) == 64
        _alembic(store, "downgrade", "stepupbind@base")
        assert _sealed(store) == set()
        with store.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM identity_step_up_windows")).one()[0] == 0
        _alembic(store, "upgrade", "heads")
        assert len(_sealed(store)) == 2
    finally:
        store.dispose()
