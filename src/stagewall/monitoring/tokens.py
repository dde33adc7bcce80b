"""Per-source tokens for the server's ingest endpoint (``POST /api/v1/ingest/{source}``).

A log shipper on a database or bastion host holds one token, and that token names
one declared log source: a token created for ``pg-prod`` cannot post ``sshd``
lines, so a compromised shipper can only forge lines of the source it already
ships. Tokens are created on the server host (``stagewall server ingest-token
create SOURCE``), shown once, stored as their HMAC-SHA256 under the server's
token key only (256 random bits need no slow hash; the key keeps someone who can
write the store from adding a token of their choosing), compared in constant time,
and revocable; creation and revocation are audit events. Each row carries a MAC
over its id, digest, source and creation (identity._seal): a row moved to another
source, or whose revocation is undone, is refused; a row put back as it was before its
revocation is refused by the revocation's ``identity.token.revoked`` event (resource
``ingest-token:ID``), asked for in the query that reads the row. They never expire on their own: a
shipper runs unattended, so rotate by creating a new token and revoking the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import (
    IngestTokenUnknown,
    StagewallError,
    TokenFromBeforeUpgrade,
    TokenRowAltered,
    TokenRowForged,
    TokenRowRestored,
    UnknownLogSource,
)
from stagewall.estate import Estate
from stagewall.identity._codes import digest, fmt, new_id, new_secret, same
from stagewall.identity._seal import (
    LEGACY_MAC,
    REVOKED_MAC,
    RefusedRow,
    RowReport,
    keyed_digest,
    read_row,
    revocation_event,
    revoked_in_log,
    row_mac,
    token_key,
)
from stagewall.monitoring._audit import INGEST_TOKEN_CREATED, INGEST_TOKEN_REVOKED
from stagewall.monitoring._tables import monitoring_ingest_tokens as _t
from stagewall.store import Store

INGEST_TOKEN_PREFIX = "swi_"  # noqa: S105 - the public prefix, not a secret
_MAX_SECRET = 128
REVOKED_RESOURCE = "ingest-token:"  # the resource of its identity.token.revoked event
_RENEW = "on the server host create a new token (`stagewall server ingest-token create SOURCE`)"


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
    key = token_key(store)
    hashed = keyed_digest(key, "ingest token", secret)
    with store.transaction() as conn:
        conn.execute(
            insert(_t).values(
                id=token.id,
                source=source,
                token_hash=hashed,
                created_at=token.created_at,
                created_by=created_by,
                revoked_at=None,
                row_mac=_mac(key, token.id, hashed, source, token.created_at, created_by),
            )
        )
        log.append_many(
            [_event(INGEST_TOKEN_CREATED.code, created_by, token.id, source, "created")],
            conn=conn,
        )
    return NewIngestToken(secret, token)


def _mac(key: bytes, *fields: str) -> str:
    return row_mac(key, "ingest token", fields)


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
        conn.execute(
            update(_t).where(_t.c.id == token_id).values(revoked_at=fmt(now), row_mac=REVOKED_MAC)
        )
        log.append_many(
            [
                _event(INGEST_TOKEN_REVOKED.code, revoked_by, token_id, row.source, "revoked"),
                revocation_event(
                    REVOKED_RESOURCE,
                    token_id,
                    by=revoked_by,
                    message=f"ingest token {token_id} for log source {row.source} revoked",
                    details={"table": _t.name, "source": row.source},
                ),
            ],
            conn=conn,
        )
    return IngestToken(row.id, row.source, row.created_at, row.created_by, fmt(now))


# Built once: every ingest request runs it. The row comes with the index of its
# revocation event in the audit log (NULL while there is none).
_BY_HASH = select(_t, revoked_in_log(REVOKED_RESOURCE, _t.c.id).label("revoked_event")).where(
    _t.c.token_hash == bindparam("hash")
)


def resolve_ingest_token(
    store: Store, secret: str, *, report: RowReport | None = None
) -> IngestToken | None:
    """The live token behind ``secret``, or None (malformed, unknown or revoked).

    A row this server did not make (SW973), one edited since (SW974), one put back after
    its revocation (SW868) and one the tokenbind_0001 upgrade ended (SW975) are refused
    with their own error; ``report`` hears of the first three first. A log that cannot
    be read refuses the token (SW867)."""
    if not secret.startswith(INGEST_TOKEN_PREFIX) or len(secret) > _MAX_SECRET:
        return None
    key = token_key(store)
    wanted = keyed_digest(key, "ingest token", secret)
    # Only a refused request pays for the second look (the plain digest).
    row, plain = read_row(store, _BY_HASH, wanted, digest(secret), "the ingest token")
    if plain is not None and plain.row_mac == LEGACY_MAC:
        raise TokenFromBeforeUpgrade(
            f"ingest token {plain.id} was made before the server sealed its token "
            "rows with its own key (upgrade tokenbind_0001) and was ended by it",
            hint=_RENEW,
        )
    if plain is not None:
        raise _refused(
            TokenRowForged(
                f"the store row of ingest token {plain.id} was not made by this server "
                "(its hash is not keyed with the server's token key); refused",
                hint=f"investigate who wrote monitoring_ingest_tokens; {_RENEW}",
            ),
            plain,
            report,
        )
    if row is None or not same(row.token_hash, wanted) or row.revoked_at is not None:
        return None
    if not same(row.row_mac, _mac(key, row.id, row.token_hash, *_fields(row))):
        raise _refused(
            TokenRowAltered(
                f"the store row of ingest token {row.id} was changed after the server made "
                "it (its source or revocation no longer match its seal); refused",
                hint=f"investigate who changed monitoring_ingest_tokens; {_RENEW}",
            ),
            row,
            report,
        )
    if row.revoked_event is not None:
        raise _refused(
            TokenRowRestored(
                f"the store row of ingest token {row.id} says it is live, but the audit log "
                f"records its revocation (event {row.revoked_event}): the row was put back "
                "as it was before; refused",
                hint=f"investigate who wrote monitoring_ingest_tokens back; {_RENEW}",
            ),
            row,
            report,
        )
    return _row(row)


def _refused(exc: StagewallError, row: Any, report: RowReport | None) -> StagewallError:
    """``exc`` for the refused ``row`` (its source as the principal), after ``report``."""
    if report is not None:
        report(RefusedRow(_t.name, str(row.id), f"log-source:{row.source}", exc.code, exc.message))
    return exc


def _fields(row: object) -> tuple[str, str, str]:
    return (row.source, row.created_at, row.created_by)  # type: ignore[attr-defined]


__all__ = [
    "INGEST_TOKEN_PREFIX",
    "REVOKED_RESOURCE",
    "IngestToken",
    "NewIngestToken",
    "create_ingest_token",
    "list_ingest_tokens",
    "resolve_ingest_token",
    "revoke_ingest_token",
]
