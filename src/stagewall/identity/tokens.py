"""Sessions and personal API tokens: random bearer secrets stored only as keyed digests.

A token is ``swt_`` + 256 random bits. The store keeps its HMAC-SHA256 under the
server's token key (``token.key`` in the state directory, never in the store), the
principal, how the principal logged in, a per-token CSRF secret (for browser
sessions), an expiry and a revocation time. Tokens are short-lived by default and
revocable one by one or all at once for a principal.

Someone who can write the store but does not hold the token key cannot make a row
that works (tokenbind): the lookup digest of a token is keyed, so a row with a plain
SHA-256 of a token they chose is refused (``SW973``), and each row carries ``row_mac``,
an HMAC under the same key over its id, digest, principal, kind, method, CSRF secret,
creation and expiry. Revoking a token overwrites ``row_mac`` with :data:`REVOKED_MAC`,
so a row whose ``revoked_at`` is cleared again, or whose principal, kind or expiry is
edited, no longer verifies (``SW974``). What the MAC cannot tell is a whole row put
back as it was before its revocation (a restored backup): revocations are in the
audit log for that (docs/identity.md, "Token rows").
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from stagewall.errors import TokenFromBeforeUpgrade, TokenRowAltered, TokenRowForged
from stagewall.identity._codes import digest, fmt, new_id, new_secret, parse, same
from stagewall.identity._seal import LEGACY_MAC, REVOKED_MAC, keyed_digest, row_mac, token_key
from stagewall.identity._tables import identity_tokens
from stagewall.identity.actor import LoginMethod
from stagewall.store import Store

TOKEN_PREFIX = "swt_"  # noqa: S105 - the public prefix of every token
PIPELINE_PREFIX = "swp_"
CI_SESSION_PREFIX = "swc_"
_PREFIXES = (TOKEN_PREFIX, PIPELINE_PREFIX, CI_SESSION_PREFIX)
DEFAULT_TTL = timedelta(hours=12)
ENROL_TTL = timedelta(minutes=15)

_log = logging.getLogger("stagewall.identity")


class TokenKind(enum.StrEnum):
    API = "api"  # a CLI or script: Authorization: Bearer
    BROWSER = "browser"  # a browser session cookie (CSRF-protected)
    ENROL = "enrol"  # first factor only: may enrol a second factor, nothing else
    PIPELINE = "pipeline"  # a per-pipeline static token created on the server host
    CI = "ci"  # a CI job's session, exchanged once for its CI OIDC ID token


_PREFIX_OF = {TokenKind.PIPELINE: PIPELINE_PREFIX, TokenKind.CI: CI_SESSION_PREFIX}
SERVICE_KINDS = frozenset({TokenKind.PIPELINE, TokenKind.CI})
"""The kinds of token a service principal may hold (and nobody else)."""


@dataclass(frozen=True)
class TokenInfo:
    id: str
    principal: str
    kind: TokenKind
    method: LoginMethod
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class NewToken:
    secret: str
    info: TokenInfo


def _lookup(key: bytes, secret: str) -> str:
    return keyed_digest(key, "token", secret)


def _row_mac(key: bytes, row: Any) -> str:
    """The MAC over a token row's fields that never change while it is live."""
    fields = (row.id, row.token_hash, row.principal, row.kind, row.method, row.csrf)
    return row_mac(key, "token", (*fields, row.created_at, row.expires_at))


def revoked_values(now: datetime) -> dict[str, str]:
    """The column values that revoke a token row: its time, and its MAC overwritten."""
    return {"revoked_at": fmt(now), "row_mac": REVOKED_MAC}


def issue_token(
    store: Store,
    principal: str,
    *,
    kind: TokenKind,
    method: LoginMethod,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
    source_address: str | None = None,
    user_agent: str | None = None,
) -> NewToken:
    secret = new_secret(_PREFIX_OF.get(kind, TOKEN_PREFIX))
    info = TokenInfo(
        id=new_id("t"),
        principal=principal,
        kind=kind,
        method=method,
        csrf=new_secret(""),
        expires_at=now + ttl,
    )
    key = token_key(store)
    values: dict[str, Any] = {
        "id": info.id,
        "token_hash": _lookup(key, secret),
        "principal": principal,
        "kind": kind.value,
        "method": method.value,
        "csrf": info.csrf,
        "created_at": fmt(now),
        "expires_at": fmt(info.expires_at),
    }
    values["row_mac"] = _row_mac(key, _Fields(**values))
    with store.transaction() as conn:
        conn.execute(
            insert(identity_tokens).values(
                **values,
                source_address=(source_address or "")[:64] or None,
                user_agent=(user_agent or "")[:256] or None,
            )
        )
    return NewToken(secret, info)


@dataclass(frozen=True)
class _Fields:
    id: str
    token_hash: str
    principal: str
    kind: str
    method: str
    csrf: str
    created_at: str
    expires_at: str


# Built once: every authenticated request runs it (building the statement costs more
# than running it).
_BY_HASH = select(identity_tokens).where(identity_tokens.c.token_hash == bindparam("hash"))


