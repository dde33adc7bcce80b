"""Claimed slots: a scheduled task runs once per slot per store, whichever server is leader.

``claim`` inserts ``(task, slot)`` under a store lock; only the first claimant gets
True. Leadership already makes one server the scheduler; the claim also covers a
leader replaced in the middle of a tick and two stores' clocks disagreeing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from stagewall.access._core import fmt_time
from stagewall.server._state import ServerState
from stagewall.server._tables import slots


def claim(state: ServerState, task: str, slot: str) -> bool:
    return bool(claim_many(state, task, [slot]))


def claim_many(state: ServerState, task: str, wanted: Sequence[str]) -> list[str]:
    """:func:`claim` of several slots of ``task`` in one transaction (one lock, one read,
    one insert): the slots this call claimed, in the order given."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return []
    store = state.ctx.store
    with store.transaction() as conn:
        store.lock(conn, "stagewall.server.slots")
        taken = set(
            conn.execute(
                sa.select(slots.c.slot).where(slots.c.task == task, slots.c.slot.in_(wanted))
            ).scalars()
        )
        new = [s for s in wanted if s not in taken]
        if new:
            when = fmt_time(state.now())
            conn.execute(
                slots.insert(), [{"task": task, "slot": s, "claimed_at": when} for s in new]
            )
    return new


def set_outcome(state: ServerState, task: str, slot: str, outcome: str) -> None:
    with state.ctx.store.transaction() as conn:
        conn.execute(
            slots.update()
            .where(slots.c.task == task, slots.c.slot == slot)
            .values(outcome=outcome[:256])
        )


def last_claimed(state: ServerState, task: str) -> dict[str, str | None] | None:
    """The newest slot of ``task``: when it was claimed and how it ended."""
    with state.ctx.store.read() as conn:
        row = conn.execute(
            sa.select(slots.c.slot, slots.c.claimed_at, slots.c.outcome)
            .where(slots.c.task == task)
            .order_by(slots.c.slot.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return {"slot": row.slot, "claimed_at": row.claimed_at, "outcome": row.outcome}


__all__ = ["claim", "claim_many", "last_claimed", "set_outcome"]
