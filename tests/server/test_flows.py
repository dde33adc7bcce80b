"""The issue-10 bypasses, rewritten against the server: each must now fail."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import PASSWORD, Person, World


def _request(p: Person, role: str = "prod-read", duration: str = "1h") -> str:
    res = p.post("/api/v1/access/requests", {"role": role, "duration": duration, "reason": "INC-1"})
    assert res.status_code == 201, res.text
    return str(res.json()["request"])


def test_approval_is_by_the_logged_in_person_only(world: World, people: dict[str, Person]) -> None:
    alice, bob = people["alice"], people["bob"]
    rid = _request(alice)
    # A body naming another reviewer is refused: nothing a client sends names the actor.
    res = alice.post(
        f"/api/v1/access/requests/{rid}/reviews",
        {"approve": True, "otp": alice.otp(), "reviewer": "bob"},
    )
    assert res.status_code == 422
    # Alice approving her own request is refused, and the log names alice, not bob.
    res = alice.post(
        f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": alice.otp()}
    )
    assert res.status_code == 403
    assert "own request" in res.json()["detail"]
    res = bob.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()})
    assert res.status_code == 200, res.text
    assert res.json()["outcome"] == "approved"
    review = [e for e in world.events() if e.code == "access.review.recorded"][-1]
    assert review.actor == "bob"
    raw = review.raw.decode()
    assert '"method":"local"' in raw and '"step_up":{' in raw and '"totp"' in raw


def test_external_cannot_approve_request_or_break_glass(
    world: World, people: dict[str, Person]
) -> None:
    rid = _request(people["alice"])
    dana = people["dana"]
    res = dana.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": dana.otp()})
    assert res.status_code == 403 and "may not call access.review" in res.json()["detail"]
    res = dana.post(
        "/api/v1/access/break-glass", {"role": "prod-read", "reason": "x", "otp": dana.otp()}
    )
    assert res.status_code == 403
    res = dana.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "x"}
    )
    assert res.status_code == 403 and "externals never" in res.json()["detail"]


def test_service_principal_gets_no_account(world: World) -> None:
    from stagewall.errors import UsageError
    from stagewall.identity import accounts

    try:
        world.invite("deploybot")
    except UsageError as exc:
        assert "local accounts are for people" in exc.message
    else:
        raise AssertionError("a service principal was invited to a local account")
    _ = accounts


def test_factor_reset_needs_another_internal_person_and_quarantines(
    world: World, people: dict[str, Person]
) -> None:
    bob, carol, dana = people["bob"], people["carol"], people["dana"]
    bob.login()
    # An external cannot reset anyone's factor.
    res = dana.post("/api/v1/principals/bob/mfa/reset", {"otp": dana.otp()})
    assert res.status_code == 403
    # Nobody resets their own factor.
    res = bob.post("/api/v1/principals/bob/mfa/reset", {"otp": bob.otp()})
    assert res.status_code == 403
    res = carol.post("/api/v1/principals/bob/mfa/reset", {"otp": carol.otp()})
    assert res.status_code == 204, res.text
    # bob's logins are revoked, an alert went out, and carol cannot enrol bob's factor:
    # enrolment is only ever for the caller, and carol is already enrolled.
    assert bob.get("/api/v1/whoami").status_code == 401
    assert any(a["kind"] == "identity.factor.reset" for a in world.alerts())
    res = carol.post("/api/v1/mfa/totp")
    assert res.status_code == 403 and "already enrolled" in res.json()["detail"]
    # bob logs in with his password only: an enrolment-only token.
    res = world.client.post("/api/v1/session", json={"principal": "bob", "password": PASSWORD})
    assert res.status_code == 200 and res.json()["enrol_only"] is True
    enrol_headers = {"Authorization": f"Bearer {res.json()['token']}"}
    assert world.client.get("/api/v1/access/grants", headers=enrol_headers).status_code == 403
    res = world.client.post("/api/v1/mfa/totp", headers=enrol_headers)
    assert res.status_code == 200
    bob.secret, bob.token, bob._last_step = res.json()["totp_secret"], None, -1
    # bob is back, but may approve nothing for 24 hours.
    rid = _request(people["alice"])
    res = bob.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()})
    assert res.status_code == 403 and "may approve nothing until" in res.json()["detail"]


def test_login_failures_are_audited_and_rate_limited(
    world: World, people: dict[str, Person]
) -> None:
    codes = []
    for _ in range(6):
        res = world.client.post(
            "/api/v1/session", json={"principal": "alice", "password": "wrong", "otp": "000000"}
        )
        codes.append(res.status_code)
    assert codes[:5] == [401] * 5 and codes[5] == 429
    failures = [
        e for e in world.events() if e.code == "identity.login" and e.status.value == "Failure"
    ]
    assert len(failures) == 5
    # The attempted password and code never reach the log.
    assert not any('"wrong"' in e.raw.decode() or "000000" in e.raw.decode() for e in failures)


def test_unknown_and_revoked_tokens_are_refused(world: World, people: dict[str, Person]) -> None:
    alice = people["alice"]
    assert alice.get("/api/v1/whoami").json()["principal"] == "alice"
    res = world.client.get("/api/v1/whoami", headers={"Authorization": "Bearer swt_forged"})
    assert res.status_code == 401
    assert res.headers["content-type"].startswith("application/problem+json")
    assert world.client.delete("/api/v1/session", headers=alice.headers()).status_code == 204
    assert alice.get("/api/v1/whoami").status_code == 401


def test_credentials_and_grants_through_the_server(world: World, people: dict[str, Person]) -> None:
    alice, bob, dana = people["alice"], people["bob"], people["dana"]
    rid = _request(alice)
    gid = bob.post(
        f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()}
    ).json()["grant"]
    # Nobody but the holder gets the credentials.
    res = bob.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": bob.otp()})
    assert res.status_code == 403
    res = alice.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()})
    assert res.status_code == 200, res.text
    creds: list[dict[str, Any]] = res.json()
    assert creds[0]["password"]
    # An external sees only their own grants.
    assert dana.get("/api/v1/access/grants").json() == []
    assert [g["id"] for g in alice.get("/api/v1/access/grants").json()] == [gid]


def test_inbox_lists_what_waits_for_me(world: World, people: dict[str, Person]) -> None:
    rid = _request(people["alice"])
    inbox = people["bob"].get("/api/v1/inbox").json()
    assert [x["id"] for x in inbox["to_review"]] == [rid]
    assert people["alice"].get("/api/v1/inbox").json()["to_review"] == []
    assert [x["id"] for x in people["alice"].get("/api/v1/inbox").json()["my_pending"]] == [rid]


def test_evidence_checks_for_auditors_only(world: World, people: dict[str, Person]) -> None:
    res = people["audrey"].get("/api/v1/evidence/checks")
    assert res.status_code == 200, res.text
    body = res.json()
    text = str(body)
    assert "separation" in text or "access" in text
    assert people["dana"].get("/api/v1/evidence/checks").status_code == 403


def test_admin_sessions_kept_while_serving_are_closed_at_stop(
    world: World, people: dict[str, Person]
) -> None:
    from fastapi.testclient import TestClient

    alice, bob = people["alice"], people["bob"]
    plain = world.client
    with TestClient(world.app) as serving:  # runs the lifespan: serving, then stopping
        world.client = serving
        try:
            rid = _request(alice)
            gid = bob.post(
                f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()}
            ).json()["grant"]
            res = alice.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()})
            assert res.status_code == 200, res.text
            issuer: Any = world.state.ctx.issuer("prod-db")
            [kept] = [conn for conn, _at in issuer._idle]
            assert not kept.closed
        finally:
            world.client = plain
    assert kept.closed and issuer._idle == []
