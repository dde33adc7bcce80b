"""Pipeline workload identity: verify a CI platform's OIDC ID token, map it to a service.

A GitHub Actions job (``permissions: id-token: write``) or a GitLab CI job
(``id_tokens:``) asks its platform for a short-lived JWT with stagewall's audience and
presents it. :class:`CiTokenVerifier` checks the signature against the issuer's JWKS
(cached, refetched on key rotation), the issuer, the audience and the token's
lifetime, and returns the normalised :class:`CiClaims`.
:func:`service_principal_for` then finds the one service principal whose declared
``ci`` binding matches every declared field exactly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import httpx
from joserfc.jwk import KeySet

from stagewall.errors import (
    AuthenticationFailed,
    ConfigError,
    IdentityAmbiguous,
    IdentityProviderError,
    StagewallError,
)
from stagewall.estate.models import CiBinding, Estate, PrincipalKind
from stagewall.identity._jose import (
    ASYMMETRIC_ALGORITHMS,
    HTTP_TIMEOUT_S,
    JWKS_MIN_REFETCH_S,
    Clock,
    JwksCache,
    check_audience,
    check_times,
    fetch_discovery,
    require_secure_discovered,
    require_secure_url,
    unverified_claims,
    utcnow,
    verify_signed_jwt,
)

DEFAULT_MAX_TOKEN_AGE_S = 900
_WHAT = "CI token"
_GITHUB_WORKFLOWS = ".github/workflows/"


@dataclass(frozen=True)
class CiIssuer:
    """A CI platform whose tokens are accepted, and the audience they must carry."""

    name: str
    issuer: str
    audience: str
    jwks_uri: str | None = None

    def __post_init__(self) -> None:
        require_secure_url(self.issuer, f"the issuer of CI issuer {self.name!r}")
        if self.jwks_uri is not None:
            require_secure_url(self.jwks_uri, f"the JWKS URL of CI issuer {self.name!r}")
        if not self.audience:
            raise ConfigError(f"CI issuer {self.name!r} has an empty audience")


@dataclass(frozen=True)
class CiClaims:
    """The verified, normalised claims of one pipeline token.

    ``ref`` is always a full ref (``refs/heads/main``); ``workflow`` is the workflow
    file's path inside the repository (``.github/workflows/deploy.yml``,
    ``.gitlab-ci.yml``) or ``None`` when the token does not say.
    """

    issuer: str
    subject: str
    repository: str
    ref: str | None
    environment: str | None
    workflow: str | None
    raw: Mapping[str, Any] = field(repr=False, hash=False)
    issuer_name: str = ""
    repository_id: str | None = None
    platform: str = ""


def ci_issuers_from_estate(estate: Estate) -> list[CiIssuer]:
    """The CI issuers declared under ``ci_issuers:`` in ``stagewall.yaml``."""
    return [
        CiIssuer(name=name, issuer=spec.issuer, audience=spec.audience, jwks_uri=spec.jwks_uri)
        for name, spec in estate.ci_issuers.items()
    ]


class CiTokenVerifier:
    """Verifies CI OIDC ID tokens from a fixed set of issuers. Thread-safe."""

    def __init__(
        self,
        issuers: Sequence[CiIssuer],
        *,
        http: httpx.Client | None = None,
        max_token_age_s: int = DEFAULT_MAX_TOKEN_AGE_S,
        clock_skew_s: int = 60,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        jwks_min_refetch_s: float = JWKS_MIN_REFETCH_S,
    ) -> None:
        by_issuer: dict[str, CiIssuer] = {}
        for item in issuers:
            if item.issuer in by_issuer:
                raise ConfigError(
                    f"CI issuers {by_issuer[item.issuer].name!r} and {item.name!r} have the "
                    "same issuer URL; declare each platform once"
                )
            by_issuer[item.issuer] = item
        self._issuers = by_issuer
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=HTTP_TIMEOUT_S)
        self._max_age_s = max_token_age_s
        self._skew_s = clock_skew_s
        self._clock = clock
        self._monotonic = monotonic
        self._min_refetch_s = jwks_min_refetch_s
        self._lock = threading.Lock()
        self._caches: dict[str, JwksCache] = {}

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CiTokenVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cache(self, issuer: CiIssuer) -> JwksCache:
        with self._lock:
            cache = self._caches.get(issuer.issuer)
            if cache is None:
                uri = issuer.jwks_uri
                if uri is None:
                    doc = fetch_discovery(self._http, issuer.issuer, f"CI issuer {issuer.name!r}")
                    found = doc.get("jwks_uri")
                    if not isinstance(found, str):
                        raise IdentityProviderError(
                            f"the discovery document of CI issuer {issuer.name!r} has no jwks_uri"
                        )
                    require_secure_discovered(
                        found, "jwks_uri", f"CI issuer {issuer.name!r} ({issuer.issuer})"
                    )
                    uri = found
                cache = JwksCache(
                    self._http,
                    uri,
                    what=f"CI issuer {issuer.name!r}",
                    min_refetch_s=self._min_refetch_s,
                    monotonic=self._monotonic,
                )
                self._caches[issuer.issuer] = cache
            return cache

    def verify(self, token: str) -> CiClaims:
        """Verify ``token``; return its claims or raise AuthenticationFailed."""
        unverified = _peek_issuer(token)
        issuer = self._issuers.get(unverified)
        if issuer is None:
            raise AuthenticationFailed(
                f"the CI token was issued by {unverified!r}, which is not a configured CI issuer",
                hint="declare the platform under ci_issuers: in stagewall.yaml",
            )
        cache = self._cache(issuer)

        def keys(kid: str | None) -> KeySet:
            with self._lock:
                return cache.keys_for(kid)

        _, claims = verify_signed_jwt(token, keys, ASYMMETRIC_ALGORITHMS, _WHAT)
        if claims.get("iss") != issuer.issuer:
            raise AuthenticationFailed("the CI token's issuer changed between reads")
        check_audience(claims, issuer.audience, _WHAT)
        check_times(
            claims, now=self._clock(), skew_s=self._skew_s, what=_WHAT, max_age_s=self._max_age_s
        )
        return _normalise(issuer, claims)


def _peek_issuer(token: str) -> str:
    """The ``iss`` of a not-yet-verified token: only used to choose the keys."""
    iss = unverified_claims(token, _WHAT).get("iss")
    if not isinstance(iss, str):
        raise AuthenticationFailed("the CI token has no 'iss' (issuer) claim")
    return iss


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _workflow_path(ref_uri: str | None, prefix: str, *, strip_host: bool) -> str | None:
    """The workflow file's path inside the repository, from a workflow reference.

    GitHub: ``owner/repo/.github/workflows/x.yml@refs/heads/main`` (prefix ``owner/repo/``);
    GitLab: ``gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main`` (host stripped,
    prefix ``group/project//``). A reference into another repository gives ``None``.
    """
    if ref_uri is None:
        return None
    location = ref_uri.rsplit("@", 1)[0]
    if strip_host:
        location = location.split("/", 1)[1] if "/" in location else ""
    if location.startswith(prefix) and len(location) > len(prefix):
        return location[len(prefix) :]
    return None


def _normalise(issuer: CiIssuer, claims: dict[str, Any]) -> CiClaims:
    sub = _text(claims, "sub")
    if sub is None:
        raise AuthenticationFailed("the CI token has no 'sub' (subject) claim")
    raw = MappingProxyType(dict(claims))
    if "project_path" in claims:  # GitLab CI
        repository = _text(claims, "project_path")
        if repository is None:
            raise AuthenticationFailed("the GitLab CI token has an empty project_path claim")
        ref = _text(claims, "ref_path")
        if ref is None:
            kind = {"branch": "refs/heads/", "tag": "refs/tags/"}.get(
                _text(claims, "ref_type") or ""
            )
            name = _text(claims, "ref")
            ref = kind + name if kind and name else None
        return CiClaims(
            issuer=issuer.issuer,
            subject=sub,
            repository=repository,
            ref=ref,
            environment=_text(claims, "environment"),
            workflow=_workflow_path(
                _text(claims, "ci_config_ref_uri"), repository + "//", strip_host=True
            ),
            raw=raw,
            issuer_name=issuer.name,
            repository_id=_text(claims, "project_id"),
            platform="gitlab",
        )
    repository = _text(claims, "repository")
    if repository is None:
        raise AuthenticationFailed(
            "the CI token names no repository (neither GitHub's repository nor "
            "GitLab's project_path claim)"
        )
    return CiClaims(
        issuer=issuer.issuer,
        subject=sub,
        repository=repository,
        ref=_text(claims, "ref"),
        environment=_text(claims, "environment"),
        workflow=_workflow_path(
            _text(claims, "workflow_ref") or _text(claims, "job_workflow_ref"),
            repository + "/",
            strip_host=False,
        ),
        raw=raw,
        issuer_name=issuer.name,
        repository_id=_text(claims, "repository_id"),
        platform="github",
    )


def _binding_workflow(binding: CiBinding, platform: str) -> str | None:
    """``deploy.yml`` in a binding means ``.github/workflows/deploy.yml`` on GitHub."""
    wf = binding.workflow
    if wf is not None and platform == "github" and "/" not in wf:
        return _GITHUB_WORKFLOWS + wf
    return wf


_PR_EVENTS = {
    "github": (
        "event_name",
        {
            "pull_request",
            "pull_request_target",
            "pull_request_review",
            "pull_request_review_comment",
        },
    ),
    "gitlab": ("pipeline_source", {"merge_request_event", "external_pull_request_event"}),
}


PULL_REQUEST_EVENTS = frozenset(e for _name, events in _PR_EVENTS.values() for e in events)
"""The events (GitHub ``event_name``, GitLab ``pipeline_source``) of pull/merge request runs."""

PULL_REQUEST_REFS = ("refs/pull/", "refs/merge-requests/")
"""The refs of a pull/merge request's head or merge result (GitHub, GitLab): whatever the
event, a run on such a ref executes the proposer's code."""


def pull_request_run(event: object, ref: object) -> bool:
    """Whether a run with this event name and ref is a pull/merge request run.

    Either suffices: an event of :data:`PULL_REQUEST_EVENTS`, or a ref under
    :data:`PULL_REQUEST_REFS` (a ``pull_request_review`` run, or an event a platform adds
    later, still runs on ``refs/pull/N/merge``)."""
    if isinstance(event, str) and event in PULL_REQUEST_EVENTS:
        return True
    return isinstance(ref, str) and ref.startswith(PULL_REQUEST_REFS)


def is_pull_request(claims: CiClaims) -> bool:
    """Whether the token comes from a pull/merge request run (untrusted code)."""
    name, events = _PR_EVENTS.get(claims.platform, ("", set()))
    event = _text(claims.raw, name) if name else None
    return (event in events) or pull_request_run(None, claims.ref)


def _matches(estate: Estate, binding: CiBinding, claims: CiClaims) -> bool:
    spec = estate.ci_issuers.get(binding.issuer)
    if spec is None or spec.issuer != claims.issuer:
        return False
    if is_pull_request(claims) and not binding.pull_requests:
        return False
    checks: list[tuple[str | None, str | None]] = [
        (binding.repository, claims.repository),
        (binding.repository_id, claims.repository_id),
        (binding.ref, claims.ref),
        (binding.environment, claims.environment),
        (_binding_workflow(binding, claims.platform), claims.workflow),
    ]
    # A declared field matches only the identical claim; an undeclared one is not checked.
    return all(declared == seen for declared, seen in checks if declared is not None)


def service_principal_for(estate: Estate, claims: CiClaims) -> str | None:
    """The one service principal whose ``ci`` binding matches ``claims``, else ``None``.

    Raise IdentityAmbiguous when bindings of two principals match, and
    AuthenticationFailed when the matching principal is disabled.
    """
    matched = sorted(
        {
            name
            for name, p in estate.principals.items()
            if p.kind is PrincipalKind.SERVICE
            for binding in p.ci
            if _matches(estate, binding, claims)
        }
    )
    if len(matched) > 1:
        raise IdentityAmbiguous(
            f"the CI token of {claims.repository} ({claims.ref or 'no ref'}, environment "
            f"{claims.environment or 'none'}) matches the ci bindings of several service "
            f"principals: {', '.join(matched)}",
            hint="pin the bindings further (ref, environment, workflow) so that exactly "
            "one matches",
        )
    if not matched:
        return None
    if estate.principals[matched[0]].disabled:
        raise AuthenticationFailed(f"service principal {matched[0]!r} is disabled")
    return matched[0]


def binding_problem(estate: Estate, principal: str, workload: Mapping[str, Any]) -> str | None:
    """Why a CI job session of ``principal`` no longer stands (None: it still does).

    ``workload`` holds the verified claims recorded when the job's CI token was
    exchanged. They must still map, under the estate as it is *now*, to ``principal``
    alone: a binding removed or narrowed, an issuer no longer declared, or a principal
    disabled ends every job session it vouched for at its next use (within the hour a
    session may otherwise live)."""
    name = workload.get("issuer")
    spec = estate.ci_issuers.get(name) if isinstance(name, str) else None
    if spec is None:
        return f"the CI issuer {name!r} of this job session is no longer declared"
    platform = workload.get("platform")
    if platform not in _PR_EVENTS:
        return "this job session records no CI platform; exchange a new CI token"
    repository = workload.get("repository")
    subject = workload.get("subject")
    if not isinstance(repository, str) or not isinstance(subject, str):
        return "this job session records no repository; exchange a new CI token"

    def text(key: str) -> str | None:
        value = workload.get(key)
        return value if isinstance(value, str) else None

    event_claim = _PR_EVENTS[platform][0]
    claims = CiClaims(
        issuer=spec.issuer,
        subject=subject,
        repository=repository,
        ref=text("ref"),
        environment=text("environment"),
        workflow=text("workflow"),
        raw=MappingProxyType({event_claim: text("event")} if text("event") else {}),
        issuer_name=name if isinstance(name, str) else "",
        repository_id=text("repository_id"),
        platform=platform,
    )
    try:
        now_bound = service_principal_for(estate, claims)
    except StagewallError as exc:
        return exc.message
    if now_bound != principal:
        return (
            f"the ci binding of {principal!r} that admitted this job "
            f"({repository}, ref {claims.ref or 'none'}, environment "
            f"{claims.environment or 'none'}) is no longer in stagewall.yaml"
        )
    return None


__all__ = [
    "DEFAULT_MAX_TOKEN_AGE_S",
    "PULL_REQUEST_EVENTS",
    "PULL_REQUEST_REFS",
    "CiClaims",
    "CiIssuer",
    "CiTokenVerifier",
    "binding_problem",
    "ci_issuers_from_estate",
    "is_pull_request",
    "pull_request_run",
    "service_principal_for",
]
