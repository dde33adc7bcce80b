"""Pipelines authenticate to the server: CI OIDC ID tokens and per-pipeline tokens.

The CI tokens are signed by a local issuer served over HTTP (discovery + JWKS); the
server fetches and caches its keys like it would GitHub's or GitLab's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ci_issuer import AUDIENCE, CiPlatform, ci_platform
from tests.cli_helpers import run_cli
from tests.server.conftest import Person, World

BINDING = (
    "  deploybot: {affiliation: internal, kind: service, ci: [{issuer: github, "
    "repository: acme/shop, repository_id: '4242', ref: refs/heads/main, "
    "environment: production, workflow: promote.yml}]}"
)


@pytest.fixture
def ci(world: World) -> Iterator[CiPlatform]:
    with ci_platform() as platform:
        text = world.config.read_text().replace(
            "  deploybot: {affiliation: internal, kind: service}", BINDING
        )
        text += f"ci_issuers:\n  github: {{issuer: '{platform.url}', audience: '{AUDIENCE}'}}\n"
        world.config.write_text(text)
        yield platform


def _whoami(world: World, token: str) -> Any:
    return world.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})


def _token(ci: CiPlatform, **over: Any) -> str:
    return ci.sign(ci.github(over.pop("environment", "production"), **over))


def _refused(world: World, token: str, needle: str, code: str = "SW700") -> None:
    res = _whoami(world, token)
    assert res.status_code == 401, res.text
    body = res.json()
    assert needle in body["detail"], body
    assert body["code"] == code, body


def test_good_github_token_is_the_bound_service_principal(world: World, ci: CiPlatform) -> None:
    res = _whoami(world, _token(ci))
    assert res.status_code == 200, res.text
    who = res.json()
    assert who["principal"] == "deploybot"
    assert who["method"] == "ci-oidc"
    assert who["classes"] == ["pipeline"]
    # The JWKS was fetched once and is cached for the next request.
    assert _whoami(world, _token(ci)).status_code == 200


def test_wrong_audience_expired_and_not_yet_valid(world: World, ci: CiPlatform) -> None:
    _refused(world, _token(ci, aud="https://someone-else.example"), "audience")
    now = int(time.time())
    _refused(world, _token(ci, iat=now - 1200, nbf=now - 1200, exp=now - 600), "expired")
    _refused(world, _token(ci, nbf=now + 600, exp=now + 900), "not valid before")


def test_other_repository_ref_environment_or_workflow(world: World, ci: CiPlatform) -> None:
    needle = "matches no service principal's ci binding"
    _refused(world, _token(ci, repository="evil/shop"), needle, "SW850")
    _refused(world, _token(ci, repository_id="666"), needle, "SW850")
    _refused(world, _token(ci, ref="refs/heads/feature"), needle, "SW850")
    _refused(world, _token(ci, environment="staging"), needle, "SW850")
    wf = "acme/shop/.github/workflows/other.yml@refs/heads/main"
    _refused(world, _token(ci, workflow_ref=wf), needle, "SW850")


def test_pull_request_runs_are_refused_unless_the_binding_allows_them(
    world: World, ci: CiPlatform
) -> None:
    for event in ("pull_request", "pull_request_target"):
        _refused(world, _token(ci, event_name=event), "from a pull/merge request run", "SW850")
    text = world.config.read_text().replace(
        "workflow: promote.yml}", "workflow: promote.yml, pull_requests: true}"
    )
    world.config.write_text(text)
    assert _whoami(world, _token(ci, event_name="pull_request")).status_code == 200


def _environment_only_binding(world: World, extra: str = "") -> None:
    """deploybot bound by its (protected) environment alone, as the estate allows."""
    text = world.config.read_text().replace(
        "ref: refs/heads/main, environment: production, workflow: promote.yml}",
        "environment: production, workflow: promote.yml" + extra + "}",
    )
    world.config.write_text(text)


@pytest.mark.parametrize(
    "over",
    [
        {"event_name": "pull_request_review", "ref": "refs/pull/7/merge"},
        {"event_name": "pull_request_review_comment", "ref": "refs/pull/7/merge"},
        # Whatever the event says, a run on a pull request's ref runs the proposer's code.
        {"event_name": "push", "ref": "refs/pull/7/head"},
        {"event_name": "workflow_run", "ref": "refs/merge-requests/3/head"},
    ],
)
def test_every_pull_request_run_is_refused_unless_the_binding_allows_them(
    world: World, ci: CiPlatform, over: dict[str, str]
) -> None:
    """Attack (redteamgate): only event_name pull_request/pull_request_target counted as
    a pull request run, so a pull_request_review run (ref refs/pull/N/merge) of a binding
    that pins the environment but not the ref was accepted with pull_requests: false."""
    _environment_only_binding(world)
    _refused(world, _token(ci, **over), "from a pull/merge request run", "SW850")


def test_a_pull_request_review_run_never_vouches_for_a_check(world: World, ci: CiPlatform) -> None:
    _environment_only_binding(world, ", pull_requests: true")
    world.config.write_text(
        world.config.read_text() + "stages:\n  - name: production\n    environment: production\n"
        "    checks: [tests]\n    approval: one-sre\n"
    )
    report = {"change": "a" * 40, "stage": "production", "check": "tests", "status": "pass"}
    token = _token(ci, event_name="pull_request_review", ref="refs/pull/7/merge")
    res = world.client.post(
        "/api/v1/checks", json=report, headers={"Authorization": f"Bearer {token}"}
    )
    assert res.status_code == 403, res.text
    assert "pull/merge request run (pull_request_review" in res.json()["detail"]
    token = _token(ci, event_name="push", ref="refs/pull/7/head")
    res = world.client.post(
        "/api/v1/checks", json=report, headers={"Authorization": f"Bearer {token}"}
    )
    assert res.status_code == 403, res.text
    assert "ref refs/pull/7/head" in res.json()["detail"]
    res = world.client.post(
        "/api/v1/checks", json=report, headers={"Authorization": f"Bearer {_token(ci)}"}
    )
    assert res.status_code == 200, res.text


def test_unknown_issuer(world: World, ci: CiPlatform) -> None:
    with ci_platform() as other:
        claims = other.github("production")
        _refused(world, other.sign(claims), "not a configured CI issuer")
        # Same issuer URL, but signed with a key that is not in the issuer's JWKS.
        claims["iss"] = ci.url
        _refused(world, other.sign(claims), "")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_and_hs256_key_confusion(world: World, ci: CiPlatform) -> None:
    claims = ci.github("production")
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    _refused(world, unsigned, "")
    # HS256 with the issuer's *public* key as the HMAC secret (the classic confusion).
    for secret in (
        json.dumps(ci.key.as_dict(private=False)).encode(),
        ci.key.as_pem(private=False),
    ):
        head = f"{_b64({'alg': 'HS256', 'kid': ci.key.kid, 'typ': 'JWT'})}.{_b64(claims)}"
        mac = hmac.new(secret, head.encode(), hashlib.sha256).digest()
        forged = f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        _refused(world, forged, "")


def test_refusals_are_audited_and_a_pipeline_cannot_approve(
    world: World, ci: CiPlatform, people: dict[str, Person]
) -> None:
    _refused(world, _token(ci, repository="evil/shop"), "matches no service principal", "SW850")
    failed = [
        e for e in world.events() if e.code == "identity.login" and e.status.value == "Failure"
    ]
    assert failed and failed[-1].details["method"] == "ci-oidc"
    assert failed[-1].details["claims"]["repository"] == "evil/shop"
    res = world.client.post(
        "/api/v1/promotions/x000000/approvals",
        json={"otp": "123456"},
        headers={"Authorization": f"Bearer {_token(ci)}"},
    )
    assert res.status_code == 403
    assert "'deploybot' (pipeline) may not call gate.approve" in res.json()["detail"]
    refused = [e for e in world.events() if e.code == "server.request.refused"][-1]
    assert '"method":"ci-oidc"' in refused.raw.decode()
    assert '"repository":"acme/shop"' in refused.raw.decode()


def test_no_ci_issuers_declared(world: World) -> None:
    with ci_platform() as platform:
        _refused(world, platform.sign(platform.github("production")), "accepts no CI OIDC tokens")


# ---- per-pipeline static tokens ---------------------------------------------------------


def _operator(world: World, *args: str) -> Any:
    return run_cli(
        "server", "pipeline-token", *args, "--config", str(world.config), "--db",
        str(world.state.ctx.store.url), "--format", "json",
    )  # fmt: skip


def test_pipeline_token_create_use_list_revoke(world: World) -> None:
    r = _operator(world, "create", "deploybot", "--ttl-days", "30")
    assert r.exit_code == 0, r.stderr
    made = json.loads(r.stdout)
    secret = made["token"]
    assert secret.startswith("swp_")
    who = _whoami(world, secret).json()
    assert who["principal"] == "deploybot" and who["method"] == "pipeline-token"

    listed = json.loads(_operator(world, "list").stdout)
    assert [t["id"] for t in listed] == [made["id"]]
    assert secret not in json.dumps(listed)
    # Stored hashed: the secret is nowhere in the store file.
    store_file = str(world.state.ctx.store.url).split("sqlite:///", 1)[1]
    with open(store_file, "rb") as fh:
        assert secret.encode() not in fh.read()

    r = _operator(world, "revoke", made["id"])
    assert r.exit_code == 0, r.stderr
    assert _whoami(world, secret).status_code == 401
    assert json.loads(_operator(world, "list").stdout)[0]["revoked_at"] is not None
    r = _operator(world, "revoke", made["id"])
    assert r.exit_code == 2 and "already revoked" in r.stderr
    codes = [e.code for e in world.events()]
    assert "identity.pipeline_token.created" in codes
    assert "identity.pipeline_token.revoked" in codes


def test_pipeline_token_only_for_service_principals(world: World) -> None:
    r = _operator(world, "create", "alice")
    assert r.exit_code == 2 and "pipeline tokens are only for service principals" in r.stderr
    assert '"code": "SW851"' in r.stderr
    r = _operator(world, "create", "ghost")
    assert r.exit_code == 2 and "'ghost' is not a principal declared" in r.stderr
    r = _operator(world, "revoke", "tnothere")
    assert r.exit_code == 2 and "there is no pipeline token" in r.stderr


def test_a_personal_token_for_a_service_principal_is_refused(world: World) -> None:
    """Service principals act only through CI OIDC or a pipeline token."""
    from stagewall.identity.actor import LoginMethod
    from stagewall.identity.tokens import TokenKind, issue_token

    personal = issue_token(
        world.state.ctx.store, "deploybot", kind=TokenKind.API, method=LoginMethod.LOCAL,
        now=world.clock(),
    ).secret  # fmt: skip
    res = _whoami(world, personal)
    assert res.status_code == 401
    assert "does not fit its kind of principal" in res.json()["detail"]
    # And a pipeline token minted for a person (a row edited in the store) is refused.
    piped = issue_token(
        world.state.ctx.store, "alice", kind=TokenKind.PIPELINE,
        method=LoginMethod.PIPELINE_TOKEN, now=world.clock(),
    ).secret  # fmt: skip
    assert _whoami(world, piped).status_code == 401


def test_a_pull_request_run_never_vouches_for_a_check_or_a_deployment(
    world: World, ci: CiPlatform
) -> None:
    """A binding may accept pull request runs (to submit), but such a run executes the
    proposer's own code and workflow: it cannot report a check result or obtain a
    deployment attestation, whatever the binding says."""
    text = world.config.read_text().replace(
        "workflow: promote.yml}", "workflow: promote.yml, pull_requests: true}"
    )
    text += (
        "stages:\n"
        "  - name: production\n"
        "    environment: production\n"
        "    checks: [tests]\n"
        "    approval: one-sre\n"
    )
    world.config.write_text(text)
    change = "a" * 40
    report = {"change": change, "stage": "production", "check": "tests", "status": "pass"}
    deploy = {"change": change, "artifact": "sha256:" + "b" * 64, "stage": "production"}

    def post(path: str, body: dict[str, Any], event: str) -> Any:
        token = _token(ci, event_name=event)
        return world.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

    for event in ("pull_request", "pull_request_target"):
        res = post("/api/v1/checks", report, event)
        assert res.status_code == 403, res.text
        assert "pull/merge request run" in res.json()["detail"], res.text
        res = post("/api/v1/deployments", deploy, event)
        assert res.status_code == 403, res.text
        assert "pull/merge request run" in res.json()["detail"], res.text
    # The job session a pull request run exchanges its token for is held to the same rule.
    res = world.client.post(
        "/api/v1/ci/session",
        headers={"Authorization": f"Bearer {_token(ci, event_name='pull_request')}"},
    )
    assert res.status_code == 200, res.text
    session = {"Authorization": f"Bearer {res.json()['token']}"}
    res = world.client.post("/api/v1/checks", json=report, headers=session)
    assert res.status_code == 403, res.text
    refused = [e for e in world.events() if e.code == "server.request.refused"]
    assert refused and refused[-1].details["event"] == "pull_request"
    # A run of the reviewed workflow on main reports as before.
    res = post("/api/v1/checks", report, "push")
    assert res.status_code == 200, res.text
