"""Red team (store insider): a token row put back as it was before its revocation.

Token rows are sealed with the server's ``token.key`` (test_redteam_token_rows), so an
edited row or a cleared ``revoked_at`` is refused. But a row saved before its token was
revoked (or a table restored from a backup) carries a seal the key did make: written
back, the signed-out session, the revoked pipeline or ingest token worked again. Every
revocation now appends ``identity.token.revoked`` to the audit log in its transaction,
and the query that reads a row asks the log for it: a restored row is refused (SW868),
and an unreadable log refuses every token (SW867).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Table, select, text, update

from stagewall.identity._tables import identity_tokens
from stagewall.identity.tokens import revoke_all
from tests.server.conftest import Person, World
from tests.server.test_redteam_token_rows import _ingest, _refused, _whoami
from tests.server.test_redteam_token_rows import pair as pair


def _saved(world: World, table: Table, row_id: str) -> dict[str, Any]:
    """The insider's copy of a row, seal and all, taken while its token is live."""
    with world.state.ctx.store.read() as conn:
        return dict(conn.execute(select(table).where(table.c.id == row_id)).one()._mapping)


def _put_back(world: World, table: Table, saved: dict[str, Any]) -> None:
    """The insider writes the saved row back (or restores the table from a backup)."""
    with world.state.ctx.store.transaction() as conn:
        done = conn.execute(update(table).where(table.c.id == saved["id"]).values(**saved))
        assert done.rowcount == 1


def _session(world: World, token: str) -> str:
    status, me = _whoami(world, token)
    assert status == 200, me
    return me["session"]


def test_a_signed_out_session_put_back_as_it_was_is_refused(
    world: World, pair: dict[str, Person]
) -> None:
    bob = pair["bob"]
    token = bob.token or ""
    saved = _saved(world, identity_tokens, _session(world, token))
    assert world.client.delete("/api/v1/session", headers=bob.headers()).status_code == 204
    assert _whoami(world, token)[0] == 401
    _put_back(world, identity_tokens, saved)
    _refused(world, token, "SW868")
    revoked = [e for e in world.events() if e.code == "identity.token.revoked"]
    assert [e.resource for e in revoked] == [f"token:{saved['id']}"]
    assert _whoami(world, pair["alice"].token or "")[0] == 200  # alice's own still works


def test_tokens_revoked_all_at_once_put_back_are_refused(
    world: World, pair: dict[str, Person]
) -> None:
    token = pair["alice"].token or ""
    saved = _saved(world, identity_tokens, _session(world, token))
    assert revoke_all(world.state.ctx.store, "alice", now=world.clock()) >= 1
    _put_back(world, identity_tokens, saved)
    _refused(world, token, "SW868")


def test_logins_ended_by_an_mfa_reset_or_an_offboarding_stay_ended_when_put_back(
    world: World, people: dict[str, Person]
) -> None:
    bob, carol, dana = people["bob"], people["carol"], people["dana"]
    bob.login()
    dana.login()
    saved = [_saved(world, identity_tokens, _session(world, p.token or "")) for p in (bob, dana)]
    res = carol.post("/api/v1/principals/bob/mfa/reset", {"otp": carol.otp()})
    assert res.status_code == 204, res.text
    res = carol.post("/api/v1/vendors/devshop/offboard", {"otp": carol.otp()})
    assert res.status_code == 200, res.text
    for row in saved:
        _put_back(world, identity_tokens, row)
    _refused(world, bob.token or "", "SW868")
    status, body = _whoami(world, dana.token or "")  # offboarded: refused either way,
    assert status == 401, body  # and her row's revocation is on the record
    with world.state.ctx.store.read() as conn:
        assert conn.execute(
            text("SELECT count(*) FROM audit_events WHERE code = :c AND resource = :r"),
            {"c": "identity.token.revoked", "r": f"token:{saved[1]['id']}"},
        ).scalar()


def test_a_revoked_pipeline_token_put_back_is_refused(world: World) -> None:
    from stagewall.identity.pipeline import create_pipeline_token, revoke_pipeline_token

    ctx = world.state.ctx
    made = create_pipeline_token(
        ctx.store, world.state.estate, ctx.audit, "deploybot", now=world.clock()
    )
    assert _whoami(world, made.secret)[0] == 200
    saved = _saved(world, identity_tokens, made.info.id)
    revoke_pipeline_token(ctx.store, ctx.audit, made.info.id, now=world.clock())
    assert _whoami(world, made.secret)[0] == 401
    _put_back(world, identity_tokens, saved)
    _refused(world, made.secret, "SW868")


def test_a_revoked_ingest_token_put_back_is_refused(world: World) -> None:
    from stagewall.monitoring._tables import monitoring_ingest_tokens as t
    from stagewall.monitoring.tokens import create_ingest_token, revoke_ingest_token

    store = world.state.ctx.store
    made = create_ingest_token(
        store, world.state.estate, "pg-prod", created_by="server-operator", now=world.clock()
    )
    assert _ingest(world, "pg-prod", made.secret)[0] != 401
    saved = _saved(world, t, made.token.id)
    revoke_ingest_token(store, made.token.id, revoked_by="server-operator", now=world.clock())
    assert _ingest(world, "pg-prod", made.secret)[0] == 401
    _put_back(world, t, saved)
    status, body = _ingest(world, "pg-prod", made.secret)
    assert (status, body["code"]) == (401, "SW868"), body


def test_an_unreadable_revocation_record_refuses_every_token(
    world: World, pair: dict[str, Person]
) -> None:
    token = pair["alice"].token or ""
    assert _whoami(world, token)[0] == 200
    store = world.state.ctx.store
    with store.transaction() as conn:
        conn.execute(text("ALTER TABLE audit_events RENAME TO audit_events_away"))
    try:
        status, body = _whoami(world, token)
    finally:
        with store.transaction() as conn:
            conn.execute(text("ALTER TABLE audit_events_away RENAME TO audit_events"))
    assert (status, body["code"]) == (503, "SW867"), body
    assert "revocation record" in body["detail"]
    assert _whoami(world, token)[0] == 200  # readable again: the token works again


def test_every_token_row_revocation_goes_through_the_one_recorded_path() -> None:
    """A new revocation site that sets the revoked values itself would write no
    revocation record, and a row it revoked could be put back: only identity.tokens
    (revoke_on) and monitoring.tokens (revoke_ingest_token) may."""
    src = Path(__file__).resolve().parents[2] / "src" / "stagewall"
    allowed = {src / "identity" / "tokens.py", src / "monitoring" / "tokens.py"}
    found = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if path not in allowed
        and ("revoked_values(" in (body := path.read_text()) or "REVOKED_MAC" in body)
        and "_seal.py" not in path.name
        and "migrations" not in path.parts
    ]
    assert found == [], f"token rows revoked outside revoke_on: {found}"
