"""Pipelines authenticating to the server with their CI platform's OIDC ID token.

The bearer value is a JWT (three base64url segments) instead of an ``swt_``/``swp_``
token. The server verifies it with :class:`~stagewall.identity.ci_oidc.CiTokenVerifier`
(JWKS fetched from the issuer and cached per process, asymmetric algorithms only,
exact issuer and audience, ``exp``/``nbf``/``iat`` with a maximum age) and maps its
claims to exactly one service principal's ``ci`` binding. Every refusal is an
audited, throttled failed login; the acts of an accepted pipeline carry its
repository, ref, environment, workflow and run in their audit events.

Each token is accepted once (:mod:`stagewall.identity.ci_uses`): for one request, or
for the one exchange at ``POST /api/v1/ci/session`` that gives the job a session
token. A replay is refused (SW925), audited as a failed login and alerted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stagewall.alerts import Alert, Severity
from stagewall.audit import AuditEvent, Status
from stagewall.errors import (
    AuthenticationFailed,
    CiTokenReplayed,
    PipelineNotBound,
    StagewallError,
)
from stagewall.estate import Estate
from stagewall.identity import _events as ev
from stagewall.identity import ci_uses
from stagewall.identity.actor import Actor, LoginMethod
from stagewall.identity.attempts import address_key, attempt
from stagewall.identity.ci_oidc import (
    CiClaims,
    CiTokenVerifier,
    ci_issuers_from_estate,
    is_pull_request,
    pull_request_run,
    service_principal_for,
)
from stagewall.server._events import REQUEST_REFUSED
from stagewall.server.authz import classes_for

if TYPE_CHECKING:
    from stagewall.server._state import ServerState


def looks_like_jwt(secret: str) -> bool:
    return secret.count(".") == 2 and not secret.startswith(("swt_", "swp_", "swc_"))


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
        # which platform's rules (pull-request events, workflow paths) the claims follow:
        # a job session re-checks its binding with them on every use
        "platform": claims.platform,
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


@dataclass(frozen=True)
class BurntToken:
    """A CI token accepted (and burnt) by this request: what an exchange needs."""

    key: str
    claims: CiClaims


def _alert_replay(state: ServerState, seen: dict[str, Any], source: str | None) -> None:
    state.ctx.alert(
        Alert(
            kind="identity.ci_token.replayed",
            title=f"CI OIDC token of {seen.get('repository')} replayed",
            text=(
                f"A CI OIDC token of {seen.get('repository')} (ref {seen.get('ref')}, "
                f"environment {seen.get('environment')}, run {seen.get('run')}) that was "
                f"already used was presented again from {source or 'an unknown address'}. "
                "Someone may have copied it from the job; it was refused."
            ),
            severity=Severity.CRITICAL,
            details={"claims": seen, "source_address": source},
        )
    )


def authenticate_ci(
    state: ServerState, token: str, *, source: str | None, user_agent: str | None
) -> tuple[Actor, BurntToken]:
    """The service principal a CI OIDC ID token stands for, or AuthenticationFailed.

    The token is burnt: a second presentation, here or on another instance sharing
    the store, is refused (CiTokenReplayed), audited and alerted."""
    now = state.now()
    key = f"{address_key(source)}:ci-address"
    estate = state.estate
    seen: dict[str, Any] = {}
    with attempt(state.ctx.store, key, now=now, reserve=False) as slots:
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
                    f"the CI token of {claims.repository} (ref {claims.ref or 'none'}, "
                    f"environment {claims.environment or 'none'}, workflow "
                    f"{claims.workflow or 'unknown'}){pr} matches no service principal's "
                    "ci binding"
                )
            burnt = ci_uses.burn(
                state.ctx.store, claims, token, principal=principal, workload=seen, now=now
            )
        except StagewallError as exc:
            slots.failed()
            _audit_failure(state, exc.message, source, seen)
            if isinstance(exc, CiTokenReplayed):
                _alert_replay(state, seen, source)
            raise
    actor = Actor(
        principal=principal,
        classes=classes_for(estate, principal),
        method=LoginMethod.CI_OIDC,
        session_id=f"ci:{burnt[:16]}",
        source_address=source,
        user_agent=user_agent,
        workload=workload_of(seen),
    )
    return actor, BurntToken(burnt, claims)


def refuse_pull_request_run(state: ServerState, actor: Actor, route: str, what: str) -> None:
    """Refuse (audited) when ``actor`` is a pull/merge request run (its token or job session).

    A binding may accept such runs so that they can submit, but they execute the
    proposer's own code and workflow file: what they say about a check or a deployment
    is the proposer's word, so they may say nothing."""
    workload = dict(actor.workload)
    event, ref = workload.get("event"), workload.get("ref")
    if pull_request_run(event, ref):
        raise state.ctx.refuse(
            REQUEST_REFUSED.code,
            actor.principal,
            f"a pull/merge request run ({event}, ref {ref}) of {actor.principal!r} may not "
            f"{what}: "
            "it runs code and a workflow nobody internal has reviewed yet",
            resource=f"route:{route}",
            details={"route": route, "event": event, "ref": ref},
            hint="report checks and ask to deploy from a run of the reviewed branch "
            "(push or merge), not from the pull request",
        )


def workload_of(seen: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The Actor's workload: the verified CI claims, as sorted text pairs."""
    return tuple(sorted((k, str(v)) for k, v in seen.items() if v is not None))


__all__ = [
    "BurntToken",
    "CiVerifiers",
    "authenticate_ci",
    "looks_like_jwt",
    "refuse_pull_request_run",
    "workload_of",
]
