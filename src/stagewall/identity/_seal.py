"""The server's token key and what it makes: keyed token digests and row MACs (tokenbind).

``token.key`` (32 random bytes, hex, mode 0600) lives in the state directory beside the
other server keys, never in the store. A bearer token's row is found by
HMAC-SHA256(key, label || token) and carries ``row_mac``, an HMAC over the fields that
never change while the token is live. Someone who can write the store but does not hold
the key can neither make a row that a token of their choosing finds nor edit one
(principal, scope, expiry, revocation) without the MAC failing. Revoking overwrites
``row_mac`` with :data:`REVOKED_MAC`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, String, literal
from sqlalchemy.exc import SQLAlchemyError

from stagewall.audit import AuditEvent, Status, first_recorded
from stagewall.errors import BackendError, TokenRevocationUnreadable, reason_of
from stagewall.identity._events import TOKEN_REVOKED
from stagewall.store import Store

KEY_FILE = "token.key"
REVOKED_MAC = "revoked"  # row_mac of a revoked token: no key makes a 64-hex-digit MAC of it
LEGACY_MAC = "legacy"  # row_mac of a token issued before tokenbind_0001 (ended by it)


@dataclass(frozen=True)
class RefusedRow:
    """A token row refused as written or changed in the store (SW973, SW974, SW868):
    what the server records and alerts (never a secret, digest or MAC of the row).

    ``principal`` is what the row claims, which whoever wrote it chose."""

    table: str
    row_id: str
    principal: str
    code: str
    reason: str


RowReport = Callable[[RefusedRow], None]
"""The server's record-and-alert of a refused row (the library cannot reach the alert
sinks); it must not raise."""


def revocation_event(
    prefix: str, token_id: str, *, by: str, message: str, details: dict[str, str]
) -> AuditEvent:
    """The ``identity.token.revoked`` event of the token row ``token_id`` (resource
    ``prefix`` + id), appended in the transaction that revokes the row: the record that
    keeps it revoked if the row is later put back as it was (:func:`revoked_in_log`)."""
    return AuditEvent(
        TOKEN_REVOKED.code,
        Status.SUCCESS,
        by,
        message,
        resource=f"{prefix}{token_id}",
        details={**details, "row": token_id},
    )


def revoked_in_log(prefix: str, token_id: ColumnElement[str]) -> ScalarSelect[object]:
    """The index of the revocation event of the row whose id is ``token_id`` (NULL while
    the log records none), to select with the row in the one query that reads it."""
    return first_recorded(TOKEN_REVOKED.code, literal(prefix, String) + token_id)


def read_row(
    store: Store, query: Select[Any], wanted: str, plain: str, what: str
) -> tuple[Any, Any]:
    """The row ``query`` finds by the keyed digest ``wanted`` (with its revocation event,
    :func:`revoked_in_log`) and, only when there is none, the row it finds by the plain
    digest ``plain`` (to tell a forged or pre-upgrade row from an unknown token).

    Fail closed: when the row or the log cannot be read, ``what`` (the token) is refused
    (TokenRevocationUnreadable, SW867)."""
    try:
        with store.read() as conn:
            row = conn.execute(query, {"hash": wanted}).first()
            other = conn.execute(query, {"hash": plain}).first() if row is None else None
    except (SQLAlchemyError, BackendError) as exc:
        why = exc.message if isinstance(exc, BackendError) else reason_of(exc)
        raise TokenRevocationUnreadable(
            f"{what} could not be checked against the revocation record in the audit log "
            f"({why}); it is refused until it can"
        ) from None
    return row, other


def token_key(store: Store) -> bytes:
    """The server's token key (``token.key`` in the state directory of ``store``), made
    on first use; cached on the store handle."""
    key = store.token_key
    if key is None:
        from stagewall.mfa._crypto import read_or_create_key_file
        from stagewall.paths import ensure_home

        key = read_or_create_key_file(Path(ensure_home(store.key_home)) / KEY_FILE)
        store.token_key = key
    return key


def keyed_digest(key: bytes, label: str, secret: str) -> str:
    """The stored lookup digest of the bearer secret ``secret`` (64 hex digits)."""
    return hmac.digest(key, f"stagewall {label}\0{secret}".encode(), "sha256").hex()


def row_mac(key: bytes, label: str, fields: Iterable[str]) -> str:
    """The MAC of a token row over ``fields`` (its live, immutable values)."""
    text = "\0".join((f"stagewall {label} row", *fields))
    return hmac.digest(key, text.encode(), "sha256").hex()


__all__ = [
    "KEY_FILE",
    "LEGACY_MAC",
    "REVOKED_MAC",
    "RefusedRow",
    "RowReport",
    "keyed_digest",
    "read_row",
    "revocation_event",
    "revoked_in_log",
    "row_mac",
    "token_key",
]
