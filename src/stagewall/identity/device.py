"""OAuth 2.0 device authorization grant (RFC 8628) for ``stagewall login``.

The CLI asks for a device code, shows the user code and the verification URL,
and polls. The person opens the URL in a browser, logs in there (password and
second factor, or the IdP) and approves the code; the next poll receives a
personal API token. Device and user codes are stored as HMACs under the server's
token key and their rows sealed (:mod:`stagewall.identity._codeseal`: an approval is
sealed with the principal it is for), expire after 5 minutes,
are redeemed once, and polling faster than the interval is answered ``slow_down``.

Remote phishing (RFC 8628 §5.4): whoever holds a user code can ask anyone to approve
it. So the request records who asked — the address the server saw, the User-Agent and
the host name the CLI declares (its own claim, shown as such) and when — and the
approval page shows them with a warning; the person may deny a code they did not start.
Every text a client chose is stored bounded and with control and format characters
escaped (``\\x1b``), so it cannot forge lines in a page, a terminal or a log.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.engine import Connection

from stagewall.identity._codes import (
    fmt,
    new_id,
    new_secret,
    new_user_code,
    normalise_user_code,
    parse,
)
from stagewall.identity._codeseal import (
    DENIED_MAC,
    DEVICE,
    DEVICE_USER,
    Sealer,
    plain,
    refuse_unkeyed,
)
from stagewall.identity._tables import identity_device_codes
from stagewall.identity.actor import LoginMethod
from stagewall.store import Store

DEVICE_TTL = timedelta(minutes=5)
"""Short: a code sent to someone else goes stale before a phishing mail is read."""
MAX_USER_AGENT = 256
MAX_HOSTNAME = 255
MAX_ADDRESS = 64
INTERVAL_S = 2
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


class PollResult(enum.StrEnum):
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED = "expired_token"
    DENIED = "access_denied"
    APPROVED = "approved"


@dataclass(frozen=True)
class DeviceCode:
    device_code: str = field(repr=False)
    user_code: str
    expires_at: datetime


@dataclass(frozen=True)
class Requester:
    """Who asked for a device code, as the server recorded it when the code was made.

    ``address`` is what the server saw (the peer, or the client a trusted proxy names);
    ``hostname`` is only what the CLI says about itself.
    """

    user_code: str
    address: str | None
    user_agent: str | None
    hostname: str | None
    requested_at: datetime
    expires_at: datetime

    def details(self) -> dict[str, Any]:
        """The audit-event fields naming the requesting terminal."""
        return {
            "user_code": self.user_code,
            "requester_address": self.address,
            "requester_user_agent": self.user_agent,
            "requester_hostname_claimed": self.hostname,
            "requested_at": fmt(self.requested_at),
        }


def printable(text: str | None, limit: int) -> str | None:
    """``text`` with control/format characters escaped, at most ``limit`` characters.

    Escaping (not dropping) keeps what the client sent visible: a User-Agent of
    ``curl\\x1b[2J`` shows that someone tried. Longer text ends with ``…``.
    """
    if not text:
        return None
    out = []
    for ch in text[: limit * 2]:
        if unicodedata.category(ch)[0] in "CZ" and ch != " ":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    clean = "".join(out)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _requester(row: Row[Any], user_code: str) -> Requester:
    return Requester(
        user_code=user_code,
        address=row.client_address,
        user_agent=row.client_user_agent,
        hostname=row.client_hostname,
        requested_at=parse(row.created_at),
        expires_at=parse(row.expires_at),
    )


@dataclass(frozen=True)
class Poll:
    result: PollResult
    principal: str | None = None
    method: LoginMethod | None = None


def start(
    store: Store,
    *,
    now: datetime,
    address: str | None = None,
    user_agent: str | None = None,
    hostname: str | None = None,
) -> DeviceCode:
    """A new device code, recording the requesting terminal (see :class:`Requester`)."""
    code = DeviceCode(new_secret("swd_"), new_user_code(), now + DEVICE_TTL)
    sealer = Sealer(store)
    values = {
        "id": new_id("d"),
        "device_hash": sealer.lookup(DEVICE, code.device_code),
        "user_code": sealer.lookup(DEVICE_USER, code.user_code),
        "created_at": fmt(now),
        "expires_at": fmt(code.expires_at),
    }
    with store.transaction() as conn:
        conn.execute(
            insert(identity_device_codes).values(
                **values,
                row_mac=sealer.seal(DEVICE, (*values.values(), None, None, None)),
                redeemed=False,
                client_address=printable(address, MAX_ADDRESS),
                client_user_agent=printable(user_agent, MAX_USER_AGENT),
                client_hostname=printable(hostname, MAX_HOSTNAME),
            )
        )
    return code


def _fields(row: Any) -> tuple[str | None, ...]:
    """What a device code's seal covers: its digests, times, and the approval (the
    principal and login method a token will be minted for; None while pending)."""
    return (
        row.id,
        row.device_hash,
        row.user_code,
        row.created_at,
        row.expires_at,
        row.principal,
        row.method,
        row.approved_at,
    )


def _pending_row(conn: Connection, sealer: Sealer, norm: str, now: datetime) -> Row[Any] | None:
    """The waiting (sealed, undecided, unexpired) row of the user code ``norm``."""
    by_code = select(identity_device_codes).where(
        identity_device_codes.c.user_code == sealer.lookup(DEVICE_USER, norm)
    )
    row = conn.execute(by_code).first()
    if row is None:
        refuse_unkeyed(
            DEVICE_USER,
            conn.execute(
                select(identity_device_codes).where(identity_device_codes.c.user_code == norm)
            ).first(),
        )
    if (
        row is None
        or row.approved_at is not None
        or row.denied_at is not None
        or parse(row.expires_at) <= now
    ):
        return None
    sealer.check(DEVICE, row, _fields(row))
    return row


def pending(store: Store, user_code: str, *, now: datetime) -> Requester | None:
    """Who asked for ``user_code``, if it waits for a decision; else None."""
    norm = normalise_user_code(user_code)
    if not norm:
        return None
    with store.read() as conn:
        row = _pending_row(conn, Sealer(store), norm, now)
    return None if row is None else _requester(row, norm)


Record = Callable[[Connection, Requester], object]
"""Writes the decision's audit event in the decision's own transaction (fail closed)."""


def _decide(
    store: Store,
    user_code: str,
    now: datetime,
    record: Record | None,
    seal: Callable[[Sealer, Row[Any]], str],
    **values: Any,
) -> Requester | None:
    norm = normalise_user_code(user_code)
    if not norm:
        return None
    sealer = Sealer(store)
    with store.transaction() as conn:
        row = _pending_row(conn, sealer, norm, now)
        if row is None:
            return None
        values["row_mac"] = seal(sealer, row)
        done = conn.execute(
            update(identity_device_codes)
            .where(identity_device_codes.c.id == row.id)
            .where(identity_device_codes.c.approved_at.is_(None))
            .where(identity_device_codes.c.denied_at.is_(None))
            .where(identity_device_codes.c.expires_at > fmt(now))
            .values(**values)
        ).rowcount
        if done != 1:
            return None
        who = _requester(row, norm)
        if record is not None:
            record(conn, who)
    return who


def approve(
    store: Store,
    user_code: str,
    principal: str,
    method: LoginMethod,
    *,
    now: datetime,
    record: Record | None = None,
) -> Requester | None:
    """Approve a waiting code for ``principal``; who had asked for it, or None.

    ``record`` writes the audit event in the same transaction: no event, no approval.
    The row is sealed again over the approval (principal, method, time).
    """
    approval = {"principal": principal, "method": method.value, "approved_at": fmt(now)}

    def seal(sealer: Sealer, row: Row[Any]) -> str:
        fields = (*_fields(row)[:5], principal, method.value, approval["approved_at"])
        return sealer.seal(DEVICE, fields)

    return _decide(store, user_code, now, record, seal, **approval)


def deny(
    store: Store, user_code: str, *, now: datetime, record: Record | None = None
) -> Requester | None:
    """Refuse a waiting code: the terminal's next poll is ``access_denied``."""
    return _decide(store, user_code, now, record, lambda *_: DENIED_MAC, denied_at=fmt(now))


