"""Red team: one IPv6 client holds a /64 (2**64 addresses), so every per-address budget
counts an IPv6 client per /64, as password login does.

The device-code and identity-provider login starts, the device-code lookups, the
``login --browser`` hand-off redemption, the CI token exchange and the OIDC login
completion each counted per full address: a client cycling through the addresses of its
/64 had a fresh budget for every request.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from stagewall.identity.attempts import MAX_FAILURES
from stagewall.server._starts import BURST
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import World
from tests.server.test_oidc_login import oidc_world as oidc_world


def _client(world: World, n: int, net: str = "2001:db8:7:7") -> TestClient:
    """A client at the n-th address of one /64."""
    return TestClient(world.app, client=(f"{net}:{n:x}:{n:x}:{n:x}:{n:x}", 40000 + n))


def test_device_codes_from_one_ipv6_64_share_one_budget(world: World) -> None:
    for n in range(BURST):
        assert _client(world, n + 1).post("/api/v1/device/code").status_code == 200
    res = _client(world, 999).post("/api/v1/device/code")  # a fresh address of the /64
    assert res.status_code == 429, res.text
    assert res.json()["code"] == "SW610" and "2001:db8:7:7::/64" in res.text
    other = _client(world, 1, net="2001:db8:7:8")  # another /64 has its own budget
    assert other.post("/api/v1/device/code").status_code == 200


def test_browser_hand_off_guesses_from_one_ipv6_64_share_one_budget(world: World) -> None:
    body = {
        "code": "swa_" + "x" * 40,
        "code_verifier": "v" * 43,
        "redirect_uri": "http://127.0.0.1:9/cb",
    }
    for n in range(MAX_FAILURES):
        res = _client(world, n + 1).post("/api/v1/cli/token", json=body)
        assert res.status_code in (400, 401), res.text
    res = _client(world, 999).post("/api/v1/cli/token", json=body)
    assert res.status_code == 429, res.text
    other = _client(world, 1, net="2001:db8:7:8")
    assert other.post("/api/v1/cli/token", json=body).status_code in (400, 401)


def test_device_code_lookups_from_one_ipv6_64_share_one_budget(world: World) -> None:
    for n in range(MAX_FAILURES):
        res = _client(world, n + 1).get("/device", params={"user_code": f"ZZZZ-{n:04d}"})
        assert res.status_code == 400, res.text
    res = _client(world, 999).get("/device", params={"user_code": "ZZZZ-9999"})
    assert res.status_code == 429, res.text
    other = _client(world, 1, net="2001:db8:7:8")
    assert other.get("/device", params={"user_code": "ZZZZ-8888"}).status_code == 400


def test_ci_token_exchanges_from_one_ipv6_64_share_one_budget(world: World) -> None:
    """Forged CI ID tokens: each a failure counted for the /64, not for one address."""
    forged = {"Authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}
    for n in range(MAX_FAILURES):
        res = _client(world, n + 1).post("/api/v1/ci/session", headers=forged)
        assert res.status_code == 401, res.text
    res = _client(world, 999).post("/api/v1/ci/session", headers=forged)
    assert res.status_code == 429, res.text
    other = _client(world, 1, net="2001:db8:7:8")
    assert other.post("/api/v1/ci/session", headers=forged).status_code == 401


def test_oidc_callbacks_and_starts_from_one_ipv6_64_share_one_budget(oidc_world: World) -> None:
    world = oidc_world
    for n in range(MAX_FAILURES):
        res = _client(world, n + 1).get(
            "/api/v1/oidc/callback", params={"code": "c", "state": f"forged-{n}"}
        )
        assert res.status_code == 401, res.text
    res = _client(world, 999).get("/api/v1/oidc/callback", params={"code": "c", "state": "x"})
    assert res.status_code == 429, res.text
    for n in range(BURST):
        res = _client(world, 100 + n).get("/api/v1/oidc/login", follow_redirects=False)
        assert res.status_code in (302, 303, 307), res.text
    res = _client(world, 998).get("/api/v1/oidc/login", follow_redirects=False)
    assert res.status_code == 429, res.text
