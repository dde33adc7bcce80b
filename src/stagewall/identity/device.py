"""OAuth 2.0 device authorization grant (RFC 8628) for ``stagewall login``.

The CLI asks for a device code, shows the user code and the verification URL,
and polls. The person opens the URL in a browser, logs in there (password and
second factor, or the IdP) and approves the code; the next poll receives a
personal API token. Device codes are stored as digests, expire after 5 minutes,
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
    digest,
    fmt,
    new_id,
    new_secret,
    new_user_code,
    normalise_user_code,
    parse,
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


def _requester(row: Row[Any]) -> Requester:
    return Requester(
        user_code=str(row.user_code),
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
    with store.transaction() as conn:
        conn.execute(
            insert(identity_device_codes).values(
                id=new_id("d"),
                device_hash=digest(code.device_code),
                user_code=code.user_code,
                created_at=fmt(now),
                expires_at=fmt(code.expires_at),
                redeemed=False,
                client_address=printable(address, MAX_ADDRESS),
                client_user_agent=printable(user_agent, MAX_USER_AGENT),
                client_hostname=printable(hostname, MAX_HOSTNAME),
            )
        )
    return code


def _pending_row(conn: Connection, norm: str, now: datetime) -> Row[Any] | None:
    row = conn.execute(
        select(identity_device_codes).where(identity_device_codes.c.user_code == norm)
    ).first()
    if (
        row is None
        or row.approved_at is not None
        or row.denied_at is not None
        or parse(row.expires_at) <= now
    ):
        return None
    return row


def pending(store: Store, user_code: str, *, now: datetime) -> Requester | None:
    """Who asked for ``user_code``, if it waits for a decision; else None."""
    norm = normalise_user_code(user_code)
    if not norm:
        return None
    with store.read() as conn:
        row = _pending_row(conn, norm, now)
    return None if row is None else _requester(row)


Record = Callable[[Connection, Requester], object]
"""Writes the decision's audit event in the decision's own transaction (fail closed)."""


def _decide(
    store: Store, user_code: str, now: datetime, record: Record | None, **values: Any
) -> Requester | None:
    norm = normalise_user_code(user_code)
    if not norm:
        return None
    with store.transaction() as conn:
        row = _pending_row(conn, norm, now)
        if row is None:
            return None
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
        who = _requester(row)
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
    """
    return _decide(
        store,
        user_code,
        now,
        record,
        principal=principal,
        method=method.value,
        approved_at=fmt(now),
    )


def deny(
    store: Store, user_code: str, *, now: datetime, record: Record | None = None
) -> Requester | None:
    """Refuse a waiting code: the terminal's next poll is ``access_denied``."""
    return _decide(store, user_code, now, record, denied_at=fmt(now))


def poll(store: Store, device_code: str, *, now: datetime) -> Poll:
    with store.transaction() as conn:
        row = conn.execute(
            select(identity_device_codes).where(
                identity_device_codes.c.device_hash == digest(device_code)
            )
        ).first()
        if row is None or row.redeemed or row.denied_at is not None:
            return Poll(PollResult.DENIED)
        if parse(row.expires_at) <= now:
            return Poll(PollResult.EXPIRED)
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