def resolve_token(store: Store, secret: str, *, now: datetime) -> TokenInfo | None:
    """The live token behind ``secret``, or None (unknown, expired, revoked, malformed).

    Raises ``TokenRowForged`` (SW973) for a row keyed by the plain SHA-256 of ``secret``
    (not made by this server), ``TokenRowAltered`` (SW974) for a row whose MAC does not
    verify (edited, or its revocation undone) and ``TokenFromBeforeUpgrade`` (SW975) for
    a token the tokenbind_0001 upgrade ended."""
    if not secret.startswith(_PREFIXES) or len(secret) > 128:
        return None
    key = token_key(store)
    wanted = _lookup(key, secret)
    with store.read() as conn:
        row = conn.execute(_BY_HASH, {"hash": wanted}).first()
        if row is None:  # only a refused request pays for this second look
            plain = conn.execute(_BY_HASH, {"hash": digest(secret)}).first()
            if plain is not None:
                _refuse_unsealed(plain)
    if row is None or not same(row.token_hash, wanted):
        return None
    if row.revoked_at is not None:
        return None
    if not same(row.row_mac, _row_mac(key, row)):
        _log.warning("token row %s of %r does not verify with the token key", row.id, row.principal)
        raise TokenRowAltered(
            f"the store row of this login token ({row.id}) was changed after the server "
            "issued it (its principal, kind, expiry or revocation no longer match its seal); "
            "the token is refused"
        )
    if parse(row.expires_at) <= now:
        return None
    # A token's prefix and its kind agree; a pipeline secret is never a person's token.
    if not secret.startswith(_PREFIX_OF.get(TokenKind(row.kind), TOKEN_PREFIX)):
        return None
    return TokenInfo(
        id=row.id,
        principal=row.principal,
        kind=TokenKind(row.kind),
        method=LoginMethod(row.method),
        csrf=row.csrf,
        expires_at=parse(row.expires_at),
    )


def _refuse_unsealed(row: Any) -> None:
    if row.row_mac == LEGACY_MAC:
        raise TokenFromBeforeUpgrade(
            "this login token was issued before the server sealed its token rows with its "
            "own key (upgrade tokenbind_0001) and was ended by the upgrade; sign in again"
        )
    _log.warning("token row %s of %r is not keyed with the token key", row.id, row.principal)
    raise TokenRowForged(
        f"the store row of this login token ({row.id}) was not made by this server: its "
        "hash is not keyed with the server's token key; the token is refused"
    )


def issued_at(store: Store, token_id: str) -> datetime | None:
    """When the token ``token_id`` was issued (the person's sign-in), or None."""
    with store.read() as conn:
        row = conn.execute(
            select(identity_tokens.c.created_at).where(identity_tokens.c.id == token_id)
        ).first()
    return parse(row.created_at) if row is not None else None


def revoke_token(store: Store, token_id: str, *, now: datetime) -> bool:
    with store.transaction() as conn:
        done = conn.execute(
            update(identity_tokens)
            .where(identity_tokens.c.id == token_id)
            .where(identity_tokens.c.revoked_at.is_(None))
            .values(**revoked_values(now))
        ).rowcount
    return done == 1


def log_out(
    store: Store, principal: str, token_id: str, *, now: datetime, how: str = "signed out"
) -> bool:
    """Revoke the token ``token_id`` of ``principal`` and record ``identity.logout``
    (OCSF Authentication 3002, Logoff) in the same transaction; False if it was not live.

    The authenticated actor (``acting``) adds the login method, source and user agent."""
    from stagewall.audit import AuditEvent, AuditLog, Status
    from stagewall.identity._events import LOGOUT

    with store.transaction() as conn:
        done = conn.execute(
            update(identity_tokens)
            .where(identity_tokens.c.id == token_id)
            .where(identity_tokens.c.principal == principal)
            .where(identity_tokens.c.revoked_at.is_(None))
            .values(**revoked_values(now))
        ).rowcount
        if done != 1:
            return False
        row = conn.execute(
            select(identity_tokens.c.kind, identity_tokens.c.method).where(
                identity_tokens.c.id == token_id
            )
        ).one()
        AuditLog(store).append(
            AuditEvent(
                LOGOUT.code,
                Status.SUCCESS,
                principal,
                f"{principal} {how} (session {token_id})",
                resource=f"principal:{principal}",
                details={"session": token_id, "kind": row.kind, "method": row.method},
            ),
            conn=conn,
        )
    return True


def revoke_all_on(conn: Connection, principal: str, *, now: datetime) -> int:
    """Revoke every live token of ``principal`` in the caller's transaction."""
    return int(
        conn.execute(
            update(identity_tokens)
            .where(identity_tokens.c.principal == principal)
            .where(identity_tokens.c.revoked_at.is_(None))
            .values(**revoked_values(now))
        ).rowcount
    )


def revoke_all(store: Store, principal: str, *, now: datetime) -> int:
    with store.transaction() as conn:
        return revoke_all_on(conn, principal, now=now)


__all__ = [
    "CI_SESSION_PREFIX",
    "DEFAULT_TTL",
    "ENROL_TTL",
    "PIPELINE_PREFIX",
    "REVOKED_MAC",
    "SERVICE_KINDS",
    "TOKEN_PREFIX",
    "NewToken",
    "TokenInfo",
    "TokenKind",
    "issue_token",
    "issued_at",
    "log_out",
    "parse",
    "resolve_token",
    "revoke_all",
    "revoke_all_on",
    "revoke_token",
    "revoked_values",
    "token_key",
]
