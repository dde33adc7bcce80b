"""CI workload identity: tokens signed by a local JWKS issuer, mapped to service principals."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stagewall.errors import (
    AuthenticationFailed,
    ConfigError,
    IdentityAmbiguous,
    IdentityProviderError,
)
from stagewall.estate import parse_estate
from stagewall.estate.models import Estate
from stagewall.identity.ci_oidc import (
    CiClaims,
    CiIssuer,
    CiTokenVerifier,
    ci_issuers_from_estate,
    service_principal_for,
)
from tests.identity.conftest import LocalIssuer

AUDIENCE = "https://stagewall.example.com"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def github_claims(issuer: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "repo:acme/shop:environment:production",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "repository": "acme/shop",
        "repository_id": "4242",
        "repository_owner": "acme",
        "ref": "refs/heads/main",
        "environment": "production",
        "workflow": "Deploy",
        "workflow_ref": "acme/shop/.github/workflows/deploy.yml@refs/heads/main",
        "job_workflow_ref": "acme/shop/.github/workflows/deploy.yml@refs/heads/main",
        "event_name": "push",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def gitlab_claims(issuer: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "project_path:acme/shop:ref_type:branch:ref:main",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "project_id": "77",
        "project_path": "acme/shop",
        "namespace_path": "acme",
        "ref": "main",
        "ref_type": "branch",
        "ref_path": "refs/heads/main",
        "ref_protected": "true",
        "environment": "production",
        "ci_config_ref_uri": "gitlab.example.com/acme/shop//.gitlab-ci.yml@refs/heads/main",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def clock() -> Monotonic:
    return Monotonic()


@pytest.fixture
def verifier(jwt_issuer: LocalIssuer, clock: Monotonic) -> Iterator[CiTokenVerifier]:
    issuers = [CiIssuer(name="github", issuer=jwt_issuer.url, audience=AUDIENCE)]
    with CiTokenVerifier(issuers, monotonic=clock) as v:
        yield v


def test_valid_github_token_verifies_and_normalises(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier
) -> None:
    claims = verifier.verify(jwt_issuer.sign(github_claims(jwt_issuer.url)))
    assert claims.issuer == jwt_issuer.url
    assert claims.issuer_name == "github"
    assert claims.platform == "github"
    assert claims.subject == "repo:acme/shop:environment:production"
    assert claims.repository == "acme/shop"
    assert claims.repository_id == "4242"
    assert claims.ref == "refs/heads/main"
    assert claims.environment == "production"
    assert claims.workflow == ".github/workflows/deploy.yml"
    assert claims.raw["event_name"] == "push"


def test_es256_and_rs256_keys_both_verify(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier
) -> None:
    for key in jwt_issuer.keys:
        assert verifier.verify(jwt_issuer.sign(github_claims(jwt_issuer.url), key)).repository


def test_gitlab_token_is_normalised(jwt_issuer: LocalIssuer, verifier: CiTokenVerifier) -> None:
    claims = verifier.verify(jwt_issuer.sign(gitlab_claims(jwt_issuer.url)))
    assert claims.platform == "gitlab"
    assert claims.repository == "acme/shop"
    assert claims.repository_id == "77"
    assert claims.ref == "refs/heads/main"
    assert claims.workflow == ".gitlab-ci.yml"
    # Without ref_path the full ref is built from ref_type and ref.
    tag = gitlab_claims(jwt_issuer.url, ref_path=None, ref="v1.2", ref_type="tag")
    assert verifier.verify(jwt_issuer.sign(tag)).ref == "refs/tags/v1.2"


def test_wrong_audience_is_refused(jwt_issuer: LocalIssuer, verifier: CiTokenVerifier) -> None:
    for aud in ("https://github.com/acme", [AUDIENCE + "/", "sts.amazonaws.com"], AUDIENCE[:-1]):
        token = jwt_issuer.sign(github_claims(jwt_issuer.url, aud=aud))
        with pytest.raises(AuthenticationFailed, match="meant for audience"):
            verifier.verify(token)
    # Several audiences including ours: the authorized party must be us.
    token = jwt_issuer.sign(github_claims(jwt_issuer.url, aud=[AUDIENCE, "other"]))
    with pytest.raises(AuthenticationFailed, match="authorized party"):
        verifier.verify(token)


def test_expired_future_and_too_old_tokens_are_refused(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier
) -> None:
    now = int(time.time())
    expired = github_claims(jwt_issuer.url, iat=now - 700, nbf=now - 700, exp=now - 61)
    with pytest.raises(AuthenticationFailed, match="expired at"):
        verifier.verify(jwt_issuer.sign(expired))
    future = github_claims(jwt_issuer.url, iat=now + 600, exp=now + 900, nbf=None)
    with pytest.raises(AuthenticationFailed, match="issued in the future"):
        verifier.verify(jwt_issuer.sign(future))
    not_yet = github_claims(jwt_issuer.url, nbf=now + 600)
    with pytest.raises(AuthenticationFailed, match="not valid before"):
        verifier.verify(jwt_issuer.sign(not_yet))
    # Still unexpired, but issued an hour ago: beyond the maximum token age.
    old = github_claims(jwt_issuer.url, iat=now - 3600, nbf=None, exp=now + 3600)
    with pytest.raises(AuthenticationFailed, match="more than 900 s ago"):
        verifier.verify(jwt_issuer.sign(old))
    no_exp = github_claims(jwt_issuer.url, exp=None)
    with pytest.raises(AuthenticationFailed, match="no 'exp'"):
        verifier.verify(jwt_issuer.sign(no_exp))


def test_unknown_kid_is_refused(jwt_issuer: LocalIssuer, verifier: CiTokenVerifier) -> None:
    stranger = jwt_issuer.new_key("RSA")  # never published
    with pytest.raises(AuthenticationFailed, match="not among the published signing keys"):
        verifier.verify(jwt_issuer.sign(github_claims(jwt_issuer.url), stranger))
    # A published kid on a token signed by another key does not verify either.
    forged = jwt_issuer.sign(
        github_claims(jwt_issuer.url), stranger, header={"kid": jwt_issuer.keys[0].kid}
    )
    with pytest.raises(AuthenticationFailed, match="signature of the CI token does not verify"):
        verifier.verify(forged)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_and_hmac_are_refused(jwt_issuer: LocalIssuer, verifier: CiTokenVerifier) -> None:
    claims = github_claims(jwt_issuer.url)
    for alg in ("none", "None", "HS256"):
        token = f"{_b64({'alg': alg, 'kid': jwt_issuer.keys[0].kid})}.{_b64(claims)}."
        with pytest.raises(AuthenticationFailed, match=f"algorithm '{alg}'"):
            verifier.verify(token)
    with pytest.raises(AuthenticationFailed, match="not a signed JWT"):
        verifier.verify("a.b.c.d.e")


def test_key_rotation_refetches_the_jwks_at_most_once_per_interval(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier, clock: Monotonic
) -> None:
    old = jwt_issuer.keys[0]
    assert verifier.verify(jwt_issuer.sign(github_claims(jwt_issuer.url), old))
    assert jwt_issuer.jwks_fetches() == 1
    assert verifier.verify(jwt_issuer.sign(github_claims(jwt_issuer.url), old))
    assert jwt_issuer.jwks_fetches() == 1  # cached

    new = jwt_issuer.new_key("EC")
    jwt_issuer.keys = [new]  # the issuer rotates: old key retired, new key published
    token = jwt_issuer.sign(github_claims(jwt_issuer.url), new)
    # Within the refetch interval an unknown kid does not hit the issuer again.
    clock.now += 1
    with pytest.raises(AuthenticationFailed, match="not among the published signing keys"):
        verifier.verify(token)
    assert jwt_issuer.jwks_fetches() == 1
    clock.now += 10
    assert verifier.verify(token).repository == "acme/shop"
    assert jwt_issuer.jwks_fetches() == 2
    # The retired key no longer verifies.
    clock.now += 11
    with pytest.raises(AuthenticationFailed, match="not among the published signing keys"):
        verifier.verify(jwt_issuer.sign(github_claims(jwt_issuer.url), old))


def test_unconfigured_issuer_is_refused(jwt_issuer: LocalIssuer, verifier: CiTokenVerifier) -> None:
    token = jwt_issuer.sign(github_claims("https://token.actions.githubusercontent.com"))
    with pytest.raises(AuthenticationFailed, match="not a configured CI issuer"):
        verifier.verify(token)
    assert jwt_issuer.requests == []


def test_issuer_configuration_is_checked() -> None:
    with pytest.raises(ConfigError, match="is not an https:// URL"):
        CiIssuer(name="github", issuer="http://token.example.com", audience=AUDIENCE)
    with pytest.raises(ConfigError, match="same issuer URL"):
        CiTokenVerifier(
            [
                CiIssuer(name="a", issuer="https://t.example.com", audience="x"),
                CiIssuer(name="b", issuer="https://t.example.com", audience="y"),
            ]
        )


# ---- binding tokens to service principals ------------------------------------------
def _estate(issuer_url: str, principals: str) -> Estate:
    text = f"""
