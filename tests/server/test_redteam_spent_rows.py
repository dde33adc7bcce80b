"""Red team (store insider): a spent challenge or invitation, marked unused again, replayed.

A WebAuthn challenge is burned by setting ``used_at``, an invitation link by
``accepted_at`` and ``confirmed_at``; none of the three is covered by the row's seal, and
a seal could not help anyway: the row as it was before it was spent (seal included) is
one the insider has read and can write back. So with store write,

* a passkey assertion captured once (a passkey that reports no signature counter, as
  many do) was accepted a second time on the same login within the challenge's five
  minutes, for a second privileged act, once ``used_at`` was set back to NULL;
* an invitation link that someone had already used (the admin who made it, anyone it was
  forwarded to) enrolled a new password and TOTP secret for the person it was for, once
  ``accepted_at``/``confirmed_at`` were set back and the person's TOTP row deleted: a
  takeover of the account.

Spending is now recorded where the store writer cannot take it back: the challenge's
burn appends ``identity.webauthn.challenge_used`` in the same transaction, and an
invitation's acceptance and confirmation already append their events. A row that claims
to be unspent while the audit log records it spent is refused (SW947 for a challenge,
SW948 for an invitation), recorded and alerted (``identity.token.row_refused``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update

from stagewall.identity._tables import identity_invitations as invitations
from stagewall.identity._tables import identity_webauthn_challenges as challenges
from stagewall.mfa._tables import mfa_enrolments
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_passkeys import _assertion, _register, _request, _review
from tests.server.test_passkeys import trio as trio
from tests.server.test_redteam_challenge_row import _signed_challenge

KIND = "identity.token.row_refused"


def _recorded(world: World, code: str) -> list[Any]:
    return [e for e in world.events() if e.code == KIND and e.details["error"] == code]


def test_a_used_challenge_set_unused_does_not_replay(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    captured = _assertion(bob, key, bump=0)  # a passkey without a signature counter
    assert _review(bob, _request(alice), webauthn=captured).status_code == 200
    with world.state.ctx.store.transaction() as conn:  # within the five minutes
        got = conn.execute(update(challenges).values(used_at=None))
        assert got.rowcount >= 1
    res = _review(bob, _request(alice), webauthn=captured)
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW947", res.json()
    assert "already used" in res.json()["detail"]
    [event] = _recorded(world, "SW947")
    assert event.details["table"] == "identity_webauthn_challenges"
    assert event.actor == "stagewall" and event.details["row_principal"] == "bob"
    assert captured["response"]["signature"] not in event.raw.decode()
    assert [a for a in world.alerts() if a["kind"] == KIND and "SW947" in a["title"]]
    # the spent challenge stays spent: the same row cannot be re-armed twice either
    again = _review(bob, _request(alice), webauthn=captured)
    assert again.status_code == 403 and again.json()["code"] in {"SW841", "SW947"}


def test_every_challenge_burn_is_in_the_log(world: World, trio: dict[str, Person]) -> None:
    bob = trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    assertion = _assertion(bob, key)
    assert _review(bob, _request(trio["alice"]), webauthn=assertion).status_code == 200
    used = [e for e in world.events() if e.code == "identity.webauthn.challenge_used"]
    # one for the registration's challenge, one for the assertion's
    assert len(used) == 2 and {e.actor for e in used} == {"bob"}
    challenge = _signed_challenge(assertion)
    assert challenge.hex() not in used[-1].raw.decode()


def _open_link(world: World, *, confirm: bool) -> dict[str, str]:
    """An admin's (carol's) link for bob, opened and, if ``confirm``, confirmed."""
    world.onboard("alice")
    carol = world.onboard("carol")
    carol.login()
    made = carol.post("/api/v1/invitations", {"principal": "bob", "otp": carol.otp()})
    assert made.status_code == 200, made.text
    link = {"token": made.json()["token"]}
    opened = world.client.post("/api/v1/invitations/accept", json={**link, "password": PASSWORD})
    assert opened.status_code == 200, opened.text
    if confirm:
        bob = Person(world, "bob", opened.json()["totp_secret"])
        done = world.client.post("/api/v1/invitations/confirm", json={**link, "otp": bob.otp()})
        assert done.status_code == 200, done.text
    return link


def _reset_link(world: World, name: str) -> None:
    with world.state.ctx.store.transaction() as conn:
        got = conn.execute(
            update(invitations)
            .where(invitations.c.principal == name)
            .values(accepted_at=None, confirmed_at=None)
        )
        assert got.rowcount == 1
        conn.execute(delete(mfa_enrolments).where(mfa_enrolments.c.principal == name))


def _accept_again(world: World, link: dict[str, str]) -> Any:
    return world.client.post("/api/v1/invitations/accept", json={**link, "password": PASSWORD})


def test_a_used_invitation_set_unused_does_not_enrol_again(world: World) -> None:
    link = _open_link(world, confirm=True)
    _reset_link(world, "bob")
    # whoever kept the link (carol made it) tries to enrol a factor of their own for bob
    res = _accept_again(world, link)
    assert res.status_code == 401, res.text
    assert res.json()["code"] == "SW948", res.json()
    assert "totp_secret" not in res.json()
    [event] = _recorded(world, "SW948")
    assert event.details["table"] == "identity_invitations"
    assert event.details["row_principal"] == "bob" and link["token"] not in event.raw.decode()
    assert [a for a in world.alerts() if a["kind"] == KIND and "SW948" in a["title"]]


def test_an_opened_invitation_set_unopened_does_not_enrol_again(world: World) -> None:
    link = _open_link(world, confirm=False)
    _reset_link(world, "bob")  # opened, never confirmed: accepted_at back to NULL
    res = _accept_again(world, link)
    assert res.status_code == 401, res.text
    assert res.json()["code"] == "SW948", res.json()


def test_an_honest_link_is_not_refused_over_its_steps(world: World) -> None:
    # the check reads the log: opening, then confirming, an untouched link still works
    _open_link(world, confirm=True)
    assert not _recorded(world, "SW948")
    assert [e for e in world.events() if e.code == "identity.account.created"]
