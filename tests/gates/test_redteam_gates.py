"""Red team (redgates): promotion gates attacked through the server.

Attackers: an external developer (dana, vendor devshop), an internal author (alice)
who wants her own change out without an independent approval, a compromised
pipeline, and an insider with write access to the store (not to the audit log's
signing key). Each finding reproduces the attack; the attempts that held are kept
too, so that they keep holding.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pyotp
from sqlalchemy import Connection, update

from stagewall.access._core import fmt_time
from stagewall.access._tables import access_requests, access_reviews
from stagewall.audit import Status
from stagewall.gates._tables import gate_promotions
from stagewall.store import open_store
from tests.gates.conftest import World, approve, digest, gate_check, report, submit, to_staging
from tests.gates.test_binding import _events
from tests.gates.test_promotions import ART, _ready_for_production, approved_then_expired
from tests.rows import forge_promotion_approval, insert_approval


def _now() -> str:
    return fmt_time(datetime.now(UTC))


@contextlib.contextmanager
def _written(w: World) -> Iterator[Connection]:
    """A transaction on the store, as an insider who can write it (not the server)."""
    store = open_store(w.db)
    try:
        with store.transaction() as conn:
            yield conn
    finally:
        store.dispose()


def _wrong_code(w: World, who: str) -> str:
    """A six-digit code that is not ``who``'s current, previous or next one."""
    totp = pyotp.TOTP(w.secrets[who])
    now = time.time()
    valid = {totp.at(now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(1000, 2000)) if c not in valid)


# -- findings --------------------------------------------------------------------


