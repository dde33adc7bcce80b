"""Witness rounds: every minute (the sweeper's leader) and right after every privileged act.

A round signs a checkpoint of the whole log and hands it to every witness of
``audit.witnesses``: C2SP tlog-witnesses (HTTP), git repositories (a commit) and
auditors' mailboxes (at most one mail per ``every``, claimed in ``server_slots`` so
one server sends it). Rounds run in the ``witness`` worker thread, one at a time.

After the commit of an event written under a verified step-up (approve/deny,
credentials, break-glass, revoke, gate approval, MFA reset, offboarding, ...), the
audit log calls :meth:`WitnessRounds.request`; requests coalesce: while a round runs,
any number of further requests yield one more round, which covers them all. The act
never waits for a round and never fails because of one. A witness that starts failing
raises a WARNING alert; one that reports the log truncated or rewritten, and a signer
that refuses because the store no longer holds what it signed (audit.signer.refused),
a CRITICAL one, every round until it is resolved.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from stagewall.access._core import fmt_time
from stagewall.alerts import Alert, AlertDispatcher, Severity, sinks_from_config
from stagewall.audit import AuditLog, Cosignature, WitnessPolicy, witness_checkpoints
from stagewall.audit._checkpoint import CheckpointInvalid
from stagewall.audit._log import on_privileged_append
from stagewall.audit._witness_mail import mail_text
from stagewall.errors import StagewallError, WitnessConflict
from stagewall.estate.models import EmailWitnessSettings
from stagewall.server._state import ServerState
from stagewall.server.slots import claim

_log = logging.getLogger("stagewall.server.witnessing")
MAIL_TASK = "witness.email"


def mail_checkpoint(state: ServerState, log: AuditLog, witness: EmailWitnessSettings) -> bool:
    """Mail the newest signed checkpoint to ``witness`` unless this period's mail went.

    Returns whether a mail was sent; raises :class:`StagewallError` when it failed.
    """
    every = witness.every.total_seconds()
    start = int(state.now().timestamp() // every * every)
    slot = fmt_time(datetime.fromtimestamp(start, UTC))
    if not claim(state, f"{MAIL_TASK}:{witness.name}", slot):
        return False
    cp = log.checkpoint(key=log.signing_key())
    origin = cp.note.split("\n", 1)[0]
    alert = Alert(
        kind="audit.checkpoint",
        title=f"audit log checkpoint: {origin} at {cp.size} events",
        text=mail_text(cp.note, origin=origin, size=cp.size),
        severity=Severity.INFO,
        details={"origin": origin, "size": cp.size, "root_hash": cp.root.hex()},
    )
    sinks = sinks_from_config([witness.smtp], Path(state.ctx.loaded.path).parent)
    failures = AlertDispatcher(sinks).send(alert)
    if failures:
        raise StagewallError(
            f"e-mail witness {witness.name}: " + "; ".join(f.error for f in failures)
        )
    return True


def run_round(state: ServerState) -> list[Cosignature]:
    """One witness round; never raises (failures are logged and alerted)."""
    settings = state.estate.audit
    policy = WitnessPolicy.from_settings(settings, Path(state.ctx.loaded.path).parent)
    mails = [w for w in settings.witnesses if isinstance(w, EmailWitnessSettings)]
    if policy is None and not mails:
        return []
    log = AuditLog(state.ctx.store, home=state.home)
    failures: list[str] = []
    cosigs: list[Cosignature] = []
    try:
        if policy is not None:
            cosigs = witness_checkpoints(log, policy.witnesses, git=policy.git, failures=failures)
    except WitnessConflict as exc:
        state.ctx.alert(
            Alert(
                kind="audit.witness.conflict",
                title="a witness refused the audit log: truncated or rewritten?",
                text=exc.message,
                severity=Severity.CRITICAL,
                details={},
            )
        )
    except CheckpointInvalid as exc:  # the store no longer holds what was signed
        state.ctx.alert(
            Alert(
                kind="audit.signer.refused",
                title="the audit log's signer refused to sign: the store was altered?",
                text=exc.message,
                severity=Severity.CRITICAL,
                details={},
            )
        )
    except StagewallError as exc:
        failures.append(exc.message)
    except Exception as exc:  # a round must never take the worker down
        _log.exception("witness round failed")
        failures.append(f"internal error ({type(exc).__name__}); see the server log")
    for witness in mails:
        try:
            mail_checkpoint(state, log, witness)
        except StagewallError as exc:
            failures.append(exc.message)
    rounds_of(state).report(failures)
    return cosigs


class WitnessRounds:
    """Coalesced witness rounds of one server process (at most one running, one queued)."""

    def __init__(self, state: ServerState, run: Callable[[ServerState], object] = run_round):
        self.state = state
        self._run = run
        self._cond = threading.Condition()
        self._pending = False
        self._running = False
        self._failing: set[str] = set()
        self.rounds = 0

    def request(self) -> None:
        """Ask for a round soon; returns at once (a round already queued covers this)."""
        with self._cond:
            self._pending = True
            if self._running:
                return
            self._running = True
        try:
            self.state.workers.submit("witness", self._loop)
        except RuntimeError:  # the server is stopping
            with self._cond:
                self._running = self._pending = False
                self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._running = False
                    self._cond.notify_all()
                    return
                self._pending = False
            try:
                self._run(self.state)
            except Exception:  # run_round never raises; a replaced runner might
                _log.exception("witness round failed")
            with self._cond:
                self.rounds += 1

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no round runs or is queued (for shutdown and tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._running or self._pending), timeout)

    def report(self, failures: list[str]) -> None:
        """Alert on failures that were not failing in the previous round."""
        new = [f for f in failures if f not in self._failing]
        self._failing = set(failures)
        if new:
            self.state.ctx.alert(
                Alert(
                    kind="audit.witness.failed",
                    title="a witness of the audit log could not be reached",
                    text="; ".join(new),
                    severity=Severity.WARNING,
                    details={"failures": new},
                )
            )


_create = threading.Lock()


def rounds_of(state: ServerState) -> WitnessRounds:
    with _create:
        if state.witnessing is None:
            state.witnessing = WitnessRounds(state)
        return state.witnessing


def install(state: ServerState) -> Callable[[], None]:
    """Request a round after every privileged act committed to the server's store."""
    return on_privileged_append(state.ctx.store, rounds_of(state).request)


__all__ = ["MAIL_TASK", "WitnessRounds", "install", "mail_checkpoint", "rounds_of", "run_round"]
