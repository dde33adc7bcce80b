"""Red team (store insider): a login token row written or edited in the store is no login.

The server kept each session's and API token's plain SHA-256 and believed whatever the
row said. Someone who can write the control-plane store (a DBA, a backup restorer)
inserted a row with the SHA-256 of a token they chose and was alice; cleared
``revoked_at`` and a signed-out token worked again; changed a row's principal and
bob's token acted as alice. Token rows are now keyed and sealed with the server's
``token.key`` (SW973 for a row it did not make, SW974 for a row edited since).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import ColumnElement, insert, inspect, update

from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_tokens
from stagewall.identity.tokens import revoke_all
from tests.server.conftest import Person, World


@pytest.fixture
def pair(world: World) -> dict[str, Person]:
    for name in ("alice", "bob"):
        world.onboard(name)
    world.settle()
    for person in world.people.values():
        person.login()
    return world.people


def _whoami(world: World, token: str) -> tuple[int, dict[str, str]]:
    res = world.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    return res.status_code, res.json()


def _edit(world: World, token: str, **values: object) -> None:
    """The insider's UPDATE of the row of ``token`` (found by its session id)."""
    status, me = _whoami(world, token)
    assert status == 200, me
    with world.state.ctx.store.transaction() as conn:
        done = conn.execute(
            update(identity_tokens).where(identity_tokens.c.id == me["session"]).values(**values)
        ).rowcount
    assert done == 1


def _revive(world: World, which: ColumnElement[bool]) -> None:
    """The insider's UPDATE that clears ``revoked_at`` of the rows ``which``."""
    with world.state.ctx.store.transaction() as conn:
        assert conn.execute(update(identity_tokens).where(which).values(revoked_at=None)).rowcount


def _refused(world: World, token: str, code: str) -> None:
    status, body = _whoami(world, token)
    assert (status, body["code"]) == (401, code), body


def test_a_row_with_the_plain_sha256_of_a_chosen_token_is_refused(
    world: World, pair: dict[str, Person]
) -> None:
    alice = pair["alice"]
    assert _whoami(world, alice.token or "")[1]["principal"] == "alice"  # genuine: works
    chosen, _ = plant(world)
    _refused(world, chosen, "SW973")


def plant(world: World) -> tuple[str, dict[str, str]]:
    """The insider's row for alice: keyed by the plain SHA-256 of a token they chose."""
    chosen = "swt_" + secrets.token_urlsafe(32)
    now = world.clock()
    row = {
        "id": "t" + secrets.token_hex(6),
        "token_hash": hashlib.sha256(chosen.encode()).hexdigest(),
        "principal": "alice",
        "kind": "api",
        "method": "local",
        "csrf": secrets.token_urlsafe(32),
        "created_at": fmt(now),
        "expires_at": fmt(now + timedelta(hours=12)),
    }
    store = world.state.ctx.store
    if "row_mac" in {c["name"] for c in inspect(store.engine).get_columns("identity_tokens")}:
        row["row_mac"] = "0" * 64  # the insider's best guess: no key, no MAC
    with store.transaction() as conn:
        conn.execute(insert(identity_tokens).values(**row))
    return chosen, row


def test_a_signed_out_token_revived_by_clearing_revoked_at_is_refused(
    world: World, pair: dict[str, Person]
) -> None:
    bob = pair["bob"]
    token = bob.token or ""
    status, me = _whoami(world, token)
    assert status == 200
    res = world.client.delete("/api/v1/session", headers=bob.headers())
    assert res.status_code == 204, res.text
    assert [e for e in world.events() if e.code == "identity.logout"]  # the end is logged
    assert _whoami(world, token)[0] == 401
    _revive(world, identity_tokens.c.id == me["session"])
    _refused(world, token, "SW974")


def test_tokens_revoked_all_at_once_stay_revoked_when_the_rows_are_cleared(
    world: World, pair: dict[str, Person]
) -> None:
    alice = pair["alice"]
    token = alice.token or ""
    assert revoke_all(world.state.ctx.store, "alice", now=world.clock()) >= 1
    _revive(world, identity_tokens.c.principal == "alice")
    _refused(world, token, "SW974")


def test_a_token_row_moved_to_another_principal_is_refused(
    world: World, pair: dict[str, Person]
) -> None:
    bob = pair["bob"]
    token = bob.token or ""
    _edit(world, token, principal="alice")
    _refused(world, token, "SW974")
    assert _whoami(world, pair["alice"].token or "")[0] == 200  # alice's own still works


def test_a_token_row_with_a_later_expiry_is_refused(world: World, pair: dict[str, Person]) -> None:
    bob = pair["bob"]
    token = bob.token or ""
    _edit(world, token, expires_at=fmt(world.clock() + timedelta(days=365)))
    _refused(world, token, "SW974")


def _ingest(world: World, source: str, token: str) -> tuple[int, dict[str, str]]:
    res = world.client.post(
        f"/api/v1/ingest/{source}",
        content="Dec  5 02:41:20 bastion sshd[4242]: Accepted publickey for alice from "
        "10.0.0.5 port 43201 ssh2: ED25519 SHA256:Xyzabc\n",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {token}"},
    )
    return res.status_code, res.json()


def test_ingest_token_rows_written_or_edited_in_the_store_are_refused(world: World) -> None:
    from stagewall.monitoring._tables import monitoring_ingest_tokens as t
    from stagewall.monitoring.tokens import create_ingest_token, revoke_ingest_token

    store = world.state.ctx.store
    made = create_ingest_token(
        store, world.state.estate, "pg-prod", created_by="server-operator", now=world.clock()
    )
    assert _ingest(world, "pg-prod", made.secret)[0] != 401  # genuine: accepted (wrong lines)
    # a row of the insider's own token, for the ssh source
    chosen = "swi_" + secrets.token_urlsafe(32)
    row = {
        "id": "it" + secrets.token_hex(6),
        "source": "bastion-ssh",
        "token_hash": hashlib.sha256(chosen.encode()).hexdigest(),
        "created_at": fmt(world.clock()),
        "created_by": "server-operator",
    }
    if "row_mac" in {c["name"] for c in inspect(store.engine).get_columns(t.name)}:
        row["row_mac"] = "0" * 64
    with store.transaction() as conn:
        conn.execute(insert(t).values(**row))
    status, body = _ingest(world, "bastion-ssh", chosen)
    assert (status, body["code"]) == (401, "SW973"), body
    # the genuine token moved to the ssh source
    with store.transaction() as conn:
        conn.execute(update(t).where(t.c.id == made.token.id).values(source="bastion-ssh"))
    status, body = _ingest(world, "bastion-ssh", made.secret)
    assert (status, body["code"]) == (401, "SW974"), body
    # put back, revoked (audited), then revived
    with store.transaction() as conn:
        conn.execute(update(t).where(t.c.id == made.token.id).values(source="pg-prod"))
    revoke_ingest_token(store, made.token.id, revoked_by="server-operator", now=world.clock())
    with store.transaction() as conn:
        conn.execute(update(t).where(t.c.id == made.token.id).values(revoked_at=None))
    status, body = _ingest(world, "pg-prod", made.secret)
    assert (status, body["code"]) == (401, "SW974"), body
