"""Red team (gatelist): the evidence's production-promotion check decides as `gate check`.

`gates.production_promotions` counted a deployment as independently approved from the
store's rows, checking an approval only against its event's binding and MFA: rows
`gate check` refuses (SW945) — an approval moved in time, an approval bound to an
event without the server's seal, a deployment row no gate check wrote — were counted.
"""

from __future__ import annotations

from typing import Any

from stagewall.access._core import fmt_time
from stagewall.audit import AuditLog, Status
from stagewall.evidence import CheckResult, CheckStatus, evaluate
from stagewall.gates import _events as ev
from stagewall.gates._seal import SEAL
from tests.evidence.history import History
from tests.evidence.packs import store_sql

CHECK = "gates.production_promotions"


def _check(history: History) -> CheckResult:
    return evaluate(history.inputs()).results[CHECK]


def _problems(r: CheckResult) -> str:
    return " | ".join(str(i.get("problem")) for i in r.items)


def test_an_approval_moved_in_time_in_the_store_is_not_counted(history: History) -> None:
    """The approval's ``created_at`` (which `gate check` counts its validity from) moved:
    its sealed event pins ``approved_at``, so gate check refuses; the evidence counted it."""
    promo = history.promotions[-1]
    before = _check(history)
    assert before.status is CheckStatus.PASS and before.figures["independently_approved"] == 1
    later = fmt_time(history.clock.now)
    store_sql(
        history,
        ("UPDATE access_reviews SET created_at = ? WHERE request_id = ?", (later, promo)),
    )
    r = _check(history)
    assert r.status is CheckStatus.FAIL, r.summary
    assert r.figures["independently_approved"] == 0
    assert "the approval's time differs from audit event" in _problems(r), r.items


def test_an_approval_bound_to_an_unsealed_event_is_not_counted(
    history: History, tmp_path: Any
) -> None:
    """The approval row re-bound to a successful approval event appended with the
    library by someone without the key (well-formed, in the signed log, no seal)."""
    promo = history.promotions[-1]
    store = history.ctx.store
    insider = AuditLog(store, home=tmp_path / "insider")
    with store.read() as conn:
        row = conn.exec_driver_sql(
            "SELECT reviewer, created_at, mfa_method, mfa_time, audit_index FROM access_reviews "
            "WHERE request_id = ?",
            (promo,),
        ).one()
    real = AuditLog(store).events()[int(row.audit_index)]
    ref = insider.append_refs(
        [
            ev.event(
                ev.APPROVED.code,
                Status.SUCCESS,
                row.reviewer,
                real.message,
                real.resource,
                {k: v for k, v in real.details.items() if k != SEAL},
            )
        ]
    )[0]
    store_sql(
        history,
        (
            "UPDATE access_reviews SET audit_index = ?, audit_leaf = ? WHERE request_id = ?",
            (ref.index, ref.leaf_hash.hex(), promo),
        ),
    )
    r = _check(history)
    assert r.status is CheckStatus.FAIL, r.summary
    assert "not sealed by this server" in _problems(r), r.items


def test_a_deployment_row_copied_in_the_store_is_not_counted(history: History) -> None:
    """A second production deployment row of the approved promotion, written by no gate
    check: it counted as one more independently approved production deployment."""
    store_sql(
        history,
        (
            "INSERT INTO gate_deployments (stage, sha, digest, request_id, deployer, created_at) "
            "SELECT stage, sha, digest, request_id, deployer, created_at FROM gate_deployments "
            "WHERE stage = 'production'",
            (),
        ),
    )
    r = _check(history)
    assert r.status is CheckStatus.FAIL, r.summary
    assert r.figures["independently_approved"] == 1
    assert "names no audit event" in _problems(r), r.items
