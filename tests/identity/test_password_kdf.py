"""Passwords are hashed with argon2id at RFC 9106's low-memory parameters.

The rest of the suite hashes with argon2id at its cheapest parameters (tests/conftest.py:
about 0.2 s of CPU per hash or login otherwise, thousands of times over). These tests,
marked ``production_kdf``, run the module's own hasher: what a real server stores and
checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from argon2 import extract_parameters, profiles
from sqlalchemy import select

from stagewall.errors import NotAuthenticated
from stagewall.estate import Estate, load_estate
from stagewall.identity import accounts
from stagewall.identity._tables import identity_accounts
from stagewall.identity.login import password_login
from stagewall.identity.tokens import TokenKind
from stagewall.store import Store, open_store
from tests.mfa.test_totp import ESTATE

T0 = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(tmp_path: Path, sqlite_store_url: str) -> Iterator[tuple[Store, Estate]]:
    path = tmp_path / "stagewall.yaml"
    path.write_text(ESTATE, encoding="utf-8")
    store = open_store(sqlite_store_url)
    try:
        yield store, load_estate(path).estate
    finally:
        store.dispose()


def _stored_hash(store: Store, principal: str) -> str:
    with store.read() as conn:
        return str(
            conn.execute(
                select(identity_accounts.c.password_hash).where(
                    identity_accounts.c.principal == principal
                )
            ).scalar_one()
        )


@pytest.mark.production_kdf
def test_accounts_store_argon2id_at_rfc_9106_low_memory_and_sign_in(
    tmp_path: Path, store: tuple[Store, Estate]
) -> None:
    st, estate = store
    home = str(tmp_path / "home")
    inv = accounts.create_invitation(st, estate, "alice", created_by="operator", now=T0)
    got = accounts.accept_invitation(st, estate, inv.token, PASSWORD, now=T0, home=home)
    accounts.confirm_invitation(
        st, inv.token, str(pyotp.TOTP(got.totp_secret).at(T0)), now=T0, home=home
    )
    stored = _stored_hash(st, "alice")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY
    # An unknown principal costs the same work as a known one with a wrong password.
    assert extract_parameters(accounts._DUMMY_HASH) == profiles.RFC_9106_LOW_MEMORY
    assert accounts.check_password(st, "alice", PASSWORD)
    assert not accounts.check_password(st, "alice", PASSWORD + "!")
    assert not accounts.check_password(st, "nobody", PASSWORD)
    # The whole login (password and a fresh code) passes against the stored hash.
    later = T0.replace(second=50)
    kind = password_login(
        st,
        estate,
        "alice",
        PASSWORD,
        str(pyotp.TOTP(got.totp_secret).at(later)),
        now=later,
        source="127.0.0.1",
        home=home,
        alert=lambda title, text: None,
    )
    assert kind is TokenKind.API
    with pytest.raises(NotAuthenticated):
        password_login(
            st,
            estate,
            "alice",
            PASSWORD + "!",
            str(pyotp.TOTP(got.totp_secret).at(T0.replace(second=59, minute=1))),
            now=T0.replace(minute=1, second=59),
            source="127.0.0.1",
            home=home,
            alert=lambda title, text: None,
        )


def test_the_rest_of_the_suite_hashes_with_argon2id_cheaply(store: tuple[Store, Estate]) -> None:
    """The same algorithm and output shape; only the cost parameters differ."""
    params = extract_parameters(accounts._hasher.hash(PASSWORD))
    assert params.type == profiles.RFC_9106_LOW_MEMORY.type
    assert (params.salt_len, params.hash_len) == (16, 32)
    assert (params.time_cost, params.memory_cost, params.parallelism) == (1, 8, 1)
