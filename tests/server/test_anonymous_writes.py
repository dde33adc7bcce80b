"""Every endpoint anyone may call without a login writes a bounded number of store rows.

The authorization table's public rows (``None``) are the routes an anonymous client
reaches. Each is flooded here from one address with the requests an attacker would
loop on (new junk each time: codes, principals, tokens); the store's rows may grow by
at most :data:`BUDGET` — the per-address start budget (``StartLimiter``, 20) or the
store-backed failed-attempt limit (5 per key, each with its audit event) — never by
one per request. A new public route needs an entry in :data:`FLOODS`, or this fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stagewall.server.authz import POLICY
from stagewall.store import metadata
from tests.server.conftest import World

FLOOD = 45
BUDGET = 25  # a start budget's 20, or 5 failed attempts x (attempt row + event) + slack

Send = Callable[[TestClient, int], Any]
_form_tokens: dict[int, str] = {}  # id(client) -> the form token its first page gave it


def _form_csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def _device_form(client: TestClient, i: int) -> Any:
    if i == 0:  # a real code of the attacker's own, to get the page's form token
        code = client.post("/api/v1/device/code").json()["user_code"]
        _form_tokens[id(client)] = _form_csrf(client, f"/device?user_code={code}")
    return client.post(
        "/device",
        data={
            "user_code": f"BBBB-{i:04d}",
            "csrf": _form_tokens[id(client)],
            "decision": "deny",
            "principal": f"nobody{i}",
            "password": "x" * 12,
            "otp": "123456",
        },
    )


def _web_form(path: str, page: str, fields: Callable[[int], dict[str, str]]) -> Send:
    def send(client: TestClient, i: int) -> Any:
        if i == 0:
            _form_tokens[id(client)] = _form_csrf(client, page)
        res = client.post(path, data={**fields(i), "csrf": _form_tokens[id(client)]})
        again = re.search(r'name="csrf" value="([^"]+)"', res.text)
        if again:  # a form shown again has a new token: use it, as a script would
            _form_tokens[id(client)] = again.group(1)
        return res

    return send


FLOODS: dict[str, Send] = {
    "healthz": lambda c, i: c.get("/healthz"),
    "openapi": lambda c, i: c.get("/openapi.json"),
    "session.create": lambda c, i: c.post(
        "/api/v1/session", json={"principal": f"nobody{i}", "password": "x" * 12, "otp": "1"}
    ),
    "device.code": lambda c, i: c.post("/api/v1/device/code"),
    "device.token": lambda c, i: c.post(
        "/api/v1/device/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": f"swd_junk{i}",
        },
    ),
    "device.page": lambda c, i: c.get(f"/device?user_code=BBBB-{i:04d}"),
    "device.approve": _device_form,
    "invitation.accept": lambda c, i: c.post(
        "/api/v1/invitations/accept", json={"token": f"swi_junk{i}", "password": "x" * 12}
    ),
    "invitation.confirm": lambda c, i: c.post(
        "/api/v1/invitations/confirm", json={"token": f"swi_junk{i}", "otp": "123456"}
    ),
    "oidc.login": lambda c, i: c.get("/api/v1/oidc/login", follow_redirects=False),
    "oidc.callback": lambda c, i: c.get(f"/api/v1/oidc/callback?code=c&state=s{i}"),
    "web.login.page": lambda c, i: c.get("/login"),
    "web.login": _web_form(
        "/login",
        "/login",
        lambda i: {"principal": f"nobody{i}", "password": "x" * 12, "otp": "1", "next": "/"},
    ),
    "web.invite.page": lambda c, i: c.get(f"/invite?token=swi_junk{i}"),
    "web.invite.accept": _web_form(
        "/invite",
        "/invite?token=swi_junk",
        lambda i: {"token": f"swi_junk{i}", "password": "x" * 12, "again": "x" * 12},
    ),
    "web.invite.confirm": _web_form(
        "/invite/confirm", "/invite?token=swi_junk", lambda i: {"token": f"swi_junk{i}", "otp": "1"}
    ),
    "cli.token": lambda c, i: c.post(
        "/api/v1/cli/token",
        json={
            "code": f"swa_junk{i}",
            "code_verifier": "v" * 43,
            "redirect_uri": "http://127.0.0.1:9/callback",
        },
    ),
}


def _rows(world: World) -> int:
    with world.state.ctx.store.read() as conn:
        return sum(
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        )


def test_every_public_route_has_a_flood() -> None:
    public = {name for name, rule in POLICY.items() if rule is None}
    assert public == set(FLOODS), (
        "a route anyone may call needs an entry in FLOODS (and a budget in the server)"
    )


@pytest.mark.parametrize("route", sorted(FLOODS))
def test_a_flood_from_one_address_writes_a_bounded_number_of_rows(world: World, route: str) -> None:
    client = TestClient(world.app, client=("192.0.2.77", 4000))
    before = _rows(world)
    answers = [FLOODS[route](client, i).status_code for i in range(FLOOD)]
    assert max(answers) < 500, answers
    grown = _rows(world) - before
    assert grown <= BUDGET, (route, grown, answers)
