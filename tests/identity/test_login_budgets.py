"""Failed-login budgets that keep guessing expensive without one client locking out others.

Run on both store backends (the budgets live in the store). The shared address is a
proxy or NAT that is not a trusted proxy: the attacker and alice send from it alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select

from stagewall.audit import AuditLog
from stagewall.errors import LoginGuarded, NotAuthenticated, RateLimited, StagewallError
from stagewall.estate import Estate, load_estate
from stagewall.identity import accounts, attempts
from stagewall.identity._tables import identity_rate_limits
from stagewall.identity.login import password_login
from stagewall.identity.tokens import TokenKind
from stagewall.store import Store, metadata, open_store
from tests.mfa.test_totp import ESTATE

T0 = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
SHARED = "198.51.100.10"  # the office's NAT: not a trusted proxy


@dataclass
class World:
    store: Store
    estate: Estate
    home: Path
    secrets: dict[str, str]
    now: datetime = T0
    alerts: list[tuple[str, str]] = field(default_factory=list)

    def code(self, who: str = "alice") -> str:
        """The current code of ``who``, at a fresh time step (codes are single-use)."""
        self.now += timedelta(seconds=30)
        return str(pyotp.TOTP(self.secrets[who]).at(self.now))

    def login(
        self, who: str, password: str, otp: str | None, source: str = SHARED
    ) -> TokenKind | StagewallError:
        try:
            return password_login(
                self.store,
                self.estate,
                who,
                password,
                otp,
                now=self.now,
                source=source,
                home=self.home,
                alert=lambda title, text: self.alerts.append((title, text)),
            )
        except (NotAuthenticated, RateLimited) as exc:
            return exc

    def rows(self) -> int:
        with self.store.read() as conn:
            return sum(
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            )

    def limit_rows(self) -> dict[str, str]:
        with self.store.read() as conn:
            return {r.key: r.slots for r in conn.execute(select(identity_rate_limits))}

    def events(self, code: str, status: str | None = None) -> list[str]:
        return [
            e.message
            for e in AuditLog(self.store).events()
            if e.code == code and (status is None or e.status.value == status)
        ]


@pytest.fixture
def world(tmp_path: Path, any_migrated_store_url: str) -> Iterator[World]:
    path = tmp_path / "stagewall.yaml"
    path.write_text(ESTATE, encoding="utf-8")
    estate = load_estate(path).estate
    store = open_store(any_migrated_store_url)
    home = tmp_path / "home"
    secrets: dict[str, str] = {}
    for who in ("alice", "bob"):
        inv = accounts.create_invitation(store, estate, who, created_by="operator", now=T0)
        got = accounts.accept_invitation(store, estate, inv.token, PASSWORD, now=T0, home=str(home))
        secrets[who] = got.totp_secret
        code = pyotp.TOTP(got.totp_secret).at(T0)
        accounts.confirm_invitation(store, inv.token, code, now=T0, home=str(home))
    try:
        yield World(store, estate, home, secrets)
    finally:
        store.dispose()


def _wrong(world: World, who: str, n: int, source: str = SHARED) -> list[str]:
    """``n`` wrong guesses (wrong password, some code): the exception class of each."""
    return [type(world.login(who, f"guess {i}", "123456", source)).__name__ for i in range(n)]


@pytest.mark.parametrize("target", ["mallory", "bob"])
def test_failures_on_other_principals_at_a_shared_address_do_not_lock_alice_out(
    world: World, target: str
) -> None:
    """The defect: five failures from the shared address (on a name that does not exist,
    or on a colleague) refused every colleague's right password and code there."""
    assert _wrong(world, target, 12) == ["NotAuthenticated"] * 5 + ["LoginGuarded"] * 7
    assert world.login("alice", PASSWORD, world.code()) is TokenKind.API
    assert world.login("bob", PASSWORD, world.code("bob")) is TokenKind.API
    # The success is recorded as one that passed a guarded address.
    ok = [e for e in AuditLog(world.store).events() if e.code == "identity.login"][-1]
    assert ok.status.value == "Success" and "too many failed attempts for" in ok.details["guarded"]


def test_failures_on_alice_herself_do_not_lock_her_out(world: World) -> None:
    """Someone at her address (or anywhere) fails on alice: her password and code still
    let her in, at the shared address and elsewhere."""
    assert _wrong(world, "alice", 5) == ["NotAuthenticated"] * 5
    assert _wrong(world, "alice", 30, source="203.0.113.99") == ["LoginGuarded"] * 30
    assert world.login("alice", PASSWORD, world.code()) is TokenKind.API
    assert world.login("alice", PASSWORD, world.code(), "192.0.2.1") is TokenKind.API
    # The principal's spent budget was recorded once, when it was spent.
    spent = world.events("identity.login.guarded")
    assert len(spent) == 2, spent  # principal alice, and address SHARED
    assert any("principal 'alice'" in m for m in spent)
    assert len(world.events("identity.login", "Failure")) == 5


