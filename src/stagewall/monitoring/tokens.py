"""Per-source tokens for the server's ingest endpoint (``POST /api/v1/ingest/{source}``).

A log shipper on a database or bastion host holds one token, and that token names
one declared log source: a token created for ``pg-prod`` cannot post ``sshd``
lines, so a compromised shipper can only forge lines of the source it already
ships. Tokens are created on the server host (``stagewall server ingest-token
create SOURCE``), shown once, stored as their SHA-256 only (256 random bits need
no slow hash), compared in constant time, and revocable; creation and revocation
are audit events. They never expire on their own: a shipper runs unattended, so
rotate by creating a new token and revoking the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import IngestTokenUnknown, UnknownLogSource
from stagewall.estate import Estate
from stagewall.identity._codes import digest, fmt, new_id, new_secret, same
from stagewall.monitoring._audit import INGEST_TOKEN_CREATED, INGEST_TOKEN_REVOKED
from stagewall.monitoring._tables import monitoring_ingest_tokens as _t
from stagewall.store import Store

INGEST_TOKEN_PREFIX = "swi_"  # noqa: S105 - the public prefix, not a secret
_MAX_SECRET = 128


@dataclass(frozen=True)
class IngestToken:
    """A stored ingest token (never its secret)."""

    id: str
    source: str
    created_at: str
    created_by: str
    revoked_at: str | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "source": self.source,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True)
class NewIngestToken:
    """A token just created: the secret exists only here, once."""

    secret: str
    token: IngestToken


def _event(code: str, by: str, token_id: str, source: str, what: str) -> AuditEvent:
    return AuditEvent(
        code=code,
        status=Status.SUCCESS,
        actor=by,
        resource=f"log-source:{source}",
        message=f"ingest token {token_id} for log source {source} {what}",
        details={"ingest_credential": token_id, "source": source},
    )


def create_ingest_token(
    store: Store,
    estate: Estate,
    source: str,
    *,
    created_by: str,
    now: datetime,
    audit: AuditLog | None = None,
) -> NewIngestToken:
    """Create a token for the declared ``source`` (audited in the same transaction)."""
    if source not in estate.monitoring.sources:
        known = ", ".join(sorted(estate.monitoring.sources)) or "none declared"
        raise UnknownLogSource(
            f"log source {source!r} is not declared in stagewall.yaml (known: {known})"
        )
    secret = new_secret(INGEST_TOKEN_PREFIX)
    token = IngestToken(new_id("it"), source, fmt(now), created_by, None)
    log = audit if audit is not None else AuditLog(store)
    with store.transaction() as conn:
        conn.execute(
            insert(_t).values(
                id=token.id,
                source=source,
                token_hash=digest(secret),
                created_at=token.created_at,
                created_by=created_by,
                revoked_at=None,
            )
        )
        log.append_many(
            [_event(INGEST_TOKEN_CREATED.code, created_by, token.id, source, "created")],
            conn=conn,
        )
    return NewIngestToken(secret, token)


def _row(r: object) -> IngestToken:
    return IngestToken(
        r.id,  # type: ignore[attr-defined]
        r.source,  # type: ignore[attr-defined]
        r.created_at,  # type: ignore[attr-defined]
        r.created_by,  # type: ignore[attr-defined]
        r.revoked_at,  # type: ignore[attr-defined]
    )


def list_ingest_tokens(store: Store, source: str | None = None) -> list[IngestToken]:
    query = select(_t).order_by(_t.c.source, _t.c.created_at)
    if source is not None:
        query = query.where(_t.c.source == source)
    with store.read() as conn:
        return [_row(r) for r in conn.execute(query)]


def revoke_ingest_token(
    store: Store,
    token_id: str,
    *,
    revoked_by: str,
    now: datetime,
    audit: AuditLog | None = None,
) -> IngestToken:
    """Revoke a live token (IngestTokenUnknown when there is none with that id)."""
    log = audit if audit is not None else AuditLog(store)
    with store.transaction() as conn:
        row = conn.execute(select(_t).where(_t.c.id == token_id)).first()
        if row is None or row.revoked_at is not None:
            raise IngestTokenUnknown(f"there is no live ingest token {token_id!r}")
        conn.execute(update(_t).where(_t.c.id == token_id).values(revoked_at=fmt(now)))
        log.append_many(
            [_event(INGEST_TOKEN_REVOKED.code, revoked_by, token_id, row.source, "revoked")],
            conn=conn,
        )
    return IngestToken(row.id, row.source, row.created_at, row.created_by, fmt(now))


def resolve_ingest_token(store: Store, secret: str) -> IngestToken | None:
    """The live token behind ``secret``, or None (malformed, unknown or revoked)."""
    if not secret.startswith(INGEST_TOKEN_PREFIX) or len(secret) > _MAX_SECRET:
        return None
    wanted = digest(secret)
    with store.read() as conn:
        row = conn.execute(select(_t).where(_t.c.token_hash == wanted)).first()
    if row is None or not same(row.token_hash, wanted) or row.revoked_at is not None:
        return None
    return _row(row)


__all__ = [
    "INGEST_TOKEN_PREFIX",
    "IngestToken",
    "NewIngestToken",
    "create_ingest_token",
    "list_ingest_tokens",
    "resolve_ingest_token",
    "revoke_ingest_token",
]