environments:
  production: {{tier: production}}
ci_issuers:
  github: {{issuer: "{issuer_url}", audience: "{AUDIENCE}"}}
  gitlab: {{issuer: "https://gitlab.example.com", audience: "{AUDIENCE}"}}
principals:
{principals}
"""
    return parse_estate(text).estate


DEPLOYERS = """
  shop-deploy:
    kind: service
    affiliation: internal
    ci:
      - {issuer: github, repository: acme/shop, repository_id: "4242", ref: refs/heads/main,
         environment: production, workflow: deploy.yml}
  shop-staging:
    kind: service
    affiliation: internal
    ci:
      - {issuer: github, repository: acme/shop, ref: refs/heads/develop}
  gitlab-shop:
    kind: service
    affiliation: internal
    ci:
      - {issuer: gitlab, repository: acme/shop, ref: refs/heads/main}
"""


def _claims(issuer: LocalIssuer, verifier: CiTokenVerifier, **over: Any) -> CiClaims:
    return verifier.verify(issuer.sign(github_claims(issuer.url, **over)))


def test_binding_matches_exactly(jwt_issuer: LocalIssuer, verifier: CiTokenVerifier) -> None:
    estate = _estate(jwt_issuer.url, DEPLOYERS)
    assert service_principal_for(estate, _claims(jwt_issuer, verifier)) == "shop-deploy"
    develop = _claims(jwt_issuer, verifier, ref="refs/heads/develop", environment=None)
    assert service_principal_for(estate, develop) == "shop-staging"


@pytest.mark.parametrize(
    "over",
    [
        {"repository": "acme/shop-fork"},
        {"repository": "acme/sho"},
        {"repository": "ACME/shop"},
        {"repository": "evil/acme/shop"},
        {"repository_id": "4243"},
        {"repository_id": None},
        {"ref": "refs/heads/main-hotfix"},
        {"ref": "refs/heads/mai"},
        {"ref": "refs/pull/7/merge"},
        {"ref": "refs/tags/main"},
        {"environment": "production-eu"},
        {"environment": None},
        {"workflow_ref": "acme/shop/.github/workflows/deploy.yml.bak@refs/heads/main"},
        {"workflow_ref": "acme/shop/.github/workflows/ci.yml@refs/heads/main"},
        {"workflow_ref": "evil/x/.github/workflows/deploy.yml@refs/heads/main"},
    ],
)
def test_other_repository_ref_environment_or_workflow_does_not_match(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier, over: dict[str, Any]
) -> None:
    if "workflow_ref" in over:
        over = {**over, "job_workflow_ref": over["workflow_ref"]}
    estate = _estate(jwt_issuer.url, DEPLOYERS)
    assert service_principal_for(estate, _claims(jwt_issuer, verifier, **over)) is None


def test_token_from_another_issuer_does_not_match_its_bindings(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier
) -> None:
    """gitlab-shop binds acme/shop on main at GitLab: a GitHub token for the same
    repository and ref is not GitLab's and matches nothing."""
    gitlab_only = _estate(jwt_issuer.url, "  gitlab-shop:" + DEPLOYERS.split("  gitlab-shop:")[1])
    claims = _claims(jwt_issuer, verifier)
    assert (claims.repository, claims.ref) == ("acme/shop", "refs/heads/main")
    assert service_principal_for(gitlab_only, claims) is None


