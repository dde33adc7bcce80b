"""Red team: evidence about the audit log that is true of a wiped log.

An insider with the store deletes every audit event and checkpoint (triggers
dropped). `audit.log_verified` said PASS ("0 events verify"), and the logging
question was answered "Yes", measured. Deleting only the checkpoints, with no event
in the window, also passed although "signed checkpoints exist" is what it claims.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from stagewall.evidence import CheckStatus, Window, evaluate
from stagewall.evidence.questionnaire import answer_questionnaire
from stagewall.evidence.questionnaire._answers import Value
from tests.audit.conftest import allow_tampering
from tests.evidence.history import History

LOG = "audit.log_verified"


def _wipe(history: History, *, events: bool) -> None:
    store = history.ctx.store
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints"))
        if events:
            conn.execute(text("DELETE FROM audit_events"))


def test_a_wiped_log_is_not_evidence_of_logging(history: History, tmp_path: Path) -> None:
    assert evaluate(history.inputs()).results[LOG].status is CheckStatus.PASS
    _wipe(history, events=True)
    ev = evaluate(history.inputs())
    r = ev.results[LOG]
    assert r.status is CheckStatus.NOT_VERIFIABLE, r.summary
    assert "empty" in r.summary and r.why
    answers = answer_questionnaire("caiq-v4", ev, tmp_path / "a.csv")
    logging = [a for a in answers if "logged in a protected log" in a.question]
    assert logging and logging[0].answer is not None
    assert logging[0].answer.value is not Value.YES, logging[0].to_json()


def test_a_log_without_checkpoints_fails_even_with_no_event_in_the_window(
    history: History,
) -> None:
    _wipe(history, events=False)
    later = history.window().end + timedelta(days=30)
    window = Window(later, later + timedelta(days=1))
    r = evaluate(history.inputs(window=window)).results[LOG]
    assert r.status is CheckStatus.FAIL, r.summary
    assert "no signed checkpoint" in r.summary


def test_answers_on_an_empty_population_are_not_labelled_measured(history: History) -> None:
    """A window in which no production grant and no production deployment happened:
    the checks pass with "0 of 0", and the MFA and separation-of-duties answers were
    labelled "measured" though nothing was observed; they rest on the configuration."""
    from stagewall.evidence.questionnaire import answer

    full = evaluate(history.inputs())
    assert answer("mfa", full).confidence.value == "measured"  # the history has events
    later = history.window().end + timedelta(days=30)
    ev = evaluate(history.inputs(window=Window(later, later + timedelta(days=1))))
    assert ev.results["access.production_approvals"].figures["production_grants"] == 0
    for topic in ("mfa", "deployment_separation_of_duties"):
        a = answer(topic, ev)
        assert a.confidence.value == "document", (topic, a.to_json())
        assert "nothing was observed in operation" in a.text, a.text
