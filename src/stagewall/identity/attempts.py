"""Failed-attempt limits for logins and step-ups, shared by every server on the store.

A key (``alice:principal``, ``203.0.113.7:address``, ``alice:step-up``, ...) may have
at most :data:`MAX_FAILURES` failed attempts within :data:`FAILURE_WINDOW`; further
attempts are refused (:class:`~stagewall.errors.RateLimited`, 429) until the oldest
of them is older than the window.

The count lives in the store (``identity_rate_limits``, one row per key), so several
``stagewall serve`` instances sharing it share one budget. An attempt *takes a slot*
before its password, code or token is checked: one upsert adds a slot to every key
of the attempt if each has fewer than :data:`MAX_FAILURES` live slots, and returns the
row. Attempts in flight therefore count too, and a burst of concurrent guesses, on
one instance or spread over several, cannot exceed the budget. An attempt that
succeeds (or fails for a reason that is not a guess) gives its slots back; a failed
one keeps them until they expire. A row holds at most :data:`MAX_FAILURES` slots,
each a fixed-width entry: the attempt's time in milliseconds and a random tag.

If the store cannot count, the attempt is refused (:class:`AttemptsUnavailable`, 503):
a limit that cannot be enforced must not become no limit.

Reserving a slot before the check is what makes the budget exact for secrets that can
be guessed (passwords, one-time codes a person types). For credentials nobody can
guess — a CI platform's signed token, an identity provider's authorization code, a
login hand-off code bound to a PKCE verifier — ``attempt(..., reserve=False)`` only
refuses a key that already has its failures and records a failure after the check:
parallel jobs of one pipeline behind one address are not refused because they arrive
together, and a burst can exceed the budget by at most the attempts in flight, none
of which can succeed by guessing.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, TextClause, bindparam, delete, text
from sqlalchemy.exc import SQLAlchemyError

from stagewall.errors import AttemptsUnavailable, RateLimited, StagewallError
from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_rate_limits
from stagewall.store import Store

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=5)
_MS_DIGITS = 15
_TAG_HEX = 8
_ENTRY = _MS_DIGITS + _TAG_HEX
_KEY_MAX = 256
_log = logging.getLogger(__name__)


def _live(column: str) -> str:
    """SQL: the entries of ``column`` newer than ``:cut`` (expired ones dropped)."""
    parts = [
        f"CASE WHEN substr({column}, {i * _ENTRY + 1}, {_ENTRY}) > :cut "
        f"THEN substr({column}, {i * _ENTRY + 1}, {_ENTRY}) ELSE '' END"
        for i in range(MAX_FAILURES)
    ]
    return "(" + " || ".join(parts) + ")"


_T = identity_rate_limits.name
_LIVE = _live(f"{_T}.slots")
# One statement per attempt: every key gets the slot if it has room (PostgreSQL locks
# each key's row, so concurrent attempts on other instances see this one's slot;
# SQLite runs every write transaction alone). Works on PostgreSQL and SQLite >= 3.35.
# Only constants are formatted into the SQL; every value is a bound parameter.
_TAKE = (
    f"INSERT INTO {_T} (key, slots, last_at) VALUES {{values}} "  # noqa: S608
    "ON CONFLICT (key) DO UPDATE SET "
    f"slots = CASE WHEN length({_LIVE}) < {MAX_FAILURES * _ENTRY} "
    f"THEN {_LIVE} || :entry ELSE {_LIVE} END, "
    # the newest time any instance wrote: no slot is newer, so purging by it is safe
    f"last_at = CASE WHEN {_T}.last_at > :at THEN {_T}.last_at ELSE :at END "
    "RETURNING key, slots"
)
_GIVE_BACK = text(
    f"UPDATE {_T} SET slots = replace(slots, :entry, '') WHERE key IN :keys"  # noqa: S608
).bindparams(bindparam("keys", expanding=True))


@functools.lru_cache(maxsize=16)
def _take_sql(keys: int) -> TextClause:
    """The upsert of :func:`take` for ``keys`` keys (parsed once per count, not per attempt)."""
    values = ", ".join(f"(:k{i}, :entry, :at)" for i in range(keys))
    return text(_TAKE.format(values=values))


def _ms(when: datetime) -> str:
    return f"{int(when.timestamp() * 1000):0{_MS_DIGITS}d}"


class Attempt:
    """One attempt's slots; :meth:`failed` keeps them, otherwise they are given back."""

    def __init__(
        self,
        store: Store,
        keys: tuple[str, ...],
        entry: str,
        filled: frozenset[str] = frozenset(),
    ) -> None:
        self._store = store
        self._keys = keys
        self._entry = entry
        self.counted = False
        self.returned = False
        self.filled = filled
        """The keys whose last free slot this attempt took: if it fails, they are spent
        (the one attempt that spends a key can say so once, e.g. in the audit log)."""

    def failed(self) -> None:
        """This attempt was a wrong guess: its slots stay taken until they expire."""
        self.counted = True

    def give_back_in(self, conn: Connection) -> None:
        """Give the slots back inside the transaction of ``conn`` (one that
        :meth:`Store.transaction` opened and that records the attempt's success), instead
        of in a transaction of their own when the attempt ends. Should that transaction
        roll back, the slots are given back when the attempt ends, as without this."""
        conn.execute(_GIVE_BACK, {"entry": self._entry, "keys": list(self._keys)})
        Store.after_commit(conn, self._was_returned)

    def _was_returned(self) -> None:
        self.returned = True

    def end(self) -> None:
        """The attempt is over: its slots are given back unless :meth:`failed` was called
        (what leaving :func:`attempt`'s block does; for callers that take the slots
        with :func:`take` themselves)."""
        if not self.counted and not self.returned:
            self._give_back()

    def _give_back(self) -> None:
        try:
            with self._store.single() as conn:
                conn.execute(_GIVE_BACK, {"entry": self._entry, "keys": list(self._keys)})
        except (SQLAlchemyError, StagewallError) as exc:
            # The act itself succeeded; the slot stays taken until it expires (stricter).
            _log.warning("an attempt slot was not given back: %s", type(exc).__name__)


