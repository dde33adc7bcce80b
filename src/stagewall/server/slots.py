"""Claimed slots: a scheduled task runs once per slot per store, whichever server is leader.

``claim`` inserts ``(task, slot)`` under a store lock; only the first claimant gets
True. Leadership already makes one server the scheduler; the claim also covers a
leader replaced in the middle of a tick and two stores' clocks disagreeing.
"""

from __future__ import annotations

import sqlalchemy as sa

from stagewall.access._core import fmt_time
from stagewall.server._state import ServerState
from stagewall.server._tables import slots


def claim(state: ServerState, task: str, slot: str) -> bool:
    store = state.ctx.store
    with store.transaction() as conn:
        store.lock(conn, "stagewall.server.slots")
        taken = conn.execute(
            sa.select(slots.c.task).where(slots.c.task == task, slots.c.slot == slot)
        ).first()
        if taken is not None:
            return False
        conn.execute(slots.insert().values(task=task, slot=slot, claimed_at=fmt_time(state.now())))
    return True


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


__all__ = ["claim", "last_claimed", "set_outcome"]
