"""Per-pipeline static tokens: the fallback when a CI platform has no OIDC ID token.

Created on the server host only (``stagewall server pipeline-token create PRINCIPAL``),
for an enabled, declared service principal. The secret (``swp_`` + 256 random bits)
is shown once; the store keeps its SHA-256 digest. Tokens expire (default 90 days),
are listed without their secret and revoked one by one. Creation and revocation are
audit events. A request made with one records the login method ``pipeline-token``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import PipelineTokenRefused
from stagewall.estate import Estate
from stagewall.estate.models import HOST_OPERATOR, PrincipalKind
from stagewall.identity import _events as ev
from stagewall.identity import bindings
from stagewall.identity._codes import parse
from stagewall.identity._tables import identity_tokens
from stagewall.identity.actor import LoginMethod
from stagewall.identity.tokens import NewToken, TokenKind, issue_token, revoke_token
from stagewall.store import Store

DEFAULT_PIPELINE_TTL = timedelta(days=90)
MAX_PIPELINE_TTL = timedelta(days=366)


@dataclass(frozen=True)
class PipelineToken:
    id: str
    principal: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "principal": self.principal,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _check_service(estate: Estate, principal: str) -> None:
    p = estate.principals.get(principal)
    if p is None:
        raise PipelineTokenRefused(f"{principal!r} is not a principal declared in stagewall.yaml")
    if p.kind is not PrincipalKind.SERVICE:
        raise PipelineTokenRefused(
            f"{principal!r} is a person; pipeline tokens are only for service principals",
            hint="people log in with `stagewall login` and get short-lived personal tokens",
        )
    if p.disabled:
        raise PipelineTokenRefused(f"service principal {principal!r} is disabled")


def create_pipeline_token(
    store: Store,
    estate: Estate,
    audit: AuditLog,
    principal: str,
    *,
    now: datetime,
    ttl: timedelta = DEFAULT_PIPELINE_TTL,
    created_by: str = HOST_OPERATOR,
) -> NewToken:
    """A new pipeline token for ``principal``; its secret exists only in the return value."""
    _check_service(estate, principal)
    if not timedelta(0) < ttl <= MAX_PIPELINE_TTL:
        raise PipelineTokenRefused(
            f"a pipeline token lives between 1 and {MAX_PIPELINE_TTL.days} days",
            hint="rotate long-lived pipelines' tokens; prefer CI OIDC, which needs none",
        )
    bindings.bind(store, estate, principal, now=now, how="pipeline-token")
    new = issue_token(
        store,
        principal,
        kind=TokenKind.PIPELINE,
        method=LoginMethod.PIPELINE_TOKEN,
        now=now,
        ttl=ttl,
    )
    audit.append(
        AuditEvent(
            ev.PIPELINE_TOKEN_CREATED.code,
            Status.SUCCESS,
            created_by,
            f"pipeline token {new.info.id} created for {principal} "
            f"(expires {new.info.expires_at.isoformat()})",
            resource=f"principal:{principal}",
            details={
                "pipeline_login": new.info.id,
                "principal": principal,
                "expires_at": new.info.expires_at.isoformat(),
            },
        )
    )
    return new


def list_pipeline_tokens(store: Store, principal: str | None = None) -> list[PipelineToken]:
    """Every pipeline token (never its secret), oldest first."""
    query = select(identity_tokens).where(identity_tokens.c.kind == TokenKind.PIPELINE.value)
    if principal is not None:
        query = query.where(identity_tokens.c.principal == principal)
    with store.read() as conn:
        rows = conn.execute(query.order_by(identity_tokens.c.created_at)).all()
    return [
        PipelineToken(
            id=r.id,
            principal=r.principal,
            created_at=parse(r.created_at),
            expires_at=parse(r.expires_at),
            revoked_at=parse(r.revoked_at) if r.revoked_at else None,
        )
        for r in rows
    ]


def revoke_pipeline_token(
    store: Store,
    audit: AuditLog,
    token_id: str,
    *,
    now: datetime,
    revoked_by: str = HOST_OPERATOR,
) -> PipelineToken:
    """Revoke one pipeline token by id (an unknown or already revoked id is refused)."""
    found = [t for t in list_pipeline_tokens(store) if t.id == token_id]
    if not found:
        raise PipelineTokenRefused(
            f"there is no pipeline token {token_id!r}",
            hint="`stagewall server pipeline-token list` shows the ids",
        )
    if not revoke_token(store, token_id, now=now, by=revoked_by):
        raise PipelineTokenRefused(f"pipeline token {token_id!r} is already revoked", hint="")
    audit.append(
        AuditEvent(
            ev.PIPELINE_TOKEN_REVOKED.code,
            Status.SUCCESS,
            revoked_by,
            f"pipeline token {token_id} of {found[0].principal} revoked",
            resource=f"principal:{found[0].principal}",
            details={"pipeline_login": token_id, "principal": found[0].principal},
        )
    )
    return next(t for t in list_pipeline_tokens(store, found[0].principal) if t.id == token_id)


__all__ = [
    "DEFAULT_PIPELINE_TTL",
    "PipelineToken",
    "create_pipeline_token",
    "list_pipeline_tokens",
    "revoke_pipeline_token",
]
