"""Rows written straight into the store, as someone with database access (not the server)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from stagewall.access._tables import access_reviews
from stagewall.store import Store


def insert_approval(store: Store, request_id: str, reviewer: str, **extra: Any) -> None:
    """An "approval" of ``request_id`` by ``reviewer`` that no audit event recorded."""
    values: dict[str, Any] = {
        "request_id": request_id,
        "reviewer": reviewer,
        "decision": "approve",
        "reason": "",
        "mfa_method": "totp",
        "mfa_time": "2030-01-01T00:00:00Z",
        "created_at": "2030-01-01T00:00:00Z",
    }
    values.update(extra)
    with store.transaction() as conn:
        conn.execute(insert(access_reviews).values(**values))