def test_a_guarded_principal_admits_only_the_password_and_code_together(world: World) -> None:
    """While guarded, a right password alone, or with a wrong code, is not let in and gets
    the very answer a wrong password gets: no guessing the password on its own."""
    _wrong(world, "alice", 5)
    answers = [
        world.login("alice", PASSWORD, None),
        world.login("alice", PASSWORD, "000000"),
        world.login("alice", "wrong", world.code()),
        world.login("alice", "wrong", None),
    ]
    assert all(isinstance(a, LoginGuarded) for a in answers), answers
    assert len({(a.code, a.message, a.hint) for a in answers if isinstance(a, LoginGuarded)}) == 1
    first = answers[0]
    assert isinstance(first, LoginGuarded) and first.code == "SW612"
    assert "password and one-time code together" in first.message


def test_wrong_codes_after_the_right_password_lock_the_principal_and_alert(world: World) -> None:
    """The second factor's own budget: only someone who knows the password can spend it,
    and then even the right code is refused for a while (with the usual answer)."""
    got = [world.login("alice", PASSWORD, "000000", f"192.0.2.{i}") for i in range(5)]
    assert all(isinstance(g, NotAuthenticated) for g in got)
    # alice's principal budget is spent too: guarded; the factor budget refuses her code.
    refused = world.login("alice", PASSWORD, world.code(), "192.0.2.50")
    assert isinstance(refused, LoginGuarded)
    assert len(world.alerts) == 1 and "alice" in world.alerts[0][0]
    assert any("someone may know the password" in m for m in world.events("identity.login.guarded"))
    # Once the failures are five minutes old, alice is let in again.
    world.now += attempts.FAILURE_WINDOW
    assert world.login("alice", PASSWORD, world.code(), "192.0.2.50") is TokenKind.API


def test_code_guessing_with_the_password_is_bounded_while_guarded(world: World) -> None:
    """A guarded key checks password and code together, but wrong codes after the right
    password still spend the factor budget: five, then no code is checked at all."""
    _wrong(world, "alice", 5)  # guarded
    before = len(world.events("identity.login", "Failure"))
    for _ in range(5):
        assert isinstance(world.login("alice", PASSWORD, "000000"), LoginGuarded)
    assert len(world.events("identity.login", "Failure")) == before + 5
    code = world.code()
    for _ in range(20):  # the right code among them: not checked
        assert isinstance(world.login("alice", PASSWORD, code), LoginGuarded)
    assert len(world.events("identity.login", "Failure")) == before + 5  # no row per try
    assert len(world.alerts) == 1


def test_spraying_from_one_address_is_bounded_and_writes_bounded_rows(world: World) -> None:
    """One address guessing a password for many principals: five failures are checked
    and recorded; after that each guess must also carry the right code of that
    principal, and a refused one writes nothing (a flood adds no row per request)."""
    before = world.rows()
    names = [f"user{i}" for i in range(200)] + ["alice", "bob"]
    answers = [type(world.login(n, "Winter2030!", "123456")).__name__ for n in names]
    assert answers == ["NotAuthenticated"] * 5 + ["LoginGuarded"] * 197
    # 5 principal rows + 1 address row, 5 failure events + 1 "address spent" event
    assert world.rows() - before <= 12
    assert len(world.limit_rows()) == 6


def test_ipv6_clients_of_one_network_share_one_address_budget(world: World) -> None:
    """An IPv6 client has a /64 of addresses: each one its own budget would be no budget
    (and one row per address)."""
    answers = [
        type(world.login(f"user{i}", "guess", "1", f"2001:db8:1:2::{i + 1:x}")).__name__
        for i in range(40)
    ]
    assert answers == ["NotAuthenticated"] * 5 + ["LoginGuarded"] * 35
    assert [k for k in world.limit_rows() if k.endswith(":address")] == [
        "2001:db8:1:2::/64:address"
    ]
    # another /64 is another budget, and alice there is let in anyway
    assert world.login("alice", PASSWORD, world.code(), "2001:db8:1:3::1") is TokenKind.API


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        (None, "unknown"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_address_key(source: str | None, key: str) -> None:
    assert attempts.address_key(source) == key


def test_a_login_without_failures_is_unchanged(world: World) -> None:
    """Nothing guarded: a password-only login of an enrolled account is an audited
    failure as before (it counts), and the right password and code let in."""
    assert isinstance(world.login("alice", PASSWORD, None), NotAuthenticated)
    assert world.login("alice", PASSWORD, world.code()) is TokenKind.API
    # the failure keeps one slot per key (its code was missing after the right
    # password: the factor's too); the success gave all of its own back
    assert {k: len(v) for k, v in world.limit_rows().items()} == {
        "alice:principal": 23,
        f"{SHARED}:address": 23,
        "alice:factor": 23,
    }
    assert world.events("identity.login", "Failure") == [
        "local login of 'alice' failed: no one-time code"
    ]
