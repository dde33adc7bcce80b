"""A per-address budget for what anyone may start without a login.

``POST /api/v1/device/code`` and ``GET /api/v1/oidc/login`` need no credentials and
each writes a row to the store (the pending code, the login's state and verifier).
Without a limit one client could fill the store with them and, on SQLite, hold its
single writer against approvals. Each source address (as :func:`source_address`
resolves it, trusted proxies included) gets a token bucket of :data:`BURST` starts
refilled at :data:`PER_MINUTE` a minute, in this process (several instances each keep
their own). A person starts a login or two; a script looping on them is refused
with 429 and ``Retry-After`` before anything is written.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from stagewall.errors import LoginStartsLimited
from stagewall.identity.attempts import address_key

BURST = 20
PER_MINUTE = 20.0
MAX_ADDRESSES = 50_000  # least recently seen addresses are forgotten beyond this


class Bucket:
    """A token bucket; may go negative when one request costs more than what is left."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.level, self.at = burst, now

    def refill(self, now: float) -> None:
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now

    def wait(self) -> float:
        return 0.0 if self.level >= 1 else (1 - self.level) / self.rate


class StartLimiter:
    """Per-address buckets of unauthenticated starts (thread-safe)."""

    def __init__(
        self,
        *,
        burst: int = BURST,
        per_minute: float = PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.rate, self.clock = burst, per_minute / 60.0, clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, address: str | None, what: str) -> None:
        """Take one start for ``address``, or LoginStartsLimited (429, Retry-After)."""
        key = address_key(address)  # an IPv6 client counts per /64, as at password login
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = Bucket(self.rate, self.burst, now)
                while len(self._buckets) > MAX_ADDRESSES:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
            bucket.refill(now)
            wait = bucket.wait()
            if wait > 0:
                raise LoginStartsLimited(
                    f"too many {what} started from {key} ({self.burst} at once, then "
                    f"{self.rate * 60:g} a minute); retry in {math.ceil(wait)} s",
                    retry_after=max(1, math.ceil(wait)),
                )
            bucket.level -= 1