def test_two_principals_matching_is_ambiguous(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier
) -> None:
    principals = """
  one:
    kind: service
    affiliation: internal
    ci: [{issuer: github, repository: acme/shop, ref: refs/heads/main}]
  two:
    kind: service
    affiliation: internal
    ci: [{issuer: github, repository: acme/shop, environment: production}]
"""
    estate = _estate(jwt_issuer.url, principals)
    with pytest.raises(IdentityAmbiguous, match="several service principals: one, two"):
        service_principal_for(estate, _claims(jwt_issuer, verifier))


def test_disabled_service_principal_is_refused(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier
) -> None:
    principals = """
  one:
    kind: service
    affiliation: internal
    disabled: true
    ci: [{issuer: github, repository: acme/shop, ref: refs/heads/main}]
"""
    estate = _estate(jwt_issuer.url, principals)
    with pytest.raises(AuthenticationFailed, match="'one' is disabled"):
        service_principal_for(estate, _claims(jwt_issuer, verifier))


def test_estate_validation_of_ci_bindings() -> None:
    def load(principals: str) -> Estate:
        return _estate("https://token.actions.githubusercontent.com", principals)

    with pytest.raises(ConfigError, match=r"unknown CI issuer 'circle' \(declare it under"):
        load(
            "  d: {kind: service, affiliation: internal, ci: [{issuer: circle, "
            "repository: a/b, ref: refs/heads/main}]}"
        )
    with pytest.raises(ConfigError, match="must pin a ref"):
        load("  d: {kind: service, affiliation: internal, ci: [{issuer: github, repository: a/b}]}")
    with pytest.raises(ConfigError, match="only a service principal"):
        load(
            "  d: {affiliation: internal, ci: [{issuer: github, repository: a/b, "
            "ref: refs/heads/main}]}"
        )
    with pytest.raises(
        ConfigError, match=r"ci\[0\]\.ref: Value error, must be a full branch or tag ref"
    ):
        load(
            "  d: {kind: service, affiliation: internal, ci: [{issuer: github, "
            "repository: a/b, ref: main}]}"
        )
    with pytest.raises(
        ConfigError, match=r"ci\[0\]\.repository: Value error, must be written out exactly"
    ):
        load(
            "  d: {kind: service, affiliation: internal, ci: [{issuer: github, "
            "repository: 'a/*', ref: refs/heads/main}]}"
        )
    with pytest.raises(ConfigError, match="same CI binding is declared for principal 'd'"):
        load(
            "  d: {kind: service, affiliation: internal, ci: [{issuer: github, repository: a/b, "
            "ref: refs/heads/main}]}\n"
            "  e: {kind: service, affiliation: internal, ci: [{issuer: github, repository: a/b, "
            "ref: refs/heads/main}]}"
        )
    with pytest.raises(
        ConfigError, match=r"ci_issuers\.github\.issuer: Value error, must be an https"
    ):
        parse_estate(
            "environments: {p: {tier: production}}\n"
            "ci_issuers: {github: {issuer: 'http://token.example.com', audience: x}}\n"
        )


