"""Break-glass follow-ups: each emergency promotion needs a review within 24 hours.

The review is ``stagewall gate approve PROMOTION`` by another internal person (not
the one who broke glass, not an author of the change), MFA-checked. While one is
overdue, ``stagewall check`` exits 1 (rule SW-GATE-001).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from stagewall.access._core import Outcome, load_request, outcome_of, parse_time
from stagewall.audit import AuditLog
from stagewall.errors import KeyMissing
from stagewall.estate import LoadedEstate, Violation, register_state_check
from stagewall.gates._standing import standing
from stagewall.gates._tables import gate_promotions
from stagewall.paths import configured_store_url
from stagewall.store import Store, open_store

RULE = "SW-GATE-001"


def overdue(store: Store, now: datetime | None = None) -> list[tuple[str, str, str, str]]:
    """(id, stage, invoker, due) of each break-glass promotion unreviewed past its due time
    (a follow-up the audit log does not back is no follow-up)."""
    now = now or datetime.now(UTC)
    log = AuditLog(store)
    out: list[tuple[str, str, str, str]] = []
    with store.read() as conn:
        rows = conn.execute(
            select(gate_promotions)
            .where(gate_promotions.c.break_glass.is_(True))
            .order_by(gate_promotions.c.created_at)
        ).all()
        for r in rows:
            if r.followup_due is None or parse_time(r.followup_due) > now:
                continue
            state, _ref = outcome_of(conn, load_request(conn, r.request_id), now)
            if state is not Outcome.APPROVED or not _backed(log, conn, r.request_id):
                out.append((r.request_id, r.stage, r.submitter, r.followup_due))
    return out


def _backed(log: AuditLog, conn: Connection, promotion: str) -> bool:
    """Whether the recorded follow-up stands on the log as ``gate check`` decides
    (gates/_standing.py): an outcome or review row written into the store, or a review
    bound to an unsealed event, is no follow-up. Without the log's key the seals cannot
    be checked: not backed (fail closed)."""
    try:
        st = standing(log, conn, promotion)
    except KeyMissing:
        return False
    return not st.problems and bool(st.approvers)


def overdue_violations(loaded: LoadedEstate, store_url: str | None) -> list[Violation]:
    url = configured_store_url(store_url)
    if url is None:
        return []
    store = open_store(url)
    try:
        found = overdue(store)
    except SQLAlchemyError:  # pragma: no cover - surfaced as BackendError by the store
        raise
    finally:
        store.dispose()
    return [
        Violation(
            RULE,
            f"break-glass promotion {pid} to {stage} by {who} has had no follow-up review "
            f"since {due} (due within 24 hours); run `stagewall gate approve {pid} --as "
            "REVIEWER --otp CODE`",
            f"promotion:{pid}",
        )
        for pid, stage, who, due in found
    ]


register_state_check("gates.break_glass_followups", overdue_violations)

__all__ = ["RULE", "overdue", "overdue_violations"]
