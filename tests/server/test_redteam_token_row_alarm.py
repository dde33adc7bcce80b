"""Red team (store insider): a forged or altered token row was refused, quietly.

A row the server did not make (SW973), one edited since (SW974) or one put back after
its revocation (SW868) is proof that someone wrote the control-plane store, yet the
server only logged a warning: nothing in the audit log, no alert. Such a row is now
recorded (``identity.token.row_refused``, no secret, digest or MAC of the row in it)
and alerted, once per row per window, at most MAX_PER_WINDOW rows per window, so a
script presenting planted tokens in a loop cannot flood the log or the pager.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, update

from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_tokens
from stagewall.server._token_rows import MAX_PER_WINDOW, WINDOW
from tests.server.conftest import Person, World
from tests.server.test_redteam_token_rows import _ingest, _refused, _whoami, plant
from tests.server.test_redteam_token_rows import pair as pair

KIND = "identity.token.row_refused"


def _recorded(world: World) -> list[Any]:
    return [e for e in world.events() if e.code == KIND]


def _alerted(world: World) -> list[dict[str, Any]]:
    return [a for a in world.alerts() if a["kind"] == KIND]


def test_a_forged_row_is_recorded_and_alerted_without_its_secrets(
    world: World, pair: dict[str, Person]
) -> None:
    chosen, row = plant(world)
    _refused(world, chosen, "SW973")
    [event], [alert] = _recorded(world), _alerted(world)
    assert event.details["row"] == row["id"] and event.details["error"] == "SW973"
    assert event.details["table"] == "identity_tokens"
    assert event.details["row_principal"] == "alice"
    assert event.resource == f"identity_tokens:{row['id']}" and event.actor == "stagewall"
    assert alert["severity"] == "critical" and row["id"] in alert["title"]
    assert alert["details"]["error"] == "SW973"
    # Neither names the token, its digest, the row's CSRF secret or its MAC.
    for secret in (chosen, row["token_hash"], row["csrf"], row["row_mac"]):
        assert secret not in event.raw.decode()
        assert secret not in str(alert)


def test_an_altered_row_is_recorded_and_alerted(world: World, pair: dict[str, Person]) -> None:
    bob = pair["bob"]
    token = bob.token or ""
    session = _whoami(world, token)[1]["session"]
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            update(identity_tokens).where(identity_tokens.c.id == session).values(principal="alice")
        )
    _refused(world, token, "SW974")
    [event], [alert] = _recorded(world), _alerted(world)
    assert (event.details["row"], event.details["error"]) == (session, "SW974")
    assert token not in event.raw.decode() and token not in str(alert)
    assert "changed since" in alert["title"] + alert["text"]


def test_a_row_presented_in_a_loop_is_reported_once_per_window(
    world: World, pair: dict[str, Person]
) -> None:
    chosen, _ = plant(world)
    for _ in range(5):
        _refused(world, chosen, "SW973")
    assert len(_recorded(world)) == 1 and len(_alerted(world)) == 1
    world.clock.advance(WINDOW + timedelta(seconds=1))
    _refused(world, chosen, "SW973")
    events = _recorded(world)
    assert len(events) == 2 and len(_alerted(world)) == 2
    assert events[1].details["reports_held_back"] == 4  # the loop is counted, not lost
    assert "4 more refusal(s) were not reported" in _alerted(world)[1]["text"]


def test_many_planted_rows_are_reported_up_to_the_window_budget(
    world: World, pair: dict[str, Person]
) -> None:
    planted = [plant(world)[0] for _ in range(MAX_PER_WINDOW + 3)]
    for chosen in planted:
        _refused(world, chosen, "SW973")  # every one is refused
    assert len(_recorded(world)) == MAX_PER_WINDOW
    assert len(_alerted(world)) == MAX_PER_WINDOW
    world.clock.advance(WINDOW + timedelta(seconds=1))
    _refused(world, planted[-1], "SW973")
    events = _recorded(world)
    assert len(events) == MAX_PER_WINDOW + 1
    assert events[-1].details["reports_held_back"] == 3


def test_a_forged_ingest_token_row_is_recorded_and_alerted(world: World) -> None:
    from stagewall.monitoring._tables import monitoring_ingest_tokens as t

    chosen = "swi_" + secrets.token_urlsafe(32)
    row = {
        "id": "it" + secrets.token_hex(6),
        "source": "bastion-ssh",
        "token_hash": hashlib.sha256(chosen.encode()).hexdigest(),
        "created_at": fmt(world.clock()),
        "created_by": "server-operator",
        "row_mac": "0" * 64,
    }
    with world.state.ctx.store.transaction() as conn:
        conn.execute(insert(t).values(**row))
    for _ in range(3):
        status, body = _ingest(world, "bastion-ssh", chosen)
        assert (status, body["code"]) == (401, "SW973"), body
    [event], [alert] = _recorded(world), _alerted(world)
    assert event.details["table"] == "monitoring_ingest_tokens"
    assert event.details["row"] == row["id"]
    assert chosen not in event.raw.decode() and row["token_hash"] not in str(alert)
