"""What the sweeper's leader does besides sweeping: scheduled tasks of one store.

Each tick the leader (one per store, see :mod:`stagewall.server.sweeper`):

* notifies the approvers of requests and promotions that became pending
  (:mod:`stagewall.server.notify`);
* starts the masking jobs whose schedule slot is due (:mod:`stagewall.server.jobs`);
* evaluates every evidence check at ``server.evidence_schedule`` (daily by default)
  and records the results as audit events, alerting on each check that drifted
  from PASS to FAIL (:func:`stagewall.evidence.record.record_evaluation`).

Every task claims its slot in the store first (:mod:`stagewall.server.slots`), so it
runs once per slot whichever server leads, and runs in a worker thread so the
sweep (expiry within 5 s) is never delayed by it. One failing task never stops the
others or the sweep.
"""

from __future__ import annotations

import logging
from typing import Any

from stagewall.access._core import fmt_time
from stagewall.alerts import Alert, Severity
from stagewall.errors import StagewallError
from stagewall.estate._schedule import parse_schedule
from stagewall.server import jobs, notify
from stagewall.server._state import ServerState
from stagewall.server.slots import claim, last_claimed, set_outcome
from stagewall.server.sweeper import health

_log = logging.getLogger("stagewall.server.scheduler")
EVIDENCE_TASK = "evidence.checks"
EVIDENCE_ACTOR = "schedule:evidence"


def leader_duties(state: ServerState) -> None:
    for name, duty in (
        ("notifications", notify.notify_pending),
        ("dead masking job runs", jobs.reap_dead),
        ("masking jobs", jobs.run_scheduled),
        ("evidence checks", evidence_due),
    ):
        try:
            duty(state)
        except StagewallError as exc:
            _log.error("scheduled %s: %s", name, exc.message)
        except Exception:  # one broken duty must not stop the others or the sweep
            _log.exception("scheduled %s failed", name)


def evidence_due(state: ServerState) -> str | None:
    """Queue the evidence evaluation when its slot is due and unclaimed; the slot."""
    text = state.settings.evidence_schedule
    if not text:
        return None
    slot = parse_schedule(text).due(state.now())
    if slot is None or not claim(state, EVIDENCE_TASK, fmt_time(slot)):
        return None
    state.workers.submit("evidence", run_evidence, state, fmt_time(slot))
    return fmt_time(slot)


def run_evidence(state: ServerState, slot: str) -> None:
    """Evaluate every check now, record the evaluation (and drifts), alert on drift."""
    from stagewall.audit import AuditLog
    from stagewall.evidence.record import record_evaluation

    try:
        log = AuditLog(state.ctx.store, home=state.home)
        # the server's own inputs (its log key, witnesses, pins), as the API serves them
        evaluation = state.evaluation(fresh=True)
        drifts = record_evaluation(log, evaluation, actor=EVIDENCE_ACTOR)
    except Exception as exc:
        text = (
            f"[{exc.code}] {exc.message}"
            if isinstance(exc, StagewallError)
            else (f"internal error ({type(exc).__name__}); see the server log")
        )
        if not isinstance(exc, StagewallError):
            _log.exception("scheduled evidence evaluation failed")
        set_outcome(state, EVIDENCE_TASK, slot, f"error: {text}")
        state.ctx.alert(
            Alert(
                kind="evidence.checks.failed",
                title="the scheduled evidence evaluation failed",
                text=text,
                severity=Severity.WARNING,
                details={"slot": slot},
            )
        )
        return
    counts = evaluation.counts()
    set_outcome(
        state,
        EVIDENCE_TASK,
        slot,
        "ok: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f"; {len(drifts)} drifted",
    )
    for d in drifts:
        state.ctx.alert(
            Alert(
                kind="evidence.check.drifted",
                title=f"evidence check {d.check} went from {d.before} to {d.after}",
                text=d.summary,
                severity=Severity.WARNING,
                details={"check": d.check, "before": d.before, "after": d.after},
            )
        )


def evidence_health(state: ServerState, *, detail: bool = False) -> dict[str, Any]:
    """The last scheduled evaluation (public form: time and ok/error/running only)."""
    text = state.settings.evidence_schedule
    last = last_claimed(state, EVIDENCE_TASK)
    outcome = (last or {}).get("outcome")
    status = (
        "never"
        if last is None
        else "running"
        if outcome is None
        else "ok"
        if outcome.startswith("ok")
        else "error"
    )
    out: dict[str, Any] = {
        "schedule": text,
        "status": status,
        "last_run": last["claimed_at"] if last else None,
        "next_run": fmt_time(parse_schedule(text).next_slot(state.now())) if text else None,
    }
    if detail:
        out["outcome"] = outcome
    return out


def tasks(state: ServerState) -> dict[str, Any]:
    """Every scheduled task of this store: the sweeper (with its last error), evidence,
    masking jobs, notifications."""
    return {
        "sweeper": health(state, detail=True),
        "evidence_checks": evidence_health(state, detail=True),
        "masking_jobs": [
            {
                "name": j["name"],
                "schedule": j["schedule"],
                "next_run": j["next_run"],
                "last_run": j["last_run"],
            }
            for j in jobs.list_jobs(state)
            if j["schedule"]
        ],
        "notifications": {"last": last_claimed(state, notify.TASK)},
    }


__all__ = ["evidence_due", "evidence_health", "leader_duties", "run_evidence", "tasks"]