def test_ci_issuers_from_estate(jwt_issuer: LocalIssuer) -> None:
    estate = _estate(jwt_issuer.url, DEPLOYERS)
    issuers = {i.name: i for i in ci_issuers_from_estate(estate)}
    assert issuers["github"] == CiIssuer(name="github", issuer=jwt_issuer.url, audience=AUDIENCE)
    assert issuers["gitlab"].issuer == "https://gitlab.example.com"


def test_gitlab_binding_matches_gitlab_claims(jwt_issuer: LocalIssuer) -> None:
    estate = parse_estate(
        f"""
environments:
  production: {{tier: production}}
ci_issuers:
  gitlab: {{issuer: "{jwt_issuer.url}", audience: "{AUDIENCE}"}}
principals:
  gl:
    kind: service
    affiliation: internal
    ci: [{{issuer: gitlab, repository: acme/shop, repository_id: "77", ref: refs/heads/main,
           environment: production, workflow: .gitlab-ci.yml}}]
"""
    ).estate
    with CiTokenVerifier(ci_issuers_from_estate(estate)) as v:
        claims = v.verify(jwt_issuer.sign(gitlab_claims(jwt_issuer.url)))
        assert service_principal_for(estate, claims) == "gl"
        other = v.verify(jwt_issuer.sign(gitlab_claims(jwt_issuer.url, ref_path="refs/heads/dev")))
        assert service_principal_for(estate, other) is None


