"""Single-use rows (challenges, started logins): found by digest and burned atomically."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update

from stagewall.identity._codes import fmt
from stagewall.identity._codeseal import CodeKind, Sealer, plain, refuse_unkeyed
from stagewall.store import Store


def take_once(store: Store, table: Table, column: str, value: str, now: datetime) -> Any | None:
    """The row whose ``column`` is ``value``, marked used at ``now``; None if absent or used.

    ``UPDATE … WHERE used_at IS NULL`` succeeds for exactly one of any number of
    concurrent takers, so a row is never used twice.
    """
    with store.transaction() as conn:
        row = conn.execute(select(table).where(table.c[column] == value)).first()
        if row is None:
            return None
        burned = conn.execute(
            update(table)
            .where(table.c.id == row.id)
            .where(table.c.used_at.is_(None))
            .values(used_at=fmt(now))
        ).rowcount
    return row if burned == 1 else None


def take_keyed(
    store: Store,
    sealer: Sealer,
    table: Table,
    column: str,
    kind: CodeKind,
    code: str,
    now: datetime,
) -> Any | None:
    """:func:`take_once` of the row ``code`` finds by its keyed digest (``kind``).

    None if absent or used; CodeRowForged (SW941) or CodeFromBeforeUpgrade (SW943) when
    only the plain SHA-256 of ``code`` finds a row (written in the store, or from before
    codebind_0001). The caller checks the row's seal."""
    row = take_once(store, table, column, sealer.lookup(kind, code), now)
    if row is None:  # only a refused request pays for this second look
        with store.read() as conn:
            found = conn.execute(select(table).where(table.c[column] == plain(code))).first()
        refuse_unkeyed(kind, found)
    return row
