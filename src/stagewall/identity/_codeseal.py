"""One-time codes keyed and sealed with the server's token key (codebind).

Invitation links, device codes and their user codes (RFC 8628), the CLI's browser
hand-offs (``login --browser`` codes, ``mfa step-up --browser`` requests) and started
OIDC logins (state and binding) are found in the store by an HMAC-SHA256 of the code
under the server's token key (``token.key``, see :mod:`stagewall.identity._seal`),
each kind under its own label, so a digest of one kind never finds a row of another.
Each row carries ``row_mac``, an HMAC under the same key over the fields that confer
a right (who an invitation is for and who made it, the principal a device code or a
hand-off was approved for, the session a step-up is for, every expiry). Someone who
can write the store but does not hold the key can neither insert a row a code of
their choosing finds (a plain SHA-256 row is refused, SW941) nor edit one (SW942).
Rows from before the upgrade are marked :data:`LEGACY_MAC` and refused with what to
do instead (SW943).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stagewall.errors import CodeFromBeforeUpgrade, CodeRowAltered, CodeRowForged
from stagewall.identity._codes import digest, same
from stagewall.identity._seal import LEGACY_MAC, keyed_digest, row_mac, token_key
from stagewall.store import Store

DENIED_MAC = "denied"  # row_mac of a denied device code: no key makes this MAC

_log = logging.getLogger("stagewall.identity")


@dataclass(frozen=True)
class CodeKind:
    """One kind of one-time code: its HMAC label, what people call it, what to do."""

    label: str
    what: str
    again: str


INVITATION = CodeKind("invitation", "invitation link", "ask an admin for a new invitation")
DEVICE = CodeKind("device code", "login code of `stagewall login`", "run `stagewall login` again")
DEVICE_USER = CodeKind("device user code", DEVICE.what, DEVICE.again)
CLI_LOGIN = CodeKind(
    "cli login code",
    "sign-in code of `stagewall login --browser`",
    "run `stagewall login --browser` again",
)
CLI_STEP_UP = CodeKind(
    "cli step-up request",
    "step-up request of `stagewall mfa step-up --browser`",
    "run `stagewall mfa step-up --browser` again",
)
OIDC_STATE = CodeKind(
    "oidc login state", "identity-provider sign-in", "start the sign-in again in this browser"
)
OIDC_BINDING = CodeKind("oidc login binding", OIDC_STATE.what, OIDC_STATE.again)


class Sealer:
    """Keyed digests and row MACs of one store's codes (the key read once)."""

    def __init__(self, store: Store) -> None:
        self._key = token_key(store)

    def lookup(self, kind: CodeKind, code: str) -> str:
        """The stored digest of ``code`` (64 hex digits)."""
        return keyed_digest(self._key, kind.label, code)

    def seal(self, kind: CodeKind, fields: Iterable[str | None]) -> str:
        """The row MAC over ``fields`` (None as the empty string)."""
        return row_mac(self._key, kind.label, (f or "" for f in fields))

    def verifies(self, kind: CodeKind, row: Any, fields: Iterable[str | None]) -> bool:
        """Whether ``row.row_mac`` seals ``fields``."""
        return same(str(row.row_mac), self.seal(kind, fields))

    def check(self, kind: CodeKind, row: Any, fields: Iterable[str | None]) -> None:
        """Return if ``row.row_mac`` seals ``fields``; else CodeRowAltered (SW942)."""
        if self.verifies(kind, row, fields):
            return
        _log.warning("%s row %s does not verify with the token key", kind.label, row.id)
        raise CodeRowAltered(
            f"the store row of this {kind.what} ({row.id}) was changed after the server "
            "made it (who it is for, its approval or its expiry no longer match its seal); "
            f"it is refused: {kind.again}",
            hint=f"investigate who changed the store's identity tables; {kind.again}",
        )


def plain(code: str) -> str:
    """The unkeyed SHA-256 digest rows held before codebind_0001 (and forgers write)."""
    return digest(code)


def refuse_unkeyed(kind: CodeKind, row: Any | None) -> None:
    """Raise for a row found by the plain digest of a code: SW943 if the upgrade marked
    it, else SW941 (written in the store). Return if there is none."""
    if row is None:
        return
    if row.row_mac == LEGACY_MAC:
        raise CodeFromBeforeUpgrade(
            f"this {kind.what} was made before the server keyed and sealed one-time codes "
            f"(upgrade codebind_0001) and was ended by the upgrade: {kind.again}",
            hint=kind.again,
        )
    _log.warning("%s row %s is not keyed with the token key", kind.label, row.id)
    raise CodeRowForged(
        f"the store row of this {kind.what} ({row.id}) was not made by this server: its "
        "digest is not keyed with the server's token key; it is refused",
        hint=f"investigate who wrote the store's identity tables; {kind.again}",
    )


__all__ = [
    "CLI_LOGIN",
    "CLI_STEP_UP",
    "DENIED_MAC",
    "DEVICE",
    "DEVICE_USER",
    "INVITATION",
    "LEGACY_MAC",
    "OIDC_BINDING",
    "OIDC_STATE",
    "CodeKind",
    "Sealer",
    "plain",
    "refuse_unkeyed",
]
