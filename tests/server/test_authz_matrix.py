"""Every endpoint x every kind of caller, generated from the one authorization table.

A route without a row in ``server.authz.POLICY`` makes the app refuse to start
(and this test fail); a row without a route likewise. For each authenticated
route and each persona the expected answer is derived from the table: 401 without
a token, 403 "may not call" for a class the row does not name, and anything but
the table's refusal for a class it names (the library may still refuse for a
finer reason, e.g. an external asking for production).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from stagewall.identity.actor import ActorClass
from stagewall.server.authz import POLICY
from tests.server.conftest import Person, World

PERSONAS = {
    "anonymous": None,
    "external developer": "dana",
    "internal requester": "alice",
    "approver": "bob",
    "auditor": "audrey",
    "admin": "carol",
    "CI service principal": "deploybot",
}


def _routes(world: World) -> list[tuple[str, str, str]]:
    out = []
    for r in world.app.routes:
        if isinstance(r, APIRoute):
            for method in sorted(r.methods - {"HEAD"}):
                out.append((r.name, method, r.path))
    return out


def test_every_route_has_a_row_and_every_row_a_route(world: World) -> None:
    names = {name for name, _m, _p in _routes(world)} | {"openapi"}
    assert names == set(POLICY)


def test_a_route_without_a_row_stops_the_app(world: World) -> None:
    from stagewall.server import app as app_module

    saved = dict(POLICY)
    del POLICY["inbox"]
    try:
        with pytest.raises(RuntimeError, match=r"row in server.authz.POLICY|authorization table"):
            app_module.create_app(world.state, run_sweeper=False)
    finally:
        POLICY.clear()
        POLICY.update(saved)


def _call(world: World, person: Person | None, method: str, path: str) -> Any:
    url = re.sub(r"\{[^}]+\}", "x000000", path)
    headers = person.headers() if person else {}
    if method == "GET":
        return world.client.get(url, headers=headers, follow_redirects=False)
    if method == "DELETE":
        return world.client.delete(url, headers=headers)
    return world.client.post(url, json={}, headers=headers, follow_redirects=False)


def test_matrix(world: World, people: dict[str, Person]) -> None:
    from stagewall.identity.pipeline import create_pipeline_token
    from stagewall.server.authz import classes_for

    ci = Person(world, "deploybot", "")
    ci.token = create_pipeline_token(
        world.state.ctx.store, world.state.estate, world.state.ctx.audit, "deploybot",
        now=world.clock(),
    ).secret  # fmt: skip
    people = {**people, "deploybot": ci}

    rows = []
    for name, method, path in _routes(world):
        rule = POLICY[name]
        for persona, who in PERSONAS.items():
            if name in ("session.delete", "web.logout"):
                continue  # would log the persona out; covered in test_flows and tests/web
            person = people[who] if who else None
            res = _call(world, person, method, path)
            body = (
                res.json()
                if "json" in res.headers.get("content-type", "") and res.content
                else None
            )
            # A web page answers in HTML: its refusal is the page's text.
            detail = body.get("detail", "") if isinstance(body, dict) else ""
            if res.headers.get("content-type", "").startswith("text/html"):
                alert = re.search(r'<p class="alert" role="alert">(.*?)</p>', res.text, re.S)
                detail = html.unescape(alert.group(1)) if alert else ""
            if rule is None:
                outcome = "public"
                assert res.status_code not in (401,) or name == "session.create", (name, persona)
            elif person is None and name.startswith("web."):
                outcome = "sign-in"
                assert res.status_code == 303, (name, persona, res.text)
                assert res.headers["location"].startswith("/login?next="), (name, persona)
            elif person is None:
                outcome = "401"
                assert res.status_code == 401, (name, persona, res.text)
            else:
                classes = classes_for(world.state.estate, person.name)
                if classes & rule:
                    outcome = "allowed"
                    assert "may not call" not in str(detail), (name, persona, res.text)
                    assert res.status_code != 401, (name, persona, res.text)
                else:
                    outcome = "403"
                    assert res.status_code == 403, (name, persona, res.text)
                    assert "may not call" in str(detail), (name, persona, res.text)
            assert res.status_code < 500, (name, persona, res.text)
            rows.append((name, persona, outcome))
    # The table really differs by persona: spot-check rows that matter.
    got = {(n, p): o for n, p, o in rows}
    assert got[("access.review", "external developer")] == "403"
    assert got[("access.review", "auditor")] == "403"
    assert got[("access.break_glass", "external developer")] == "403"
    assert got[("invitation.create", "internal requester")] == "403"
    assert got[("invitation.create", "admin")] == "allowed"
    assert got[("audit.events", "auditor")] == "allowed"
    assert got[("audit.events", "external developer")] == "403"
    assert got[("access.review", "approver")] == "allowed"
    assert got[("web.decide", "external developer")] == "403"
    assert got[("web.decide", "auditor")] == "403"
    assert got[("web.audit", "external developer")] == "403"
    assert got[("web.audit", "auditor")] == "allowed"
    assert got[("web.inbox", "anonymous")] == "sign-in"
    assert ActorClass.PIPELINE not in (POLICY["access.review"] or frozenset())
    # --- pipeline ---
    assert got[("gate.report", "CI service principal")] == "allowed"
    assert got[("gate.check", "CI service principal")] == "allowed"
    assert got[("gate.submit", "CI service principal")] == "allowed"
    assert got[("gate.submit", "external developer")] == "allowed"
    assert got[("gate.report", "approver")] == "403"
    assert got[("gate.check", "admin")] == "403"
    assert got[("gate.approve", "CI service principal")] == "403"
    assert got[("gate.break_glass", "CI service principal")] == "403"
    assert got[("gate.break_glass", "external developer")] == "403"
    assert got[("access.break_glass", "CI service principal")] == "403"
    assert got[("access.review", "CI service principal")] == "403"
    # --- reviewscope: withdrawing one's own approval is an approver's act ---
    for route in ("access.review.withdraw", "gate.approve.withdraw"):
        assert got[(route, "anonymous")] == "401"
        assert got[(route, "approver")] == "allowed"
        assert got[(route, "admin")] == "allowed"
        for persona in ("external developer", "auditor", "CI service principal"):
            assert got[(route, persona)] == "403", (route, persona)
    for route in ("step_up", "mfa.webauthn.registration.options", "mfa.webauthn.register"):
        assert got[(route, "anonymous")] == "401"
        assert got[(route, "external developer")] == "allowed"  # for oneself only
        assert ActorClass.PIPELINE not in (POLICY[route] or frozenset())