def test_an_approval_row_bound_to_a_refused_approval_does_not_count(world: World) -> None:
    """Finding 1 (insider with store write): bob mistyped his code, so the log holds a
    *refused* ``gate.promotion.approved`` event by bob about the promotion. An approval
    row pointed at that event passed the binding check (right code, actor, promotion),
    and ``gate check`` allowed the deployment with no approval ever given, and no MFA."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = world.as_person("bob", "gate", "approve", pid, "--otp", _wrong_code(world, "bob"))
    assert r.exit_code == 1, r.stdout
    refused = [
        e
        for e in _events(world)
        if e.code == "gate.promotion.approved" and e.status is Status.FAILURE and e.actor == "bob"
    ]
    assert len(refused) == 1
    store = open_store(world.db)
    try:
        insert_approval(
            store,
            pid,
            "bob",
            created_at=_now(),
            mfa_time=_now(),
            audit_index=refused[0].index,
            audit_leaf=refused[0].leaf_hash.hex(),
        )
    finally:
        store.dispose()
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "approval by bob" in r.stderr and "refused" in r.stderr
    assert "SW945" in r.stderr
    unbound = [e for e in _events(world) if e.code == "gate.row.unbound"]
    assert unbound and unbound[-1].details["promotion"] == pid


def test_an_expired_approval_made_fresh_in_the_store_does_not_count(world: World) -> None:
    """Finding 2 (insider with store write): the approval's time lives in its row, which
    its event did not pin. Moving ``created_at`` (and the MFA time) forward revived an
    approval past the stage's ``approval_valid_for``; the MFA evidence in the
    attestation was whatever the row said."""
    sha, pid = approved_then_expired(world)
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1 and "approval by alice expired at" in r.stderr

    def edit(**values: str) -> None:
        with _written(world) as conn:
            conn.execute(
                update(access_reviews).where(access_reviews.c.request_id == pid).values(**values)
            )

    edit(created_at=_now())
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "error[SW945]" in r.stderr
    assert "approval by alice: the approval's time differs from audit event" in r.stderr
    assert [e for e in _events(world) if e.code == "gate.row.unbound"]
    # The MFA evidence the attestation would carry is pinned too.
    edit(mfa_time=_now())
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1 and "MFA evidence differs from audit event" in r.stderr


def _post_range(w: World, who: str, stage: str, sha: str, shas: list[str]) -> httpx.Response:
    """A hand-made submission of exactly the commits ``shas`` (a client that omits some)."""
    from stagewall.gates._bringin import brought_in
    from stagewall.gates._git import Repo
    from stagewall.gates._trees import Recorder

    git = Repo(w.repo)
    recorder = Recorder(git, git.raw_commits(shas))
    brought_in(recorder, shas, [], lambda _c: [])
    body = {"stage": stage, "change": sha, "artifact": ART, **recorder.payload()}
    return httpx.post(
        f"{w.server()}/api/v1/promotions",
        json=body,
        headers={"Authorization": f"Bearer {w.token(who)}"},
        timeout=60,
    )


def test_a_deployed_promotion_edited_in_the_store_does_not_hide_commits(world: World) -> None:
    """Finding 3 (insider with store write, plus any submitter): commits counted in a
    deployment to a stage may be left out of the next submission to it, and which
    commits those are was read from the deployed promotion's request row, never checked
    against its submission event. Listing alice's unreviewed commit there let a client
    omit it: the production promotion named dana alone, alice approved her own commit,
    and gate check allowed it."""
    first = world.commit("dana@devshop.example")
    to_staging(world, first, ART)
    deployed = submit(world, first, ART, "production", "dana")
    report(world, first, "production")
    assert approve(world, deployed, "bob").exit_code == 0
    assert gate_check(world, first, ART, "production").exit_code == 0

    mine = world.commit("alice@example.com")  # alice's own change, never reviewed
    cover = world.commit("dana@devshop.example")
    to_staging(world, cover, ART)
    report(world, cover, "production")

    with _written(world) as conn:
        row = conn.execute(access_requests.select().where(access_requests.c.id == deployed)).one()
        details = json.loads(row.details)
        details["contributions"].append(
            {"sha": mine, "role": "author", "email": "dana@devshop.example", "principal": None}
        )
        conn.execute(
            update(access_requests)
            .where(access_requests.c.id == deployed)
            .values(details=json.dumps(details))
        )

    res = _post_range(world, "dana", "production", cover, [cover])
    assert res.status_code == 403, res.text
    assert "SW852" in res.text and mine in res.text
    # The stage's promotion binding problem is recorded and alerted.
    found = [e for e in _events(world) if e.code == "gate.row.unbound"]
    assert found and found[-1].details["promotion"] == deployed
    # A genuine client, which sends every commit, still submits, and alice is an author.
    pid = submit(world, cover, ART, "production", "dana")
    r = approve(world, pid, "alice")
    assert r.exit_code == 1 and "author (alice@example.com)" in r.stderr


# -- attempts that held ------------------------------------------------------------


def test_alias_email_of_the_author_cannot_approve(world: World) -> None:
    """alice commits under her second declared address: she is still the author."""
    _sha, pid = _ready_for_production(world, "alice@home.example")
    r = approve(world, pid, "alice")
    assert r.exit_code == 1 and "alice@home.example" in r.stderr


def test_a_pipeline_cannot_approve_and_a_person_cannot_deploy(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    res = httpx.post(
        f"{world.server()}/api/v1/promotions/{pid}/approvals",
        json={"otp": "123456"},
        headers={"Authorization": f"Bearer {world.token('ci-bot')}"},
        timeout=30,
    )
    assert res.status_code == 403, res.text
    res = httpx.post(
        f"{world.server()}/api/v1/deployments",
        json={"change": sha, "artifact": ART, "stage": "production"},
        headers={"Authorization": f"Bearer {world.token('alice')}"},
        timeout=30,
    )
    assert res.status_code == 403, res.text


def test_the_staging_pipeline_cannot_deploy_to_production(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    r = world.gate("check", "--change", sha, "--artifact", ART, "--to", "production")
    assert r.exit_code == 1 and "may not deploy to production" in r.stderr


def test_look_alike_stage_and_digest_spellings_are_refused(world: World) -> None:
    """Approving one spelling and deploying another: every variant is refused."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    for stage in ("Production", "production ", "prod", "producti\u043en"):
        r = world.gate(
            "check", "--change", sha, "--artifact", ART, "--to", stage, "--as", "deploy-bot"
        )
        assert r.exit_code != 0, stage
    upper = "sha256:" + ART.split(":", 1)[1].upper()
    r = gate_check(world, sha, upper, "production")
    assert r.exit_code != 0
    other = digest("another artifact")
    r = gate_check(world, sha, other, "production")
    assert r.exit_code == 1 and "artifact mismatch" in r.stderr
    # The approved pair itself still deploys (upper-case SHA is the same commit).
    r = gate_check(world, sha.upper(), ART, "production")
    assert r.exit_code == 0, r.stderr


