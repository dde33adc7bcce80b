"""Red team (store insider): renaming who made an invitation lifted the quarantine.

A first factor enrolled through an admin's invitation approves nothing for a day; the
host operator's links (the first people's) are exempt. The quarantine read
``created_by`` straight from the store, so whoever could write it renamed an admin's
link to the operator's and the person it enrolled (perhaps the admin themselves) could
approve at once. ``created_by`` is covered by the invitation's seal: a link that names
the operator counts as the operator's only when its seal verifies.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from stagewall.estate.models import HOST_OPERATOR
from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_invitations
from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_passkeys import _request, _review


def _carols_link_for_bob(world: World, carol: Person) -> Person:
    """bob, who opened and confirmed an invitation that carol (an admin) made."""
    made = carol.post("/api/v1/invitations", {"principal": "bob", "otp": carol.otp()})
    assert made.status_code == 200, made.text
    link = {"token": made.json()["token"]}
    opened = world.client.post("/api/v1/invitations/accept", json={**link, "password": PASSWORD})
    assert opened.status_code == 200, opened.text
    bob = Person(world, "bob", opened.json()["totp_secret"])
    done = world.client.post("/api/v1/invitations/confirm", json={**link, "otp": bob.otp()})
    assert done.status_code == 200, done.text
    return bob


def _edit_bobs_link_then_refused(world: World, bob: Person, rid: str, **values: str) -> None:
    """The insider edits bob's link row; bob's approval is still refused (quarantine)."""
    with world.state.ctx.store.transaction() as conn:
        got = conn.execute(
            update(identity_invitations)
            .where(identity_invitations.c.principal == "bob")
            .values(**values)
        )
        assert got.rowcount == 1
    bob.login()
    res = _review(bob, rid, otp=bob.otp())
    assert res.status_code == 403, res.text
    assert "through an invitation and may approve nothing until" in res.json()["detail"]


def test_a_link_renamed_to_the_operators_starts_the_quarantine(world: World) -> None:
    alice, carol = world.onboard("alice"), world.onboard("carol")  # the host's links
    carol.login()
    rid = _request(alice)
    bob = _carols_link_for_bob(world, carol)
    _edit_bobs_link_then_refused(world, bob, rid, created_by=HOST_OPERATOR)


def test_the_operators_own_links_still_start_no_quarantine(world: World) -> None:
    alice, carol = world.onboard("alice"), world.onboard("carol")
    carol.login()
    assert _review(carol, _request(alice), otp=carol.otp()).status_code == 200


def test_a_link_opened_earlier_in_the_store_still_starts_the_quarantine(world: World) -> None:
    """sealgaps: ``accepted_at`` is not covered by the seal; moved back two days in the
    store it lifted the quarantine. The quarantine also reads the
    ``identity.invitation.accepted`` event, which the store writer cannot move."""
    alice, carol = world.onboard("alice"), world.onboard("carol")
    carol.login()
    rid = _request(alice)
    bob = _carols_link_for_bob(world, carol)
    long_ago = fmt(world.clock() - timedelta(days=2))
    _edit_bobs_link_then_refused(world, bob, rid, accepted_at=long_ago)
