"""CI OIDC ID tokens are accepted once; a job exchanges its token for a job session.

The tokens are signed by a local CI issuer (tests/ci_issuer.py) whose discovery
document and JWKS the server fetches over HTTP like GitHub's or GitLab's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from stagewall.identity._tables import identity_ci_token_uses
from tests.ci_issuer import AUDIENCE, CiPlatform, ci_platform
from tests.server.conftest import World

BINDING = (
    "  deploybot: {affiliation: internal, kind: service, ci: [{issuer: github, "
    "repository: acme/shop, repository_id: '4242', ref: refs/heads/main, "
    "environment: production, workflow: promote.yml}]}"
)


def _bind(world: World, platform: CiPlatform) -> None:
    text = world.config.read_text().replace(
        "  deploybot: {affiliation: internal, kind: service}", BINDING
    )
    text += f"ci_issuers:\n  github: {{issuer: '{platform.url}', audience: '{AUDIENCE}'}}\n"
    world.config.write_text(text)


@pytest.fixture
def ci(world: World) -> Iterator[CiPlatform]:
    with ci_platform() as platform:
        _bind(world, platform)
        try:
            yield platform
        finally:
            world.state.ci.close()  # its JWKS connections (the test client runs no lifespan)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _uses(world: World) -> list[Any]:
    with world.state.ctx.store.read() as conn:
        return list(conn.execute(select(identity_ci_token_uses)).all())


def test_a_ci_token_is_accepted_once_and_a_replay_is_audited_and_alerted(
    world: World, ci: CiPlatform
) -> None:
    token = ci.sign(ci.github("production"))
    first = world.client.get("/api/v1/whoami", headers=_bearer(token))
    assert first.status_code == 200, first.text
    assert first.json()["principal"] == "deploybot"

    again = world.client.get("/api/v1/whoami", headers=_bearer(token))
    assert again.status_code == 401, again.text
    body = again.json()
    assert body["code"] == "SW925"
    assert "already used" in body["detail"] and token not in again.text

    failed = [e for e in world.events() if e.code == "identity.login"][-1]
    assert failed.status.value == "Failure"
    assert "already used" in failed.details["reason"]
    assert failed.details["claims"]["repository"] == "acme/shop"
    assert token not in failed.raw.decode()
    [alert] = [a for a in world.alerts() if a["kind"] == "identity.ci_token.replayed"]
    assert alert["severity"] == "critical" and "acme/shop" in alert["title"]
    # Stored by digest only: the token itself is nowhere in the store.
    [row] = _uses(world)
    assert row.principal == "deploybot" and token not in json.dumps(row._asdict())


def test_a_token_without_jti_is_recorded_by_its_digest(world: World, ci: CiPlatform) -> None:
    claims = ci.github("production")
    del claims["jti"]
    token = ci.sign(claims)
    assert world.client.get("/api/v1/whoami", headers=_bearer(token)).status_code == 200
    res = world.client.get("/api/v1/whoami", headers=_bearer(token))
    assert res.status_code == 401 and res.json()["code"] == "SW925"
    # Another token of the same job (no jti either) is a different token.
    claims["iat"] -= 1
    assert world.client.get("/api/v1/whoami", headers=_bearer(ci.sign(claims))).status_code == 200


def _malleated(token: str) -> str:
    """The same ES256 token with its signature's ``s`` replaced by ``n - s``: a second,
    different string that verifies just as well (ECDSA signatures are malleable)."""
    import base64

    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 order
    signing_input, sig = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    s = (n - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    return signing_input + "." + base64.urlsafe_b64encode(raw[:32] + s).decode().rstrip("=")


def test_an_es256_token_without_jti_cannot_be_replayed_with_a_malleated_signature(
    world: World, ci: CiPlatform
) -> None:
    """Attack (redteamgate): the single-use record of a token without ``jti`` was the
    digest of the whole token string, so flipping the ECDSA ``s`` of a used token gave
    a "new" token that the server accepted once more."""
    from joserfc.jwk import ECKey

    ci.key = ECKey.generate_key("P-256", parameters={"kid": "ec1"})  # type: ignore[assignment]
    claims = ci.github("production")
    del claims["jti"]
    token = ci.sign(claims, alg="ES256")
    twin = _malleated(token)
    assert twin != token
    assert world.client.get("/api/v1/whoami", headers=_bearer(token)).status_code == 200
    res = world.client.get("/api/v1/whoami", headers=_bearer(twin))
    assert res.status_code == 401, res.text
    assert res.json()["code"] == "SW925" and "already used" in res.json()["detail"]


def test_same_jti_from_the_same_issuer_is_a_replay(world: World, ci: CiPlatform) -> None:
    one = ci.sign(ci.github("production", jti="job-1"))
    two = ci.sign(ci.github("production", jti="job-1", iat=ci.github()["iat"] - 5))
    assert one != two
    assert world.client.get("/api/v1/whoami", headers=_bearer(one)).status_code == 200
    assert world.client.get("/api/v1/whoami", headers=_bearer(two)).json()["code"] == "SW925"


def test_exchange_gives_a_job_session_that_acts_with_the_jobs_claims(
    world: World, ci: CiPlatform
) -> None:
    token = ci.sign(ci.github("production"))
    res = world.client.post("/api/v1/ci/session", headers=_bearer(token))
    assert res.status_code == 200, res.text
    got = res.json()
    session = got["token"]
    assert session.startswith("swc_") and got["principal"] == "deploybot"
    # Used for the rest of the job, as often as needed.
    for _ in range(3):
        who = world.client.get("/api/v1/whoami", headers=_bearer(session)).json()
        assert who["principal"] == "deploybot" and who["method"] == "ci-oidc"
    # The CI token itself is spent.
    res = world.client.post("/api/v1/ci/session", headers=_bearer(token))
    assert res.status_code == 401 and res.json()["code"] == "SW925"
    res = world.client.get("/api/v1/whoami", headers=_bearer(token))
    assert res.json()["code"] == "SW925"
    # The session's acts carry the job's verified claims.
    res = world.client.post(
        "/api/v1/promotions/x000000/approvals", json={"otp": "123456"}, headers=_bearer(session)
    )
    assert res.status_code == 403
    refused = [e for e in world.events() if e.code == "server.request.refused"][-1]
    assert '"method":"ci-oidc"' in refused.raw.decode()
    assert '"repository":"acme/shop"' in refused.raw.decode()
    started = [e for e in world.events() if e.code == "identity.ci_session.started"]
    assert started and started[-1].actor == "deploybot"
    # It ends when the CI token would have expired (5 minutes after it was minted).
    world.clock.advance(timedelta(minutes=6))
    assert world.client.get("/api/v1/whoami", headers=_bearer(session)).status_code == 401


def test_a_session_is_never_a_cookie_and_only_a_ci_token_is_exchanged(
    world: World, ci: CiPlatform
) -> None:
    from stagewall.identity.pipeline import create_pipeline_token

    session = world.client.post(
        "/api/v1/ci/session", headers=_bearer(ci.sign(ci.github("production")))
    ).json()["token"]
    world.client.cookies.set("stagewall_session", session)
    try:
        res = world.client.get("/api/v1/whoami")
        assert res.status_code == 401 and "never a cookie" in res.json()["detail"]
    finally:
        world.client.cookies.clear()
    piped = create_pipeline_token(
        world.state.ctx.store, world.state.estate, world.state.ctx.audit, "deploybot",
        now=world.clock(),
    ).secret  # fmt: skip
    res = world.client.post("/api/v1/ci/session", headers=_bearer(piped))
    assert res.status_code == 400 and "only a CI OIDC ID token" in res.json()["detail"]
    # A job session cannot be exchanged again for another one.
    res = world.client.post("/api/v1/ci/session", headers=_bearer(session))
    assert res.status_code == 400


def test_the_sweeper_purges_expired_records(world: World, ci: CiPlatform) -> None:
    from stagewall.server.sweeper import purge_ci_tokens

    for _ in range(2):
        token = ci.sign(ci.github("production"))
        assert world.client.get("/api/v1/whoami", headers=_bearer(token)).status_code == 200
    assert len(_uses(world)) == 2
    assert purge_ci_tokens(world.state) == 0  # still replayable: kept
    world.clock.advance(timedelta(minutes=7))  # exp (5 min) + 60 s skew has passed
    assert purge_ci_tokens(world.state) == 2
    assert _uses(world) == []


@pytest.fixture
def pg_world(
    tmp_path: Path, pg_url: str, pg_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    w = World(tmp_path, pg_url.rsplit("/", 1)[1], pg_store_url)
    try:
        yield w
    finally:
        w.app.state.ingest.close()
        w.client.close()
        w.state.ci.close()  # its JWKS connections


def test_two_servers_on_one_postgresql_store_accept_a_token_once(
    pg_world: World, pg_store_url: str
) -> None:
    """Two real server instances sharing the store; the same token sent to both at once."""
    from stagewall.server import ServerState
    from tests.live_server import serve

    with ci_platform() as platform:
        _bind(pg_world, platform)
        other = ServerState.open(pg_world.config, pg_store_url, pg_world.home)
        pg_world.state.refresh()
        with (
            serve(pg_world.state, run_sweeper=False) as one,
            serve(other, run_sweeper=False) as two,
        ):
            # One round: six presentations from one address at once are all checked
            # (a signed token cannot be guessed, so arriving together is no reason to
            # refuse); exactly one is accepted, on either instance.
            token = platform.sign(platform.github("production"))
            answers: list[int] = []
            barrier = threading.Barrier(6)

            def send(url: str) -> None:
                barrier.wait()
                res = httpx.post(f"{url}/api/v1/ci/session", headers=_bearer(token), timeout=30)
                answers.append(res.status_code)

            threads = [threading.Thread(target=send, args=(u,)) for u in (one, two) * 3]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(answers) == [200, 401, 401, 401, 401, 401], answers
        other.ci.close()
        other.ctx.store.dispose()
    replays = [e for e in pg_world.events() if e.code == "identity.login"]
    assert sum(1 for e in replays if "already used" in e.message) == 5


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("ref: refs/heads/main", "ref: refs/heads/release-only"),  # binding narrowed
        ("kind: service, ci: [", "kind: service, ci_old: ["),  # binding removed
    ],
)
def test_a_job_session_ends_at_its_next_use_once_its_binding_is_gone(
    world: World, ci: CiPlatform, old: str, new: str
) -> None:
    res = world.client.post("/api/v1/ci/session", headers=_bearer(ci.sign(ci.github("production"))))
    assert res.status_code == 200, res.text
    session = res.json()["token"]
    assert world.client.get("/api/v1/whoami", headers=_bearer(session)).status_code == 200
    original = text = world.config.read_text()
    if new.startswith("kind: service, ci_old"):  # drop the binding altogether
        text = text.replace(BINDING, "  deploybot: {affiliation: internal, kind: service}")
    else:
        text = text.replace(old, new)
    world.config.write_text(text)
    res = world.client.get("/api/v1/whoami", headers=_bearer(session))
    assert res.status_code == 401, res.text
    assert "this CI job session no longer stands" in res.json()["detail"]
    [ended] = [e for e in world.events() if "CI job session" in e.message and "ended" in e.message]
    assert ended.actor == "deploybot" and ended.status.value == "Failure"
    # restoring the binding does not revive the session: the job exchanges a new token
    world.config.write_text(original + "\n")
    assert world.client.get("/api/v1/whoami", headers=_bearer(session)).status_code == 401
