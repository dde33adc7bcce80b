"""People behind one proxy or NAT that is not a trusted proxy share its address: one of
them failing logins (on a made-up name, on a colleague, on alice herself) must not keep
alice out when she gives her right password and code — and guessing stays bounded.

Over HTTP, as the attacker and alice would send; every client here has the same
address. The limiter itself is tested on both store backends in
tests/identity/test_login_budgets.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import PASSWORD, Person, World

SHARED = ("198.51.100.10", 4000)


def _login(client: TestClient, principal: str, password: str, otp: str | None) -> Any:
    return client.post(
        "/api/v1/session", json={"principal": principal, "password": password, "otp": otp}
    )


@pytest.mark.parametrize("target", ["mallory", "bob", "alice"])
def test_one_client_failing_at_a_shared_address_does_not_lock_alice_out(
    world: World, target: str
) -> None:
    alice = world.onboard("alice")
    world.onboard("bob")
    attacker = TestClient(world.app, client=SHARED)
    colleague = TestClient(world.app, client=SHARED)
    codes = [_login(attacker, target, f"guess {i}", "123456").status_code for i in range(15)]
    assert codes == [401] * 5 + [429] * 10, codes
    res = _login(colleague, "alice", PASSWORD, alice.otp())
    assert res.status_code == 200, res.text
    assert res.json()["principal"] == "alice"
    # The web login form too (the same library call), from a browser at the address.
    browser = TestClient(world.app, client=SHARED, base_url="https://stagewall.example.com")
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text)
    assert csrf
    form = {"principal": "alice", "password": PASSWORD, "otp": alice.otp(), "next": "/"}
    res = browser.post("/login", data={**form, "csrf": csrf.group(1)}, follow_redirects=False)
    assert res.status_code == 303, res.text


def test_while_guarded_the_password_alone_gets_nothing(world: World) -> None:
    """The guard admits the password and code together only: a right password without a
    code (or with a wrong one) gets the answer a wrong password gets."""
    alice = world.onboard("alice")
    attacker = TestClient(world.app, client=SHARED)
    for i in range(5):
        assert _login(attacker, "alice", f"guess {i}", "123456").status_code == 401
    answers = [
        _login(attacker, "alice", PASSWORD, None),
        _login(attacker, "alice", PASSWORD, "000000"),
        _login(attacker, "alice", "guess 9", alice.otp()),
    ]
    assert {a.status_code for a in answers} == {429}
    assert {a.json()["code"] for a in answers} == {"SW612"}
    assert len({a.json()["detail"] for a in answers}) == 1
    assert _login(attacker, "alice", PASSWORD, alice.otp()).status_code == 200


def test_someone_with_the_password_failing_codes_is_alerted(world: World) -> None:
    alice: Person = world.onboard("alice")
    thief = TestClient(world.app, client=("203.0.113.66", 4000))
    codes = [_login(thief, "alice", PASSWORD, "000000").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429], codes
    kinds = [a["kind"] for a in world.alerts()]
    assert kinds.count("identity.login.factor_spent") == 1, kinds
    # alice's own right code is refused for now (the one lock-out only a holder of her
    # password can cause), with the same answer.
    res = _login(TestClient(world.app, client=SHARED), "alice", PASSWORD, alice.otp())
    assert res.status_code == 429 and res.json()["code"] == "SW612", res.text
