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
back as it was before its revocation (a restored backup, a saved copy): every
revocation therefore also appends ``identity.token.revoked`` (resource ``token:ID``)
to the audit log in its transaction, and the query that reads a row asks the log for
that event too (one indexed subquery): a live-looking row the log says was revoked is
refused (``SW868``), and a log that cannot be read refuses every token (``SW867``).
A refused row is reported to the caller's ``report`` (the server records and alerts it,
rate-limited); see docs/identity.md, "Token rows".
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, update

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import (
    TokenFromBeforeUpgrade,
    TokenRowAltered,
    TokenRowForged,
    TokenRowRestored,
)
from stagewall.identity._codes import digest, fmt, new_id, new_secret, parse, same
from stagewall.identity._events import LOGOUT
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
from stagewall.identity._tables import identity_tokens
from stagewall.identity.actor import LoginMethod
from stagewall.store import Store

TOKEN_PREFIX = "swt_"  # noqa: S105 - the public prefix of every token
PIPELINE_PREFIX = "swp_"
CI_SESSION_PREFIX = "swc_"
_PREFIXES = (TOKEN_PREFIX, PIPELINE_PREFIX, CI_SESSION_PREFIX)
REVOKED_RESOURCE = "token:"  # the resource of a token row's identity.token.revoked event
_TABLE = "identity_tokens"
DEFAULT_TTL = timedelta(hours=12)
ENROL_TTL = timedelta(minutes=15)

_log = logging.getLogger("stagewall.identity")
E = TypeVar("E", TokenRowForged, TokenRowAltered, TokenRowRestored)


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
# than running it). The row comes with the index of its revocation event in the audit
# log (NULL while there is none), so a row put back after its revocation is caught in
# the same round trip.
_BY_HASH = select(
    identity_tokens,
    revoked_in_log(REVOKED_RESOURCE, identity_tokens.c.id).label("revoked_event"),
).where(identity_tokens.c.token_hash == bindparam("hash"))


