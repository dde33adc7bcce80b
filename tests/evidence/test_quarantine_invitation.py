"""The 24 h block after a first factor enrolled through an invitation, from the log.

The server refuses approvals to a principal for 24 h after its invitation was opened
(unless the host's operator made the link), exactly as after a factor reset
(``identity.accounts.quarantine_until``); the evidence check restates that from the
audit log's own events and names every act that broke it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.evidence import CheckResult, CheckStatus, evaluate
from stagewall.evidence.questionnaire._answers import Value, answer
from stagewall.identity import accounts
from stagewall.server import plans  # registers masking.plan.reviewed
from tests.evidence.history import History

QUARANTINE = "access.mfa_reset_quarantine"
assert plans.PLAN_REVIEWED.code == "masking.plan.reviewed"


def _logged(
    history: History, code: str, actor: str, resource: str, details: dict[str, Any] | None = None
) -> int:
    return AuditLog(history.ctx.store).append(
        AuditEvent(
            code,
            Status.SUCCESS,
            actor,
            f"{actor}: {code}",
            resource=resource,
            details=details or {},
        )
    )


def _check(history: History) -> CheckResult:
    return evaluate(history.inputs()).results[QUARANTINE]


def _accepted(history: History, principal: str, invited_by: str | None) -> int:
    details = {"invitation": "i1"} | ({"invited_by": invited_by} if invited_by else {})
    return _logged(
        history, "identity.invitation.accepted", principal, f"principal:{principal}", details
    )


@pytest.mark.parametrize(
    ("code", "resource"),
    [
        ("access.review.recorded", "request:r1"),
        ("gate.promotion.approved", "promotion:p1"),
        ("access.breakglass.used", "grant:g1"),
        ("access.followup.completed", "grant:g1"),
        ("gate.followup.reviewed", "promotion:p1"),
        ("masking.plan.reviewed", "request:r2"),
        ("identity.invitation.created", "principal:erin"),
        ("mfa.reset", "principal:carol"),
    ],
)
def test_an_act_within_24_h_of_the_actors_invitation_fails(
    history: History, code: str, resource: str
) -> None:
    assert _check(history).status is CheckStatus.PASS
    start = _accepted(history, "bob", "alice")
    assert _check(history).status is CheckStatus.PASS  # the acceptance alone is fine
    _logged(history, code, "alice", resource)  # the inviter is not quarantined
    assert _check(history).status is CheckStatus.PASS
    act = _logged(history, code, "bob", resource)
    ev = evaluate(history.inputs())
    r = ev.results[QUARANTINE]
    assert r.status is CheckStatus.FAIL, r.summary
    assert "bob" in r.summary and "invitation" in r.summary
    assert any("its invitation" in str(i["problem"]) for i in r.items)
    assert any(e.first <= start <= e.last for e in r.events)
    assert any(e.first <= act <= e.last for e in r.events)
    assert r.figures["invitations"] == 1
    assert answer("mfa", ev).value is not Value.YES


def test_the_real_acceptance_event_starts_the_quarantine(history: History) -> None:
    """The event accept_invitation writes, not a hand-made one."""
    store, estate = history.ctx.store, history.ctx.estate
    now = datetime.now(UTC)
    inv = accounts.create_invitation(store, estate, "erin", created_by="alice", now=now)
    accounts.accept_invitation(store, estate, inv.token, "a long enough password", now=now)
    assert accounts.factor_reset_problem(store, "erin", now) is not None  # the server's block
    _logged(history, "access.review.recorded", "erin", "request:r9")
    r = _check(history)
    assert r.status is CheckStatus.FAIL, r.summary
    assert "erin" in r.summary


def test_an_invitation_by_the_host_operator_starts_no_quarantine(history: History) -> None:
    """The server exempts `stagewall server invite` links; the check reports them apart."""
    _accepted(history, "bob", "server-operator")
    _logged(history, "access.review.recorded", "bob", "request:r1")
    r = _check(history)
    assert r.status is CheckStatus.PASS, r.summary
    assert r.figures["invitations"] == 0
    assert r.figures["invitations_by_host_operator"] == 1
    assert "host operator" in r.summary


def test_an_acceptance_that_does_not_name_its_inviter_quarantines(history: History) -> None:
    _accepted(history, "bob", None)
    _logged(history, "access.review.recorded", "bob", "request:r1")
    assert _check(history).status is CheckStatus.FAIL


def test_a_failed_acceptance_starts_nothing(history: History) -> None:
    AuditLog(history.ctx.store).append(
        AuditEvent(
            "identity.invitation.accepted",
            Status.FAILURE,
            "bob",
            "refused",
            resource="principal:bob",
            details={"invited_by": "alice"},
        )
    )
    _logged(history, "access.review.recorded", "bob", "request:r1")
    assert _check(history).status is CheckStatus.PASS


def test_a_masking_plan_approval_after_a_reset_fails(history: History) -> None:
    """The server refuses plan reviews too (server.plans.review_plan)."""
    _logged(history, "mfa.reset", "alice", "principal:bob")
    _logged(history, "masking.plan.reviewed", "bob", "request:r3")
    assert _check(history).status is CheckStatus.FAIL


def test_a_revoke_in_an_access_review_stays_open_during_the_quarantine(
    history: History,
) -> None:
    """The server lets a quarantined reviewer revoke (it only takes access away): not a
    violation; a keep is."""
    before = _check(history).figures["revokes_allowed"]
    _logged(history, "mfa.reset", "alice", "principal:bob")
    _logged(history, "access.campaign.decided", "bob", "grant:g1", {"decision": "revoke"})
    r = _check(history)
    assert r.status is CheckStatus.PASS, r.summary
    assert r.figures["revokes_allowed"] == before + 1
    _logged(history, "access.campaign.decided", "bob", "grant:g2", {"decision": "keep"})
    assert _check(history).status is CheckStatus.FAIL
