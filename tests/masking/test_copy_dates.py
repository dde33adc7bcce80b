"""date_shift on COPY fields (no str per value) gives the bytes the str path gives.

An engine-level differential next to ``test_copy.py``: dates, naive and zoned
timestamps with NULLs, infinities and fractions of every length, in one table
copied by the prefix path and one whose free text makes it take the row path,
with and without ``DateShift.transform_copy_fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from stagewall.masking import _copy
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import Plan
from tests.masking.integration.helpers import KEY
from tests.masking.test_copy import plan_for

pytestmark = pytest.mark.postgres

SOURCE = [
    """CREATE TABLE events (id int PRIMARY KEY, day date, at timestamp, seen timestamptz,
       kind text)""",
    """INSERT INTO events
       SELECT g,
              CASE WHEN g % 7 = 0 THEN NULL WHEN g % 53 = 0 THEN 'infinity'::date
                   ELSE date '1999-12-25' + g END,
              CASE WHEN g % 5 = 0 THEN NULL
                   ELSE timestamp '2024-02-28 23:59:00' + g * interval '1.001 s' END,
              CASE WHEN g % 11 = 0 THEN NULL WHEN g % 97 = 0 THEN '-infinity'::timestamptz
                   ELSE timestamptz '2000-02-29 12:00:00+00' + g * interval '37.5 min'
                        + (g % 13) * interval '0.000013 s' END,
              (ARRAY['a', 'b'])[1 + g % 2]
       FROM generate_series(1, 3000) g""",
    """CREATE TABLE notes (id int PRIMARY KEY, seen timestamptz, body text)""",
    """INSERT INTO notes
       SELECT g, CASE WHEN g % 3 = 0 THEN NULL
                      ELSE timestamptz '2021-06-01 00:00:00+00' + g * interval '1 min' END,
              'Note ' || g
       FROM generate_series(1, 1500) g""",
]
PLAN = {
    "events": {
        "day": ("date_shift", {}),
        "at": ("date_shift", {"max_days": 400}),
        "seen": ("date_shift", {"per": "salt"}),
    },
    "notes": {"seen": ("date_shift", {}), "body": ("text_scrub", {})},
}


def _plan(url: str) -> Plan:
    return plan_for(url, PLAN)


def _dump(url: str) -> dict[str, bytes]:
    out = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table in ("events", "notes"):
            with cur.copy(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT".encode()) as cp:
                out[table] = b"".join(bytes(chunk) for chunk in cp)
    return out


def test_dates_shifted_on_copy_fields_are_the_str_path_bytes(
    pg_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = pg_url_factory()
    with psycopg.connect(source, autocommit=True) as conn:
        for stmt in SOURCE:
            conn.execute(stmt.encode())
    plan = _plan(source)

    def copy(**options: Any) -> dict[str, bytes]:
        target = pg_url_factory()
        run(plan, source, target, KEY, RunOptions(**options))
        return _dump(target)

    with monkeypatch.context() as m:
        m.setattr(_copy, "DIRECT", False)
        reference = copy(jobs=1, batch_rows=89)
    src = _dump(source)
    assert reference["events"] != src["events"]
    assert b"\\N" in reference["events"] and b"infinity" in reference["events"]
    assert copy(jobs=1, batch_rows=89) == reference
    assert copy(jobs=1, batch_rows=10_000) == reference
    assert copy(jobs=2, split_min_pages=1, batch_rows=61) == reference
