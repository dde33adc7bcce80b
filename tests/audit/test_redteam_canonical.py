"""Red team: canonical JSON at its edges.

An integer too large for the serialiser made the append raise a bare ValueError
(a traceback in the CLI, a 500 on the server) instead of a clear refusal; numbers
beyond 64 bits are also where JSON readers start to disagree (RFC 7493 section 2.2).
"""

from __future__ import annotations

import pytest

from stagewall.audit import AuditLog
from stagewall.audit._canonical import canonical_bytes, check_json_safe
from stagewall.errors import ConfigError
from stagewall.store import Store
from tests.audit.conftest import make_event


@pytest.mark.parametrize(
    "n",
    [10**5000, -(10**5000), 2**64 + 1, -(2**64) - 1],
    ids=["10^5000", "-10^5000", "2^64+1", "-2^64-1"],  # str() of 10^5000 raises
)
def test_an_integer_beyond_64_bits_is_refused_clearly(sqlite_store: Store, n: int) -> None:
    log = AuditLog(sqlite_store)
    with pytest.raises(ConfigError, match=r"details\.big is an integer beyond 64 bits"):
        log.append(make_event(1, big=n))
    assert log.size() == 0


@pytest.mark.parametrize("n", [0, -1, 2**53 + 1, 2**63 - 1, 2**64, -(2**64)])
def test_integers_within_64_bits_are_kept_exactly(n: int) -> None:
    assert canonical_bytes(check_json_safe({"n": n})) == b'{"n":%d}' % n
