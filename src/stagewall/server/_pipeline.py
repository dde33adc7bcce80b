"""Pipelines authenticating to the server with their CI platform's OIDC ID token.

The bearer value is a JWT (three base64url segments) instead of an ``swt_``/``swp_``
token. The server verifies it with :class:`~stagewall.identity.ci_oidc.CiTokenVerifier`
(JWKS fetched from the issuer and cached per process, asymmetric algorithms only,
exact issuer and audience, ``exp``/``nbf``/``iat`` with a maximum age) and maps its
claims to exactly one service principal's ``ci`` binding. Every refusal is an
audited, throttled failed login; the acts of an accepted pipeline carry its
repository, ref, environment, workflow and run in their audit events.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any

from stagewall.audit import AuditEvent, Status
from stagewall.errors import AuthenticationFailed, PipelineNotBound, StagewallError
from stagewall.estate import Estate
from stagewall.identity import _events as ev
from stagewall.identity.accounts import record_failure, throttle
from stagewall.identity.actor import Actor, LoginMethod
from stagewall.identity.ci_oidc import (
    CiClaims,
    CiTokenVerifier,
    ci_issuers_from_estate,
    is_pull_request,
    service_principal_for,
)
from stagewall.server.authz import classes_for

if TYPE_CHECKING:
    from stagewall.server._state import ServerState


def looks_like_jwt(secret: str) -> bool:
    return secret.count(".") == 2 and not secret.startswith(("swt_", "swp_"))


class CiVerifiers:
    """One verifier (with its JWKS caches) per declared set of CI issuers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._verifier: CiTokenVerifier | None = None

    def for_estate(self, estate: Estate) -> CiTokenVerifier:
        key = tuple(
            (name, s.issuer, s.audience, s.jwks_uri)
            for name, s in sorted(estate.ci_issuers.items())
        )
        with self._lock:
            if self._verifier is None or key != self._key:
                if self._verifier is not None:
                    self._verifier.close()
                self._verifier = CiTokenVerifier(ci_issuers_from_estate(estate))
                self._key = key
            return self._verifier

    def close(self) -> None:
        with self._lock:
            if self._verifier is not None:
                self._verifier.close()
                self._verifier = None


def _summary(claims: CiClaims) -> dict[str, Any]:
    raw = claims.raw
    return {
        "issuer": claims.issuer_name,
        "repository": claims.repository,
        "repository_id": claims.repository_id,
        "ref": claims.ref,
        "environment": claims.environment,
        "workflow": claims.workflow,
        "event": raw.get("event_name") or raw.get("pipeline_source"),
        "run": raw.get("run_id") or raw.get("pipeline_id"),
        "sha": raw.get("sha"),
        "subject": claims.subject,
    }


def _audit_failure(state: ServerState, why: str, source: str | None, seen: dict[str, Any]) -> None:
    principal = "unknown-pipeline"
    state.ctx.audit.append(
        AuditEvent(
            ev.LOGIN.code,
            Status.FAILURE,
            principal,
            f"CI OIDC login refused: {why}",
            resource="pipeline",
            details={
                "method": LoginMethod.CI_OIDC.value,
                "source_address": source,
                "reason": why,
                "claims": seen,
            },
        )
    )


def authenticate_ci(
    state: ServerState, token: str, *, source: str | None, user_agent: str | None
) -> Actor:
    """The service principal a CI OIDC ID token stands for, or AuthenticationFailed."""
    now = state.now()
    key = f"{source}:ci-address"
    throttle(state.ctx.store, key, now=now)
    estate = state.estate
    seen: dict[str, Any] = {}
    try:
        if not estate.ci_issuers:
            raise AuthenticationFailed(
                "this server accepts no CI OIDC tokens (no ci_issuers: in stagewall.yaml)",
                hint="declare the CI platform under ci_issuers:, or use a pipeline token",
            )
        claims = state.ci.for_estate(estate).verify(token)
        seen = _summary(claims)
        principal = service_principal_for(estate, claims)
        if principal is None:
            pr = " from a pull/merge request run" if is_pull_request(claims) else ""
            raise PipelineNotBound(
                f"the CI token of {claims.repository} (ref {claims.ref or 'none'}, environment "
                f"{claims.environment or 'none'}, workflow {claims.workflow or 'unknown'}){pr} "
                "matches no service principal's ci binding"
            )
    except StagewallError as exc:
        record_failure(state.ctx.store, key, now=now)
        _audit_failure(state, exc.message, source, seen)
        raise
    classes = classes_for(estate, principal)
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    return Actor(
        principal=principal,
        classes=classes,
        method=LoginMethod.CI_OIDC,
        session_id=f"ci:{digest}",
        source_address=source,
        user_agent=user_agent,
        workload=tuple(sorted((k, str(v)) for k, v in seen.items() if v is not None)),
    )


__all__ = ["CiVerifiers", "authenticate_ci", "looks_like_jwt"]
