"""What one server process holds: the estate, the store, the keys' home, the sweeper state."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagewall.access import AccessContext
from stagewall.errors import ConfigError
from stagewall.estate import Estate, load_estate
from stagewall.estate.models import ServerSettings
from stagewall.server._pipeline import CiVerifiers
from stagewall.server._starts import StartLimiter
from stagewall.server._token_rows import RowAlarm
from stagewall.server._workers import Workers

if TYPE_CHECKING:
    from stagewall.evidence import Evaluation, EvidenceInputs, Window
    from stagewall.server.witnessing import WitnessRounds

_log = logging.getLogger("stagewall.server")

# how long GET /api/v1/evidence/checks and /answers reuse one evaluation
EVALUATION_REUSE = timedelta(minutes=1)


@dataclass
class SweepStatus:
    """What /healthz reports about the built-in sweeper of this process."""

    leader: bool = False
    last_sweep: datetime | None = None
    last_error: str | None = None
    sweeps: int = 0
    late_alerted: bool = False
    last_witness: datetime | None = None
    last_ci_purge: datetime | None = None
    last_attempts_purge: datetime | None = None
    approvals_seen: int = 0  # highest access_reviews.id whose binding this leader checked
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class ServerState:
    ctx: AccessContext
    home: Path
    sweep: SweepStatus = field(default_factory=SweepStatus)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    ci: CiVerifiers = field(default_factory=CiVerifiers)
    workers: Workers = field(default_factory=Workers)
    # Masking job runs this process queued and has not finished (server.jobs beats for
    # them); None switches the heartbeat thread off (tests beat by hand).
    job_beats: set[str] = field(default_factory=set)
    job_heartbeat_every: float | None = 10.0
    job_beat_lock: threading.Lock = field(default_factory=threading.Lock)
    job_beat_stop: threading.Event = field(default_factory=threading.Event)
    job_beater: threading.Thread | None = None
    # runs of job_beats whose row a beat found no longer live (marked dead): their worker
    # stops mid-copy at its next batch; and how often (seconds) a worker reads its row
    job_gone: set[str] = field(default_factory=set)
    job_check_every: float = 5.0
    witnessing: WitnessRounds | None = None  # see stagewall.server.witnessing.rounds_of
    # called when the app stops (after the sweeper): clients routes opened, etc.
    closers: list[Callable[[], None]] = field(default_factory=list)
    # per-address budget of device codes and OIDC logins started without a login
    starts: StartLimiter = field(default_factory=StartLimiter)
    # which refused token rows (SW973, SW974, SW868) were recorded and alerted, when
    row_alarm: RowAlarm = field(default_factory=RowAlarm)
    # which promotions a listing found unbound (gate.row.unbound) were reported, when
    gate_alarm: RowAlarm = field(default_factory=RowAlarm)
    _stamp: tuple[int, int] | None = None
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)
    _evaluation: tuple[datetime, Evaluation] | None = None
    _evaluation_lock: threading.Lock = field(default_factory=threading.Lock)
    _queued: Future[Any] | None = None
    _queue_lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self) -> None:
        """Reload stagewall.yaml when it changed on disk (policy as code, deployed by git).

        An invalid new file raises ConfigError for every request until it is fixed:
        the server never keeps acting on rules its operator has replaced.
        """
        path = Path(self.ctx.loaded.path)
        try:
            st = path.stat()
        except OSError as exc:
            raise ConfigError(f"the estate file {path} is gone: {exc.strerror}") from None
        stamp = (st.st_mtime_ns, st.st_size)
        if self._stamp is None:
            self._stamp = stamp
            return
        if stamp == self._stamp:
            return
        with self._reload_lock:
            if stamp != self._stamp:
                self.ctx.loaded = load_estate(path)
                self._stamp = stamp
                self.ctx.record_estate()  # estate.changed, with what changed
                self.retire_undeclared()

    @classmethod
    def open(
        cls,
        config: str | os.PathLike[str] | None,
        db: str | None,
        home: str | os.PathLike[str],
    ) -> ServerState:
        ctx = AccessContext.open(config, db, home=home)
        state = cls(ctx=ctx, home=Path(home))
        state.refresh()
        state.retire_undeclared()
        return state

    def retire_undeclared(self) -> list[str]:
        """Retire the account, factors and logins of principals the estate no longer
        declares (at start and on every reload; see accounts.retire_undeclared)."""
        from stagewall.identity.accounts import retire_undeclared

        return retire_undeclared(self.ctx.store, self.estate, now=self.now())

    @property
    def estate(self) -> Estate:
        return self.ctx.estate

    @property
    def settings(self) -> ServerSettings:
        return self.ctx.estate.server

    def now(self) -> datetime:
        return self.clock()

    def evaluation(self, *, fresh: bool = False) -> Evaluation:
        """The evidence checks over the default window, computed at most once per
        EVALUATION_REUSE (one at a time): a full evaluation reads the whole log, so
        readers polling the API must not be able to keep both cores busy."""
        from stagewall.evidence import evaluate

        with self._evaluation_lock:
            now = self.now()
            cached = self._evaluation
            young = cached is not None and timedelta(0) <= now - cached[0] < EVALUATION_REUSE
            if cached is not None and young and not fresh:
                return cached[1]
            result = evaluate(self.evidence_inputs())
            self._evaluation = (now, result)
            return result

    def newest_evaluation(self) -> tuple[datetime, Evaluation] | None:
        """The newest evaluation this process computed (the scheduler's or a reader's) and
        when; never computes one."""
        return self._evaluation

    def evaluate_in_background(self) -> Future[Any]:
        """Queue one fresh evaluation on the evidence worker (serial with the scheduler's),
        unless one is already queued or running: that one's future."""
        with self._queue_lock:
            if self._queued is None or self._queued.done():
                self._queued = self.workers.submit("evidence", self._evaluate_now)
            return self._queued

    def _evaluate_now(self) -> None:
        try:
            self.evaluation(fresh=True)
        except Exception:  # the page keeps showing the older result; the log has the cause
            _log.exception("background evidence evaluation failed")

    def evidence_inputs(self, window: Window | None = None) -> EvidenceInputs:
        """What the evidence checks read here (default window: the 90 days up to now)."""
        from stagewall.evidence.evaluate import make_window, server_inputs

        return server_inputs(
            self.ctx.store,
            self.estate,
            home=self.home,
            config_dir=Path(self.ctx.loaded.path).parent,
            window=window or make_window(None, self.now()),
        )
