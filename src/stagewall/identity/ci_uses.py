"""CI OIDC ID tokens are single-use; a CI job exchanges its token once for a job session.

A platform's ID token lives minutes and is a bearer token: whoever copies it from a
job log, an artefact or a compromised step could replay it until it expires. So each
accepted token is recorded in the store (table ``identity_ci_token_uses``) under the
digest of its issuer and ``jti`` — or of its signed content (header and payload, not
the malleable signature) when it carries no ``jti`` — until its expiry plus the clock
skew. The record's primary key is the unique constraint: of any number of requests or
server instances sharing one store that present the same token, exactly one inserts the
row; every other is refused with :class:`~stagewall.errors.CiTokenReplayed`.

A token is used for **one** thing: one API request, or (what the CLI does) one
exchange at ``POST /api/v1/ci/session`` for a ``swc_`` *job session* token of the
same service principal, valid until the CI token's own expiry (at most one hour),
which the job's later requests carry. The session's acts are audited with the CI
token's verified claims (repository, ref, environment, workflow, run), read back
from the record. The sweeper purges records whose token can no longer be accepted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from stagewall.errors import AuthenticationFailed, CiTokenReplayed
from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_ci_token_uses
from stagewall.identity.actor import LoginMethod
from stagewall.identity.ci_oidc import CiClaims
from stagewall.identity.tokens import NewToken, TokenKind, issue_token
from stagewall.store import Store

CLOCK_SKEW = timedelta(seconds=60)
MAX_SESSION = timedelta(hours=1)


def token_key(claims: CiClaims, token: str) -> str:
    """The digest a token is recorded under: issuer + ``jti``, else its signed content.

    Without a ``jti`` the key is the token's signing input (header and payload), never
    the whole token: an ECDSA signature is malleable (``(r, s)`` and ``(r, n - s)`` both
    verify), so anyone holding a used ES256 token could otherwise mint a second string
    for the same token and present it once more."""
    jti = claims.raw.get("jti")
    if isinstance(jti, str) and jti:
        material = f"jti\0{claims.issuer}\0{jti}"
    else:
        material = f"signed\0{claims.issuer}\0{token.rsplit('.', 1)[0]}"
    return hashlib.sha256(material.encode()).hexdigest()


def _expiry(claims: CiClaims) -> datetime:
    exp = claims.raw.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise AuthenticationFailed("the CI token has no numeric 'exp' (expiry) claim")
    return datetime.fromtimestamp(exp, UTC)


def burn(
    store: Store,
    claims: CiClaims,
    token: str,
    *,
    principal: str,
    workload: Mapping[str, Any],
    now: datetime,
) -> str:
    """Record ``token`` as used by ``principal``; its key. CiTokenReplayed if it was used."""
    key = token_key(claims, token)
    try:
        with store.transaction() as conn:
            conn.execute(
                insert(identity_ci_token_uses).values(
                    token_key=key,
                    issuer=claims.issuer[:512],
                    principal=principal,
                    used_at=fmt(now),
                    expires_at=fmt(_expiry(claims) + CLOCK_SKEW),
                    workload=json.dumps(dict(workload), sort_keys=True, default=str),
                )
            )
    except SAIntegrityError:
        raise CiTokenReplayed(
            f"this CI token of {claims.repository} (issuer {claims.issuer_name or claims.issuer})"
            " was already used; a CI OIDC token is accepted once"
        ) from None
    return key


def exchange(
    store: Store,
    key: str,
    claims: CiClaims,
    *,
    principal: str,
    now: datetime,
    source_address: str | None = None,
    user_agent: str | None = None,
) -> NewToken:
    """A job session for the CI token just burnt under ``key``: until its expiry, ≤ 1 h."""
    until = min(_expiry(claims), now + MAX_SESSION)
    if until <= now:
        raise AuthenticationFailed("the CI token expires now; ask the platform for a new one")
    new = issue_token(
        store,
        principal,
        kind=TokenKind.CI,
        method=LoginMethod.CI_OIDC,
        now=now,
        ttl=until - now,
        source_address=source_address,
        user_agent=user_agent,
    )
    with store.transaction() as conn:
        conn.execute(
            update(identity_ci_token_uses)
            .where(identity_ci_token_uses.c.token_key == key)
            .values(session_id=new.info.id)
        )
    return new


def session_workload(store: Store, session_id: str) -> dict[str, Any]:
    """The verified CI claims behind a job session (empty when unknown)."""
    with store.read() as conn:
        row = conn.execute(
            select(identity_ci_token_uses.c.workload).where(
                identity_ci_token_uses.c.session_id == session_id
            )
        ).first()
    if row is None:
        return {}
    got = json.loads(row.workload)
    return got if isinstance(got, dict) else {}


def purge(store: Store, *, now: datetime) -> int:
    """Forget tokens that can no longer be accepted (their expiry plus skew has passed).

    Their job sessions ended no later than the token's expiry, so nothing needs the
    record any more; a replay after this point is refused as expired anyway."""
    with store.transaction() as conn:
        return int(
            conn.execute(
                delete(identity_ci_token_uses).where(identity_ci_token_uses.c.expires_at < fmt(now))
            ).rowcount
        )


__all__ = ["MAX_SESSION", "burn", "exchange", "purge", "session_workload", "token_key"]