def poll(store: Store, device_code: str, *, now: datetime) -> Poll:
    """The state of ``device_code``'s sign-in; APPROVED (once) with the principal.

    Raises CodeRowForged (SW941) for a row keyed by the plain SHA-256 of the code,
    CodeFromBeforeUpgrade (SW943) for a code codebind_0001 ended and CodeRowAltered
    (SW942) for a row whose approval, expiry or digests no longer match its seal."""
    sealer = Sealer(store)
    by_hash = select(identity_device_codes).where(
        identity_device_codes.c.device_hash == sealer.lookup(DEVICE, device_code)
    )
    with store.transaction() as conn:
        row = conn.execute(by_hash).first()
        if row is None and len(device_code) <= 256:
            refuse_unkeyed(
                DEVICE,
                conn.execute(
                    select(identity_device_codes).where(
                        identity_device_codes.c.device_hash == plain(device_code)
                    )
                ).first(),
            )
        if row is None or row.redeemed or row.denied_at is not None:
            return Poll(PollResult.DENIED)
        if parse(row.expires_at) <= now:
            return Poll(PollResult.EXPIRED)
        sealer.check(DEVICE, row, _fields(row))
        last = row.last_poll
        conn.execute(
            update(identity_device_codes)
            .where(identity_device_codes.c.id == row.id)
            .values(last_poll=fmt(now))
        )
        if row.approved_at is None:
            if last is not None and (now - parse(last)).total_seconds() < INTERVAL_S - 0.5:
                return Poll(PollResult.SLOW_DOWN)
            return Poll(PollResult.PENDING)
        done = conn.execute(
            update(identity_device_codes)
            .where(identity_device_codes.c.id == row.id)
            .where(identity_device_codes.c.redeemed.is_(False))
            .values(redeemed=True)
        ).rowcount
    if done != 1:
        return Poll(PollResult.DENIED)
    return Poll(PollResult.APPROVED, str(row.principal), LoginMethod(row.method))


__all__ = [
    "DEVICE_TTL",
    "GRANT_TYPE",
    "INTERVAL_S",
    "DeviceCode",
    "Poll",
    "PollResult",
    "Requester",
    "approve",
    "deny",
    "pending",
    "poll",
    "printable",
    "start",
]
