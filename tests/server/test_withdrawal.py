"""An approver withdraws their own approval (step-up MFA, audited); it then counts for
nothing: the grant it made ends and credential issuance refuses."""

from __future__ import annotations

import psycopg
import pytest

from tests.server.conftest import Person, World, pg_session


def _request(p: Person) -> str:
    res = p.post("/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "x"})
    assert res.status_code == 201, res.text
    return str(res.json()["request"])


def _approve(bob: Person, rid: str) -> str:
    res = bob.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()})
    assert res.status_code == 200, res.text
    return str(res.json()["grant"])


def test_a_withdrawn_approval_ends_its_grant_and_refuses_credentials(
    world: World, people: dict[str, Person]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    rid = _request(alice)
    gid = _approve(bob, rid)
    url = f"/api/v1/access/requests/{rid}/reviews/withdrawal"
    # only the approver withdraws, and only with a fresh factor
    res = carol.post(url, {"otp": carol.otp()})
    assert res.status_code == 403 and "'carol' has no approval" in res.text
    res = bob.post(url, {"otp": "000000"})
    assert res.status_code in (401, 403), res.text
    res = bob.post(url, {"otp": bob.otp(), "reason": "wrong ticket"})
    assert res.status_code == 200, res.text
    assert res.json()["grant"] == gid and res.json()["withdrawn_by"] == "bob"
    [withdrawn] = [
        e
        for e in world.events()
        if e.code == "access.review.withdrawn" and e.status.value == "Success"
    ]
    assert withdrawn.actor == "bob" and withdrawn.resource == f"request:{rid}"
    res = alice.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()})
    assert res.status_code == 403, res.text
    again = bob.post(url, {"otp": bob.otp()})
    assert again.status_code == 403 and "already withdrew" in again.text


def test_withdrawing_after_issuance_removes_the_login(
    world: World, people: dict[str, Person]
) -> None:
    alice, bob = people["alice"], people["bob"]
    rid = _request(alice)
    gid = _approve(bob, rid)
    res = alice.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()})
    assert res.status_code == 200, res.text
    [cred] = res.json()
    pg_session(cred).close()  # the login works
    res = bob.post(f"/api/v1/access/requests/{rid}/reviews/withdrawal", {"otp": bob.otp()})
    assert res.status_code == 200, res.text
    with pytest.raises(psycopg.OperationalError):
        pg_session(cred)
    [grant] = [g for g in alice.get("/api/v1/access/grants").json() if g["id"] == gid]
    assert grant["status"] == "revoked"
