"""Red team (store insider): a planted WebAuthn challenge let a captured assertion replay.

A passkey step-up answers a challenge the server issued to this session, single-use and
valid for five minutes, and the challenge was a plain row: whoever could write the store
and had captured one assertion of a person (a passkey that reports no signature counter,
as many do) planted a row with that assertion's challenge on a session of that person
and replayed the assertion as a fresh step-up, hours later. Each challenge row now
carries ``row_mac`` under the server's token key; a row without a valid seal is refused
(SW871, a kind of SW841) and recorded and alerted (``identity.token.row_refused``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select

from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_webauthn_challenges as challenges
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World
from tests.server.test_passkeys import _assertion, _register, _request, _review
from tests.server.test_passkeys import trio as trio
from tests.server.test_redteam_token_rows import _whoami

KIND = "identity.token.row_refused"


def _signed_challenge(assertion: dict[str, Any]) -> bytes:
    text = assertion["response"]["clientDataJSON"]
    client = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    value = str(client["challenge"])
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _plant(world: World, p: Person, challenge: bytes) -> str:
    status, me = _whoami(world, p.token or "")
    assert status == 200, me
    now = world.clock()
    row = {
        "id": "wcplanted0001",
        "challenge_hash": hashlib.sha256(challenge).hexdigest(),
        "challenge": challenge,
        "purpose": "assertion",
        "principal": p.name,
        "session_id": me["session"],
        "created_at": fmt(now),
        "expires_at": fmt(now + timedelta(minutes=5)),
    }
    # the insider fills every column the table has (before the fix: no row_mac)
    seal = {"row_mac": "0" * 64} if "row_mac" in challenges.c else {}
    with world.state.ctx.store.transaction() as conn:  # the spent row goes, a fresh one in
        conn.execute(delete(challenges).where(challenges.c.challenge_hash == row["challenge_hash"]))
        conn.execute(insert(challenges).values(**row, **seal))
    return str(row["id"])


def test_a_planted_challenge_does_not_replay_an_assertion(
    world: World, trio: dict[str, Person]
) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    captured = _assertion(bob, key, bump=0)  # a passkey without a signature counter
    assert _review(bob, _request(alice), webauthn=captured).status_code == 200
    world.clock.advance(timedelta(hours=3))  # the challenge is long gone
    bob.token = None
    bob.login()  # a session the insider holds, without the passkey
    planted = _plant(world, bob, _signed_challenge(captured))
    res = _review(bob, _request(alice), webauthn=captured)
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW871", res.json()
    [event] = [e for e in world.events() if e.code == KIND]
    assert event.details["table"] == "identity_webauthn_challenges"
    assert event.details["row"] == planted and event.details["error"] == "SW871"
    assert "0" * 64 not in event.raw.decode()
    assert [a for a in world.alerts() if a["kind"] == KIND]


def test_issued_challenges_carry_their_seal(world: World, trio: dict[str, Person]) -> None:
    bob = trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    assert _review(bob, _request(trio["alice"]), webauthn=_assertion(bob, key)).status_code == 200
    with world.state.ctx.store.read() as conn:
        macs = [r.row_mac for r in conn.execute(select(challenges)).all()]
    assert macs and all(len(m) == 64 for m in macs)