def test_an_approval_re_pointed_at_another_promotion_does_not_count(world: World) -> None:
    """bob's genuine approval of one promotion moved (in the store) to another."""
    _sha1, pid1 = _ready_for_production(world, "dana@devshop.example", message="one")
    assert approve(world, pid1, "bob").exit_code == 0
    sha2, pid2 = _ready_for_production(world, "alice@example.com", message="two")
    with _written(world) as conn:
        conn.execute(
            update(access_reviews)
            .where(access_reviews.c.request_id == pid1)
            .values(request_id=pid2)
        )
    r = gate_check(world, sha2, ART, "production")
    assert r.exit_code == 1 and "about another request" in r.stderr


def test_a_promotion_re_pointed_at_another_commit_does_not_count(world: World) -> None:
    """An approved promotion's row edited to name a commit nobody approved."""
    _sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    other = world.commit("alice@example.com")
    to_staging(world, other, ART)
    report(world, other, "production")
    with _written(world) as conn:
        conn.execute(
            update(gate_promotions).where(gate_promotions.c.request_id == pid).values(sha=other)
        )
    r = gate_check(world, other, ART, "production")
    assert r.exit_code == 1 and "sha differs from audit event" in r.stderr


def test_an_approval_event_written_into_the_store_does_not_count(
    world: World, tmp_path_factory: Any
) -> None:
    """Finding 4 (insider with store write): the audit log's leaf and chain hashes need
    no key, so anyone who can write the store can append a well-formed, *successful*
    ``gate.promotion.approved`` event by bob (with the library, no server involved) and
    bind an approval row to it: every binding check passed and gate check allowed the
    deployment that nobody approved. Events the gates rely on now carry the server's
    seal (a signature by the key only the server holds)."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    store = open_store(world.db)
    try:
        # The insider's log: the store, and no key (an empty home).
        forge_promotion_approval(
            store, tmp_path_factory.mktemp("insider"), pid, "bob",
            {"sha": sha, "digest": ART, "stage": "production"}, _now(),
        )  # fmt: skip
    finally:
        store.dispose()
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "error[SW945]" in r.stderr
    assert "approval by bob" in r.stderr and "not sealed by this server" in r.stderr


def test_an_old_passing_report_re_bound_to_a_new_row_does_not_outrank_a_failure(
    world: World,
) -> None:
    """Finding 5 (insider with store write): a check report row was bound to an event
    that says the same thing (check, status, commit, stage, reporter), but nothing said
    *which* row: a row inserted after a failure and pointed at the old passing report's
    event was the latest report, and the failure no longer blocked the deployment."""
    from stagewall.gates._tables import gate_checks

    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    report(world, sha, "production", "fail")
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1 and "check 'tests' failed" in r.stderr
    with _written(world) as conn:
        passed = conn.execute(
            gate_checks.select()
            .where((gate_checks.c.stage == "production") & (gate_checks.c.status == "pass"))
            .order_by(gate_checks.c.id)
        ).first()
        assert passed is not None
        conn.execute(
            gate_checks.insert().values(
                sha=sha, stage="production", name="tests", status="pass",
                reporter="ci-bot", created_at=_now(),
                audit_index=passed.audit_index, audit_leaf=passed.audit_leaf,
            )
        )  # fmt: skip
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "recorded another check report row" in r.stderr
    assert [e for e in _events(world) if e.code == "gate.row.unbound"]
