"""Red team (store insider): a step-up window written in the store skipped the second factor.

A privileged act with no factor in its request passes when the caller's session holds an
open step-up window, and the window was a plain row of ``identity_step_up_windows``:
whoever could write the store could insert one for their own session (or push out the
end of one that had closed) and approve without ever giving a code. The row now carries
``row_mac`` under the server's token key over its session, principal, factor and times;
a row without a valid seal counts as no window (SW869, a kind of SW721) and is recorded
and alerted (``identity.token.row_refused``), once per row per window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update

from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_step_up_windows as windows
from stagewall.web._queries import step_up_until
from tests.server.conftest import Person, World
from tests.server.test_passkeys import _request, _review
from tests.server.test_passkeys import trio as trio
from tests.server.test_redteam_token_rows import _whoami

KIND = "identity.token.row_refused"


def _session(world: World, p: Person) -> str:
    status, me = _whoami(world, p.token or "")
    assert status == 200, me
    return str(me["session"])


def _recorded(world: World) -> list[Any]:
    return [e for e in world.events() if e.code == KIND]


def _alerted(world: World) -> list[dict[str, Any]]:
    return [a for a in world.alerts() if a["kind"] == KIND]


def _refused(res: Any) -> None:
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW869", res.json()


def test_a_planted_window_is_no_step_up(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    rid = _request(alice)
    session = _session(world, bob)
    now = world.clock()
    row = {
        "session_id": session,
        "principal": "bob",
        "factor": "totp",
        "verified_at": fmt(now),
        "expires_at": fmt(now + timedelta(seconds=120)),
    }
    with world.state.ctx.store.transaction() as conn:
        # the insider fills every column the table has (before the fix: no row_mac)
        seal = {"row_mac": "0" * 64} if "row_mac" in windows.c else {}
        conn.execute(insert(windows).values(**row, **seal))
    for _ in range(3):
        _refused(_review(bob, rid))
    assert step_up_until(world.state.ctx.store, session, fmt(now)) is None  # nor shown open
    [event], [alert] = _recorded(world), _alerted(world)
    assert event.details["table"] == "identity_step_up_windows"
    assert event.details["row"] == session and event.details["error"] == "SW869"
    assert event.details["row_principal"] == "bob" and event.actor == "stagewall"
    assert alert["severity"] == "critical" and session in alert["title"]
    assert "0" * 64 not in event.raw.decode() and bob.token not in str(alert)
    # a real window, opened with a factor, still works (and replaces the planted row)
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200
    assert _review(bob, rid).status_code == 200


def test_an_extended_window_is_no_step_up(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200
    world.clock.advance(timedelta(seconds=121))  # the window closed
    rid = _request(alice)
    res = _review(bob, rid)
    assert res.status_code == 403 and res.json()["code"] == "SW721"
    session = _session(world, bob)
    later = fmt(world.clock() + timedelta(hours=8))
    with world.state.ctx.store.transaction() as conn:
        got = conn.execute(
            update(windows).where(windows.c.session_id == session).values(expires_at=later)
        )
        assert got.rowcount == 1
    _refused(_review(bob, rid))
    [event] = _recorded(world)
    assert event.details["row"] == session and event.details["error"] == "SW869"


def test_a_window_moved_to_another_session_is_no_step_up(
    world: World, trio: dict[str, Person]
) -> None:
    alice, bob, carol = trio["alice"], trio["bob"], trio["carol"]
    assert carol.post("/api/v1/step-up", {"otp": carol.otp()}).status_code == 200
    theirs, mine = _session(world, carol), _session(world, bob)
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            update(windows)
            .where(windows.c.session_id == theirs)
            .values(session_id=mine, principal="bob")
        )
    _refused(_review(bob, _request(alice)))


def test_the_seal_is_stored_with_each_window(world: World, trio: dict[str, Person]) -> None:
    bob = trio["bob"]
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200
    with world.state.ctx.store.read() as conn:
        [row] = conn.execute(select(windows)).all()
    assert len(row.row_mac) == 64 and row.row_mac != "0" * 64


def test_a_window_written_back_after_a_reset_serves_no_login(
    world: World, trio: dict[str, Person]
) -> None:
    """A regression guard (sealgaps; it passes before and after): the sealed row of a
    window the server closed, written back unchanged within its 120 s, still verifies,
    but the reset that closed it revoked the session in the same transaction."""
    alice, bob, carol = trio["alice"], trio["bob"], trio["carol"]
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200
    with world.state.ctx.store.read() as conn:
        [row] = conn.execute(select(windows)).all()
    res = alice.post("/api/v1/principals/bob/mfa/reset", {"otp": alice.otp()})
    assert res.status_code == 204, res.text
    with world.state.ctx.store.transaction() as conn:
        conn.execute(insert(windows).values(**dict(row._mapping)))
    res = _review(bob, _request(carol))
    assert res.status_code == 401 and res.json()["code"] == "SW720", res.text
