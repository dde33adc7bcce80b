"""Asking the log whether an event was recorded, inside another table's query.

A row elsewhere (a token row) can be checked against the log in the query that reads
it: :func:`first_recorded` is a correlated scalar subquery, by the indexed ``resource``
column, that gives the index of the first event of ``code`` about ``resource`` (NULL
when there is none). The unhashed ``code`` and ``resource`` columns narrow the search;
``stagewall audit verify`` checks they match the hashed event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, literal, select

from stagewall.audit._tables import audit_events


def first_recorded(code: str, resource: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The index of the first event of ``code`` whose resource is ``resource``, or NULL.

    Found by the ``resource`` index alone: the code is compared as an expression
    (``code || ''``), so no planner walks the ``code`` index, whose matches grow with
    the log (PostgreSQL chose a bitmap AND of both indexes without it)."""
    return (
        select(func.min(audit_events.c.idx))
        .where(
            audit_events.c.resource == resource,
            audit_events.c.code + literal("") == code,
        )
        .scalar_subquery()
    )


__all__ = ["first_recorded"]