def test_token_age_uses_the_injected_clock(jwt_issuer: LocalIssuer) -> None:
    later = datetime.now(UTC) + timedelta(minutes=30)
    issuers = [CiIssuer(name="github", issuer=jwt_issuer.url, audience=AUDIENCE)]
    with (
        CiTokenVerifier(issuers, clock=lambda: later) as v,
        pytest.raises(AuthenticationFailed, match="expired at"),
    ):
        v.verify(jwt_issuer.sign(github_claims(jwt_issuer.url)))


def test_token_without_kid_verifies_only_against_a_single_published_key(
    jwt_issuer: LocalIssuer, verifier: CiTokenVerifier
) -> None:
    token = jwt_issuer.sign(github_claims(jwt_issuer.url), header={"kid": None})
    with pytest.raises(AuthenticationFailed, match="signed with no key id"):
        verifier.verify(token)  # two keys published: which one is meant is unknown
    jwt_issuer.keys = jwt_issuer.keys[:1]
    issuers = [CiIssuer(name="github", issuer=jwt_issuer.url, audience=AUDIENCE)]
    with CiTokenVerifier(issuers) as single:
        assert single.verify(token).repository == "acme/shop"


def test_unreachable_or_broken_issuer_is_an_identity_provider_error(
    jwt_issuer: LocalIssuer,
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    issuers = [CiIssuer(name="github", issuer=dead, audience=AUDIENCE)]
    with CiTokenVerifier(issuers) as v, pytest.raises(IdentityProviderError) as err:
        v.verify(jwt_issuer.sign(github_claims(dead)))
    assert "cannot fetch the CI issuer 'github' discovery document" in err.value.message
    assert err.value.code == "SW701"

    jwt_issuer.broken_jwks = True
    issuers = [CiIssuer(name="github", issuer=jwt_issuer.url, audience=AUDIENCE)]
    with CiTokenVerifier(issuers) as v, pytest.raises(IdentityProviderError, match="no keys list"):
        v.verify(jwt_issuer.sign(github_claims(jwt_issuer.url)))


def test_explicit_jwks_uri_skips_discovery(jwt_issuer: LocalIssuer) -> None:
    issuers = [
        CiIssuer(
            name="github",
            issuer=jwt_issuer.url,
            audience=AUDIENCE,
            jwks_uri=jwt_issuer.url + "/jwks",
        )
    ]
    with CiTokenVerifier(issuers) as v:
        assert v.verify(jwt_issuer.sign(github_claims(jwt_issuer.url))).repository == "acme/shop"
    assert jwt_issuer.requests == ["/jwks"]


def test_a_plain_http_jwks_uri_in_the_discovery_document_is_refused(
    jwt_issuer: LocalIssuer,
) -> None:
    """Keys fetched over plain http could be swapped on the way: no token is trusted."""
    import httpx

    issuer = "https://token.actions.githubusercontent.com"
    fetched: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        doc = {"issuer": issuer, "jwks_uri": "http://keys.example.com/jwks"}
        return httpx.Response(200, json=doc)

    issuers = [CiIssuer(name="github", issuer=issuer, audience=AUDIENCE)]
    with (
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
        CiTokenVerifier(issuers, http=http) as v,
        pytest.raises(IdentityProviderError) as err,
    ):
        v.verify(jwt_issuer.sign(github_claims(issuer)))
    assert "CI issuer 'github'" in err.value.message and issuer in err.value.message
    assert "'http://keys.example.com/jwks'" in err.value.message
    assert "not an https:// URL" in err.value.message
    assert fetched == [issuer + "/.well-known/openid-configuration"]  # never the keys