def resolve_token(
    store: Store, secret: str, *, now: datetime, report: RowReport | None = None
) -> TokenInfo | None:
    """The live token behind ``secret``, or None (unknown, expired, revoked, malformed).

    Raises ``TokenRowForged`` (SW973) for a row keyed by the plain SHA-256 of ``secret``
    (not made by this server), ``TokenRowAltered`` (SW974) for a row whose MAC does not
    verify (edited, or its revocation undone), ``TokenRowRestored`` (SW868) for a row
    whose revocation the audit log records although the row says it is live (put back
    as it was), ``TokenRevocationUnreadable`` (SW867) when the log cannot be asked, and
    ``TokenFromBeforeUpgrade`` (SW975) for a token the tokenbind_0001 upgrade ended.
    ``report`` hears of each SW973, SW974 and SW868 row before it is refused."""
    if not secret.startswith(_PREFIXES) or len(secret) > 128:
        return None
    key = token_key(store)
    wanted = _lookup(key, secret)
    # Only a refused request pays for the second look (the plain digest).
    row, plain = read_row(store, _BY_HASH, wanted, digest(secret), "the login token")
    if plain is not None:  # reported outside the read: the report writes the audit log
        _refuse_unsealed(plain, report)
    if row is None or not same(row.token_hash, wanted):
        return None
    if row.revoked_at is not None:
        return None
    if not same(row.row_mac, _row_mac(key, row)):
        raise _refused(
            TokenRowAltered(
                f"the store row of this login token ({row.id}) was changed after the server "
                "issued it (its principal, kind, expiry or revocation no longer match its "
                "seal); the token is refused"
            ),
            row,
            report,
        )
    if row.revoked_event is not None:
        raise _refused(
            TokenRowRestored(
                f"the store row of this login token ({row.id}) says it is live, but the "
                f"audit log records its revocation (event {row.revoked_event}): the row was "
                "put back as it was before; the token is refused"
            ),
            row,
            report,
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


def _refused(exc: E, row: Any, report: RowReport | None) -> E:
    """``exc`` for the refused ``row``, after ``report`` (or the log) heard of it."""
    refused = RefusedRow(_TABLE, str(row.id), str(row.principal), exc.code, exc.message)
    if report is not None:
        report(refused)
    else:
        _log.warning("token row %s of %r refused: %s", row.id, row.principal, exc.code)
    return exc


def _refuse_unsealed(row: Any, report: RowReport | None) -> None:
    if row.row_mac == LEGACY_MAC:
        raise TokenFromBeforeUpgrade(
            "this login token was issued before the server sealed its token rows with its "
            "own key (upgrade tokenbind_0001) and was ended by the upgrade; sign in again"
        )
    raise _refused(
        TokenRowForged(
            f"the store row of this login token ({row.id}) was not made by this server: its "
            "hash is not keyed with the server's token key; the token is refused"
        ),
        row,
        report,
    )


def issued_at(store: Store, token_id: str) -> datetime | None:
    """When the token ``token_id`` was issued (the person's sign-in), or None."""
    with store.read() as conn:
        row = conn.execute(
            select(identity_tokens.c.created_at).where(identity_tokens.c.id == token_id)
        ).first()
    return parse(row.created_at) if row is not None else None


def revoke_on(
    conn: Connection,
    which: ColumnElement[bool],
    *,
    now: datetime,
    by: str,
    audit: AuditLog,
    why: str = "revoked",
) -> list[Any]:
    """Revoke every live token row ``which`` selects, in the caller's transaction, and
    append one ``identity.token.revoked`` event per row (the record that keeps it revoked
    if the row is put back as it was). Returns the rows revoked (rows of id, principal, kind,
    method). Every revocation of an ``identity_tokens`` row goes through here."""
    t = identity_tokens
    rows = list(
        conn.execute(
            select(t.c.id, t.c.principal, t.c.kind, t.c.method)
            .where(which)
            .where(t.c.revoked_at.is_(None))
            .order_by(t.c.id)
        ).all()
    )
    if not rows:
        return []
    conn.execute(
        update(t)
        .where(t.c.id.in_([r.id for r in rows]))
        .where(t.c.revoked_at.is_(None))
        .values(**revoked_values(now))
    )
    audit.append_many(
        [
            revocation_event(
                REVOKED_RESOURCE,
                r.id,
                by=by,
                message=f"{r.kind} token {r.id} of {r.principal} {why}",
                details={"table": _TABLE, "principal": r.principal, "kind": r.kind},
            )
            for r in rows
        ],
        conn=conn,
    )
    return rows


def revoke_token(store: Store, token_id: str, *, now: datetime, by: str = "stagewall") -> bool:
    """Revoke the live token ``token_id`` (recorded as revoked by ``by``); False if it
    was not live."""
    with store.transaction() as conn:
        done = revoke_on(
            conn, identity_tokens.c.id == token_id, now=now, by=by, audit=AuditLog(store)
        )
    return len(done) == 1


def log_out(
    store: Store, principal: str, token_id: str, *, now: datetime, how: str = "signed out"
) -> bool:
    """Revoke the token ``token_id`` of ``principal`` and record ``identity.logout``
    (OCSF Authentication 3002, Logoff) in the same transaction; False if it was not live.

    The authenticated actor (``acting``) adds the login method, source and user agent."""
    log = AuditLog(store)
    with store.transaction() as conn:
        done = revoke_on(
            conn,
            (identity_tokens.c.id == token_id) & (identity_tokens.c.principal == principal),
            now=now,
            by=principal,
            audit=log,
            why=how,
        )
        if len(done) != 1:
            return False
        row = done[0]
        log.append(
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


def revoke_all_on(
    conn: Connection, principal: str, *, now: datetime, audit: AuditLog, by: str = "stagewall"
) -> int:
    """Revoke every live token of ``principal`` in the caller's transaction."""
    done = revoke_on(conn, identity_tokens.c.principal == principal, now=now, by=by, audit=audit)
    return len(done)


def revoke_all(store: Store, principal: str, *, now: datetime, by: str = "stagewall") -> int:
    with store.transaction() as conn:
        return revoke_all_on(conn, principal, now=now, audit=AuditLog(store), by=by)


__all__ = [
    "CI_SESSION_PREFIX",
    "DEFAULT_TTL",
    "ENROL_TTL",
    "PIPELINE_PREFIX",
    "REVOKED_MAC",
    "REVOKED_RESOURCE",
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
    "revoke_on",
    "revoke_token",
    "revoked_values",
    "token_key",
]