def _refusal(key: str) -> RateLimited:
    return RateLimited(
        f"too many failed attempts for {key.rsplit(':', 1)[0]}; wait a few minutes "
        f"({MAX_FAILURES} failures within {int(FAILURE_WINDOW.total_seconds() // 60)} "
        "minutes are allowed)"
    )


def take(store: Store, keys: tuple[str, ...], *, now: datetime) -> Attempt:
    """Take a slot for each of ``keys``; RateLimited if any key is out of budget.

    Raises :class:`AttemptsUnavailable` when the store cannot be asked (fail closed).
    """
    unique = tuple(sorted({k[:_KEY_MAX] for k in keys}))  # one lock order everywhere
    if len(unique) > 1:
        # A spent key refuses before anything is written: the upsert would add a row for
        # each other key, so a flood with a new principal name per request from a spent
        # address would still write one row per refused request.
        refuse_if_spent(store, unique, now=now)
    entry = _ms(now) + secrets.token_hex(_TAG_HEX // 2)
    params: dict[str, str] = {
        "entry": entry,
        "cut": _ms(now - FAILURE_WINDOW) + "~" * _TAG_HEX,
        "at": fmt(now),
    }
    for i, key in enumerate(unique):
        params[f"k{i}"] = key
    sql = _take_sql(len(unique))
    try:
        with store.single() as conn:  # one upsert: on PostgreSQL its own transaction
            rows = conn.execute(sql, params).all()
    except (SQLAlchemyError, StagewallError) as exc:
        raise AttemptsUnavailable(
            "the attempt is refused: the store that counts failed logins and step-ups "
            f"could not be asked ({type(exc).__name__})",
        ) from exc
    got = {str(r[0]): str(r[1]) for r in rows}
    full = [k for k in unique if entry not in got.get(k, "")]
    filled = frozenset(k for k in unique if len(got.get(k, "")) >= MAX_FAILURES * _ENTRY)
    attempt = Attempt(store, unique, entry, filled - set(full))
    if full:
        if len(full) < len(unique):
            attempt._give_back()  # the keys that had room keep no slot for a refusal
        raise _refusal(full[0])
    return attempt


_READ = text(
    f"SELECT key, {_LIVE} FROM {_T} WHERE key IN :keys"  # noqa: S608
).bindparams(bindparam("keys", expanding=True))


def refuse_if_spent(store: Store, keys: tuple[str, ...], *, now: datetime) -> None:
    """RateLimited if any of ``keys`` already has its :data:`MAX_FAILURES` failures.

    Raises :class:`AttemptsUnavailable` when the store cannot be asked (fail closed).
    """
    unique = sorted({k[:_KEY_MAX] for k in keys})
    try:
        with store.read() as conn:
            rows = conn.execute(
                _READ, {"keys": unique, "cut": _ms(now - FAILURE_WINDOW) + "~" * _TAG_HEX}
            ).all()
    except (SQLAlchemyError, StagewallError) as exc:
        raise AttemptsUnavailable(
            "the attempt is refused: the store that counts failed logins and step-ups "
            f"could not be asked ({type(exc).__name__})",
        ) from exc
    for key, live in rows:
        if len(str(live or "")) >= MAX_FAILURES * _ENTRY:
            raise _refusal(str(key))


@contextmanager
def attempt(store: Store, *keys: str, now: datetime, reserve: bool = True) -> Iterator[Attempt]:
    """``with attempt(store, key, now=now) as a:`` ... ``a.failed()`` on a wrong guess.

    The slots are given back when the block ends without :meth:`Attempt.failed`
    having been called (success, or an error that is not a guess). With
    ``reserve=False`` (credentials that cannot be guessed; see the module's doc) no
    slot is taken before the check: a key with its failures spent is refused, and a
    failed attempt takes its slots afterwards.
    """
    if not reserve:
        refuse_if_spent(store, keys, now=now)
        late = Attempt(store, tuple(keys), "")
        try:
            yield late
        finally:
            if late.counted:
                try:
                    take(store, keys, now=now)  # the failure counts from now on
                except RateLimited:
                    pass  # the key's budget filled meanwhile: nothing more to count
                except AttemptsUnavailable as exc:
                    # the attempt already failed; its own error is the answer
                    _log.warning("a failed attempt was not counted: %s", type(exc).__name__)
        return
    a = take(store, keys, now=now)
    try:
        yield a
    finally:
        a.end()


def address_key(source: str | None) -> str:
    """The address a per-address budget counts under: an IPv4 address as it is, an IPv6
    address as its /64 network (one site or one customer line is given at least a /64,
    so counting single IPv6 addresses would give one client 2**64 budgets, and one row
    each), an IPv4-mapped IPv6 address as its IPv4 address, ``unknown`` for none."""
    if not source:
        return "unknown"
    try:
        ip = ipaddress.ip_address(source)
    except ValueError:
        return source[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def purge(store: Store, *, now: datetime) -> int:
    """Forget keys whose every slot has expired (the sweeper's leader runs this)."""
    with store.transaction() as conn:
        result = conn.execute(
            delete(identity_rate_limits).where(
                identity_rate_limits.c.last_at < fmt(now - FAILURE_WINDOW)
            )
        )
    return int(result.rowcount or 0)


__all__ = [
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "Attempt",
    "address_key",
    "attempt",
    "purge",
    "refuse_if_spent",
    "take",
]
