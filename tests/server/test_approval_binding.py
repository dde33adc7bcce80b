"""Access approvals are bound to the audit events that recorded them.

A grant's approval row written or edited straight in the store makes the grant
confer nothing: credential issuance refuses it (and the sweeper ends it).
"""

from __future__ import annotations

from sqlalchemy import insert, update

from stagewall.access._tables import access_reviews
from tests.rows import insert_approval
from tests.server.conftest import Person, World
from tests.server.test_flows import _request


def _approved_grant(people: dict[str, Person]) -> str:
    alice, bob = people["alice"], people["bob"]
    rid = _request(alice)
    res = bob.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()})
    assert res.status_code == 200, res.text
    return str(res.json()["grant"])


def test_review_rows_carry_their_event(world: World, people: dict[str, Person]) -> None:
    _approved_grant(people)
    with world.state.ctx.store.read() as conn:
        row = conn.execute(access_reviews.select()).one()
    event = [e for e in world.events() if e.code == "access.review.recorded"][-1]
    assert (row.audit_index, row.audit_leaf) == (event.index, event.leaf_hash.hex())


def test_an_approval_row_edited_in_the_store_blocks_credentials(
    world: World, people: dict[str, Person]
) -> None:
    gid = _approved_grant(people)
    store = world.state.ctx.store
    with store.transaction() as conn:
        conn.execute(update(access_reviews).values(audit_index=None, audit_leaf=None))
    res = people["alice"].post(
        f"/api/v1/access/grants/{gid}/credentials", {"otp": people["alice"].otp()}
    )
    assert res.status_code == 403, res.text
    assert "approval by bob" in res.json()["detail"]
    assert "names no audit event" in res.json()["detail"]


def test_an_approval_row_inserted_into_the_store_blocks_credentials(
    world: World, people: dict[str, Person]
) -> None:
    gid = _approved_grant(people)
    store = world.state.ctx.store
    with store.read() as conn:
        rid = conn.execute(access_reviews.select()).one().request_id
        bound = conn.execute(access_reviews.select()).one()
    with store.transaction() as conn:
        # Carol's "approval", pointing at bob's genuine event: still refused.
        conn.execute(
            insert(access_reviews).values(
                request_id=rid, reviewer="carol", decision="approve", reason="",
                mfa_method="totp", mfa_time=bound.mfa_time, created_at=bound.created_at,
                audit_index=bound.audit_index, audit_leaf=bound.audit_leaf,
            )
        )  # fmt: skip
    res = people["alice"].post(
        f"/api/v1/access/grants/{gid}/credentials", {"otp": people["alice"].otp()}
    )
    assert res.status_code == 403, res.text
    assert "approval by carol" in res.json()["detail"]
    assert "written by bob, not carol" in res.json()["detail"]


def test_the_sweeper_alerts_an_inserted_approval_row(
    world: World, people: dict[str, Person]
) -> None:
    from stagewall.server.sweeper import Leadership, tick

    rid = _request(people["alice"])
    leadership = Leadership(world.state)
    try:
        tick(world.state, leadership)  # the genuine rows so far are fine
        assert not [e for e in world.events() if e.code == "gate.row.unbound"]
        insert_approval(world.state.ctx.store, rid, "bob")
        tick(world.state, leadership)
        tick(world.state, leadership)  # reported once, not on every sweep
    finally:
        leadership.release()
    found = [e for e in world.events() if e.code == "gate.row.unbound"]
    assert len(found) == 1 and found[0].details["reviewer"] == "bob"
    assert "names no audit event" in found[0].message
    assert any(a["kind"] == "gate.row.unbound" for a in world.alerts())
