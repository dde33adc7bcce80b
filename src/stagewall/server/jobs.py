"""Masking jobs run by the server, with the connection URLs only the server holds.

A job is declared in ``stagewall.yaml`` (``masking_jobs:``): source and target
resources, a plan file, optionally a schedule. An internal person starts a run
through the API (``POST /api/v1/masking/jobs/{name}/runs``, ``stagewall mask run
JOB``), or the leader starts it at its scheduled slot. The run happens in a
background thread of the server; the request only queues it. The connection URLs
are read from the server's environment at run time and never leave the process:
clients see resource names and password-free identities, and error messages pass
through :func:`stagewall.redact.redact`.

Who may start a run (decided here, for the route, the CLI and the scheduler alike):
an internal *person* (never an external, never a service principal), and when the
job names ``run_by``, one of those. Externals may not start a run even of a job
whose target is theirs to use: every job reads its source — in practice production —
with the server's credentials, and what a run reads is the one decision an external
must never make. Step-up MFA is not asked: a run gives its starter nothing (no
credential, no data; the copy is masked and verified, and the target is by
declaration non-production), and the act is audited with the login context.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from stagewall.access._core import fmt_time
from stagewall.alerts import Alert, Severity
from stagewall.audit import EventType, Status, register_event_type
from stagewall.errors import (
    ConfigError,
    LeakNotWithdrawn,
    MaskingJobBusy,
    MaskingJobInvalid,
    MaskingJobTargetProduction,
    MaskingJobUnknown,
    MaskingPlanUnapproved,
    MaskingRunStopped,
    StagewallError,
)
from stagewall.estate import Estate
from stagewall.estate._schedule import parse_schedule
from stagewall.estate.models import MaskingJob, ResourceKind
from stagewall.identity.actor import Actor, ActorClass
from stagewall.masking.plan import Plan
from stagewall.redact import redact
from stagewall.server._state import ServerState
from stagewall.server._tables import job_runs
from stagewall.server.slots import claim

if TYPE_CHECKING:
    from stagewall.masking.pipeline import Outcome

_log = logging.getLogger("stagewall.server.jobs")

TRIGGERED = register_event_type(
    EventType(
        "masking.job.triggered",
        6003,
        "API Activity",
        1,
        "Create",
        "a masking job run was queued in the server, by a person or by its schedule",
    )
)
JOB_REFUSED = register_event_type(
    EventType(
        "masking.job.refused",
        6003,
        "API Activity",
        1,
        "Create",
        "a principal tried to start a masking job it may not start",
    )
)
JOB_FAILED = register_event_type(
    EventType(
        "masking.job.failed",
        6003,
        "API Activity",
        1,
        "Create",
        "a masking job run ended without a masked copy (its error is recorded)",
    )
)
SUPERSEDED = register_event_type(
    EventType(
        "masking.job.superseded",
        6003,
        "API Activity",
        1,
        "Create",
        "a masking job run marked dead was still running: its worker stopped without "
        "writing its state, and its copy is not trusted",
    )
)

ACTIVE = ("queued", "running")
# Every server process beats for the runs it queued (queued or running) from a thread of
# its own (every ``ServerState.job_heartbeat_every`` seconds, 10 by default, never held up
# by a sweep or a run); a run whose beat is older than DEAD_AFTER belongs to a process
# that stopped: it is marked failed (with an alert) and no longer blocks its target. A
# healthy run blocks however long it takes.
DEAD_AFTER = timedelta(seconds=60)
# A worker that could not read its run row for this long (real time; the store is out
# of its reach, so its beats do not land either) stops its copy: by DEAD_AFTER others
# may have marked the run dead and started the next one.
UNCONFIRMED_AFTER = DEAD_AFTER.total_seconds() * 3 / 4


@dataclass(frozen=True)
class PreparedJob:
    """Everything a run needs, resolved on the server. ``repr`` shows no URL."""

    name: str
    job: MaskingJob
    plan: Plan
    source_url: str
    target_url: str

    def __repr__(self) -> str:
        return f"PreparedJob({self.name!r})"


def get_job(estate: Estate, name: str) -> MaskingJob:
    job = estate.masking_jobs.get(name)
    if job is None:
        raise MaskingJobUnknown(f"no masking job named {name[:128]!r} is declared")
    return job


def authorize(state: ServerState, actor: Actor, name: str) -> MaskingJob:
    """Refuse (audited) unless ``actor`` may start job ``name``; the job otherwise."""
    estate = state.estate
    job = get_job(estate, name)
    problem = None
    if not actor.has(ActorClass.INTERNAL) or not estate.is_internal(actor.principal):
        problem = "only internal people start masking jobs (a job reads its source, production)"
    elif job.run_by and actor.principal not in estate.expand(job.run_by):
        problem = "not in the job's run_by list"
    if problem is not None:
        raise state.ctx.refuse(
            JOB_REFUSED.code,
            actor.principal,
            f"{actor.principal!r} may not start masking job {name!r}: {problem}",
            resource=f"masking_job:{name}",
            details={"job": name},
            hint="masking jobs are started by internal people named in run_by",
        )
    return job


def _url(estate: Estate, config: Path, resource: str, side: str) -> str:
    res = estate.resources.get(resource)
    if res is None:
        raise MaskingJobInvalid(f"the job's {side} resource {resource!r} is not declared")
    if res.connection_env:
        value = os.environ.get(res.connection_env)
        if not value:
            raise MaskingJobInvalid(
                f"the server has no connection URL for {side} resource {resource!r}: "
                f"environment variable {res.connection_env} is not set",
                hint="set it in the server's environment (e.g. the systemd EnvironmentFile); "
                "it is never needed on a laptop",
            )
        return value
    if res.kind is ResourceKind.SQLITE and res.path:
        path = Path(res.path)
        if not path.is_absolute():
            path = config.parent / path
        return f"sqlite:///{path}"
    raise MaskingJobInvalid(f"{side} resource {resource!r} has no connection_env")


def prepare(state: ServerState, name: str) -> PreparedJob:
    """Resolve the plan and the URLs now, so a bad job fails before it is queued."""
    return resolve_job(state.estate, Path(state.ctx.loaded.path), name)


def resolve_job(estate: Estate, config: Path, name: str) -> PreparedJob:
    """Job ``name`` of ``estate`` (loaded from the file ``config``) with its plan and
    URLs (from this process's environment); also used by ``mask verify JOB``."""
    from stagewall.masking.plan import load_plan

    job = get_job(estate, name)
    target = estate.resources.get(job.target)
    if target is None or estate.is_production(target.environment):
        raise MaskingJobInvalid(f"job {name!r}: the target must be a non-production resource")
    plan_path = Path(job.plan)
    if not plan_path.is_absolute():
        plan_path = config.parent / plan_path
    if not plan_path.is_file():
        raise MaskingJobInvalid(
            f"job {name!r}: the plan file {job.plan} does not exist on the server "
            f"(looked for {plan_path})",
            hint="commit the plan next to stagewall.yaml (stagewall mask plan) and deploy it",
        )
    try:
        plan = load_plan(plan_path)
    except ConfigError as exc:
        raise MaskingJobInvalid(
            f"job {name!r}: the plan {job.plan} is invalid: {exc.message}"
        ) from None
    target_url = _url(estate, config, job.target, "target")
    refuse_production_target(estate, config, name, target_url)
    return PreparedJob(
        name=name,
        job=job,
        plan=plan,
        source_url=_url(estate, config, job.source, "source"),
        target_url=target_url,
    )


def refuse_production_target(estate: Estate, config: Path, name: str, target_url: str) -> None:
    """Refuse (SW150) a target URL that reaches a production database.

    The estate checks the target *resource's* environment; what the run writes is the
    URL its ``connection_env`` holds (or its SQLite file). A staging resource whose
    variable is a production resource's, or whose URL or file names the same database
    as one (its ``connection_env``/``admin_connection_env`` URL as this server holds
    it, its ``path``, host/port/database or identifiers), would have every table of
    production replaced. The server holds all those URLs, so it compares them.
    """
    from stagewall.estate.models import DATABASE_KINDS
    from stagewall.masking._preflight import matches_resource, target_names
    from stagewall.masking.db import parse_url

    tname = estate.masking_jobs[name].target
    target_res = estate.resources[tname]
    try:
        target = parse_url(target_url, "target")
    except ConfigError as exc:
        raise MaskingJobInvalid(
            f"job {name!r}: the target URL is not valid: {exc.message}"
        ) from None
    wanted = target_names(target)
    for rid, res in sorted(estate.resources.items()):
        if not estate.is_production(res.environment) or res.kind not in DATABASE_KINDS:
            continue
        same = bool(res.connection_env) and res.connection_env == target_res.connection_env
        for env in (res.connection_env, res.admin_connection_env):
            value = os.environ.get(env) if env else None
            if same or not value:
                continue
            try:
                same = parse_url(value, "source").same_database(target)
            except ConfigError:
                continue  # not a database URL this server could write to anyway
        if same or matches_resource(res, target, wanted, config.parent):
            raise MaskingJobTargetProduction(
                f"job {name!r}: the target resource {tname!r} is declared "
                f"in non-production environment {target_res.environment!r}, but its "
                f"database {target.display} is production resource {rid!r} "
                f"(environment {res.environment!r}); nothing was queued"
            )


def require_approved_plan(state: ServerState, prepared: PreparedJob) -> dict[str, Any]:
    """Refuse (SW864) a plan whose canonical hash no internal person approved; else the
    approval the run goes under (``request``, ``approved_by``, ``review_event``)."""
    from stagewall.server.plans import approval_of

    sha = prepared.plan.sha256()
    problem, approval = approval_of(state, prepared.name, sha)
    if problem is not None or approval is None:
        raise MaskingPlanUnapproved(
            f"masking job {prepared.name!r}: its plan {prepared.job.plan} (sha256 {sha}) is "
            f"not approved: {problem}; nothing was read from {prepared.job.source}"
        )
    return approval


def start(
    state: ServerState, name: str, *, triggered_by: str, trigger: str, slot: str | None = None
) -> dict[str, Any]:
    """Queue a run of ``name`` (already authorised) and hand it to a worker thread.

    The plan's hash must be approved (:mod:`stagewall.server.plans`); a run of an
    unapproved plan is refused before anything is read, as a failed run with an alert,
    whoever or whatever started it."""
    try:
        prepared = prepare(state, name)
    except MaskingJobInvalid as exc:
        if trigger == "schedule":
            _failed_before_start(state, name, triggered_by, exc, trigger)
        raise
    try:
        approval = require_approved_plan(state, prepared)
    except MaskingPlanUnapproved as exc:
        _failed_before_start(state, name, triggered_by, exc, trigger, kind="plan_unapproved")
        raise
    now = state.now()
    run_id = "mjr_" + secrets.token_hex(8)
    store = state.ctx.store
    target = prepared.job.target
    # Jobs writing the same target are one queue: two runs replacing its tables at once
    # (two jobs, on two servers) would leave a mix that one of them marks complete.
    sharing = sorted(n for n, j in state.estate.masking_jobs.items() if j.target == target)
    dead: list[tuple[str, str, str, str]] = []
    try:
        with store.transaction() as conn:
            store.lock(conn, f"stagewall.server.job-target.{target}")
            dead = _mark_dead(conn, now, sharing)
            busy = conn.execute(
                sa.select(job_runs.c.id, job_runs.c.job).where(
                    job_runs.c.job.in_(sharing), job_runs.c.state.in_(ACTIVE)
                )
            ).first()
            if busy is not None:
                other = "" if busy[1] == name else f" (job {busy[1]!r}, same target {target!r})"
                raise MaskingJobBusy(
                    f"masking job {name!r} cannot start: run {busy[0]}{other} is in progress"
                )
            conn.execute(
                job_runs.insert().values(
                    id=run_id,
                    job=name,
                    state="queued",
                    trigger=trigger,
                    triggered_by=triggered_by,
                    queued_at=fmt_time(now),
                    heartbeat_at=fmt_time(now),
                )
            )
            state.ctx.record(
                TRIGGERED.code,
                triggered_by,
                f"masking job {name} run {run_id} queued by {triggered_by}"
                + (f" (schedule slot {slot})" if slot else ""),
                resource=f"masking_job:{name}",
                details={
                    "job": name,
                    "run": run_id,
                    "trigger": trigger,
                    "source": prepared.job.source,
                    "target": prepared.job.target,
                    "plan_sha256": prepared.plan.sha256(),
                    # the approval it runs under: a later withdrawal of it names this run
                    "plan_approval": approval,
                    "slot": slot,
                },
                conn=conn,
            )
    except MaskingJobBusy as exc:
        _report_dead(state, dead, now)
        if trigger == "schedule":  # a skipped slot is said: nobody is watching
            _failed_before_start(state, name, triggered_by, exc, trigger)
        raise
    _report_dead(state, dead, now)
    state.job_beats.add(run_id)
    _ensure_beating(state)
    try:
        state.workers.submit("masking", _execute, state, run_id, prepared, triggered_by)
    except BaseException:
        state.job_beats.discard(run_id)
        raise
    return get_run(state, run_id)


def _later_beat(now: datetime) -> Any:
    """``heartbeat_at`` set to ``now`` unless it is already later: a stamp whose clock was
    read before a stall (a worker or a beat held up between reading the clock and its
    write) never makes a live run look older than a beat that landed meanwhile. The
    stamps are fixed-width UTC text, so text order is time order."""
    stamp = fmt_time(now)
    return sa.case((job_runs.c.heartbeat_at > stamp, job_runs.c.heartbeat_at), else_=stamp)


def beat(state: ServerState) -> int:
    """Refresh the heartbeat of every run this process queued and has not finished;
    returns how many rows were touched (called on each tick of the server's loop)."""
    ids = sorted(state.job_beats)
    if not ids:
        return 0
    with state.ctx.store.transaction() as conn:
        touched = int(
            conn.execute(
                job_runs.update()
                .where(job_runs.c.id.in_(ids), job_runs.c.state.in_(ACTIVE))
                .values(heartbeat_at=_later_beat(state.now()))
            ).rowcount
        )
        if touched < len(ids):  # some ended, or were marked dead: tell their workers
            live = conn.execute(
                sa.select(job_runs.c.id).where(job_runs.c.id.in_(ids), job_runs.c.state.in_(ACTIVE))
            )
            gone = set(ids) - {str(r[0]) for r in live}
            state.job_gone.update(g for g in gone if g in state.job_beats)
    return touched


def _ensure_beating(state: ServerState) -> None:
    """Start this process's heartbeat thread unless it runs (or beating is off)."""
    every = state.job_heartbeat_every
    if every is None:
        return
    with state.job_beat_lock:
        if state.job_beater is not None and state.job_beater.is_alive():
            return
        thread = threading.Thread(
            target=_beat_loop, args=(state, every), name="stagewall-job-heartbeat", daemon=True
        )
        state.job_beater = thread
        thread.start()


def _beat_loop(state: ServerState, every: float) -> None:
    """Beat until this process has no run left (the next start() starts it again)."""
    while True:
        with state.job_beat_lock:
            if not state.job_beats:
                state.job_beater = None
                return
        try:
            beat(state)
        except Exception:  # the store is down: no beat (others may then call it dead)
            _log.exception("masking job heartbeat failed")
        if state.job_beat_stop.wait(every):
            return


def _mark_dead(
    conn: sa.Connection, now: datetime, names: list[str] | None = None
) -> list[tuple[str, str, str, str]]:
    """Mark failed every active run (of ``names``, else of any job) whose heartbeat is
    older than DEAD_AFTER; returns (run, job, triggered_by, last beat) of each."""
    cutoff = fmt_time(now - DEAD_AFTER)
    last = sa.func.coalesce(job_runs.c.heartbeat_at, job_runs.c.queued_at)
    q = sa.select(job_runs.c.id, job_runs.c.job, job_runs.c.triggered_by, last).where(
        job_runs.c.state.in_(ACTIVE), last < cutoff
    )
    if names is not None:
        q = q.where(job_runs.c.job.in_(names))
    out = []
    for run_id, job, who, beat_at in conn.execute(q).all():
        error = (
            f"the server process running it stopped: no heartbeat since {beat_at} "
            f"(a live run beats at least every {int(DEAD_AFTER.total_seconds())} s); the "
            "target may hold a partial copy, which the next run replaces"
        )
        done = conn.execute(
            job_runs.update()
            .where(job_runs.c.id == run_id, job_runs.c.state.in_(ACTIVE), last < cutoff)
            .values(state="failed", finished_at=fmt_time(now), error=error)
        ).rowcount
        if done == 1:
            out.append((str(run_id), str(job), str(who), str(beat_at)))
    return out


def _report_dead(state: ServerState, dead: list[tuple[str, str, str, str]], now: datetime) -> None:
    for run_id, job, who, beat_at in dead:
        _announce_failure(
            state,
            run_id,
            job,
            who,
            f"the server running it stopped: no heartbeat since {beat_at}",
            kind="dead",
            details={"heartbeat_at": beat_at},
        )


def reap_dead(state: ServerState) -> list[str]:
    """The leader's duty: mark failed (and alert) every run whose heartbeat stopped."""
    now = state.now()
    with state.ctx.store.transaction() as conn:
        dead = _mark_dead(conn, now)
    _report_dead(state, dead, now)
    return [d[0] for d in dead]


def _update(
    server: ServerState, run_id: str, *, live: tuple[str, ...] = ACTIVE, **values: Any
) -> bool:
    """Write ``values`` to run ``run_id`` only while its state is one of ``live``; whether
    it was. A worker whose run was marked dead (its server hung past DEAD_AFTER) finds
    its row no longer live and must stop: the run is failed, and the target may already
    be the next run's."""
    with server.ctx.store.transaction() as conn:
        return (
            conn.execute(
                job_runs.update()
                .where(job_runs.c.id == run_id, job_runs.c.state.in_(live))
                .values(**values)
            ).rowcount
            == 1
        )


def _execute(state: ServerState, run_id: str, prepared: PreparedJob, triggered_by: str) -> None:
    """The worker thread: run, verify, record; the run row says how it ended."""
    try:
        _run(state, run_id, prepared, triggered_by)
    finally:
        state.job_beats.discard(run_id)
        state.job_gone.discard(run_id)


class LiveCheck:
    """The stop check a worker gives the masking engine (``RunOptions.stop``), asked
    after every batch: the reason to stop once its run row is no longer ``running``.

    Cheap per batch: a beat of this process that found the row no longer live says so
    in memory (``ServerState.job_gone``); otherwise the row is read at most every
    ``ServerState.job_check_every`` seconds. A row that could not be read for
    UNCONFIRMED_AFTER seconds stops the run too (fail closed: its beats do not land
    either, so others will call it dead)."""

    def __init__(
        self, state: ServerState, run_id: str, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.state, self.run_id, self._monotonic = state, run_id, monotonic
        self._confirmed = self._read_at = monotonic()  # it was live when set running
        self.reads = 0  # store reads so far (for tests and the curious)

    def __call__(self) -> str | None:
        if self.run_id in self.state.job_gone:
            return f"run {self.run_id} was marked dead (its heartbeat found it no longer live)"
        now = self._monotonic()
        if now - self._read_at < self.state.job_check_every:
            return None
        self._read_at = now
        self.reads += 1
        try:
            with self.state.ctx.store.read() as conn:
                row = conn.execute(
                    sa.select(job_runs.c.state).where(job_runs.c.id == self.run_id)
                ).first()
        except Exception as exc:
            _log.warning("masking job run %s: its row cannot be read (%s)", self.run_id, exc)
            if now - self._confirmed >= UNCONFIRMED_AFTER:
                return (
                    f"run {self.run_id} could not be confirmed live for "
                    f"{int(now - self._confirmed)} s (the store is out of reach)"
                )
            return None
        if row is None or row[0] != "running":
            got = "gone" if row is None else row[0]
            return f"run {self.run_id} is {got}: it was marked dead while it ran"
        self._confirmed = now
        return None


def _run(state: ServerState, run_id: str, prepared: PreparedJob, triggered_by: str) -> None:
    from stagewall.keys import load_masking_key
    from stagewall.masking.engine import RunOptions
    from stagewall.masking.pipeline import run_and_record

    now = state.now()
    if not _update(
        state,
        run_id,
        live=("queued",),
        state="running",
        started_at=fmt_time(now),
        heartbeat_at=_later_beat(now),
    ):
        _superseded(state, run_id, prepared, triggered_by, None)
        return
    try:
        # Again right before the source is read: an approval may have been withdrawn,
        # or its binding broken, while the run waited in the queue.
        require_approved_plan(state, prepared)
    except MaskingPlanUnapproved as exc:
        _fail(
            state,
            run_id,
            prepared.name,
            triggered_by,
            f"[{exc.code}] {exc.message}",
            kind="plan_unapproved",
        )
        return
    try:
        outcome = run_and_record(
            prepared.plan,
            prepared.source_url,
            prepared.target_url,
            load_masking_key(state.home),
            state.ctx.store,
            options=RunOptions(
                jobs=prepared.job.jobs,
                replace=True,
                workers="thread",
                stop=LiveCheck(state, run_id),
            ),
            verify_target=prepared.job.verify,
            actor=triggered_by,
            triggered_by=triggered_by,
        )
    except MaskingRunStopped as exc:
        # still live (the store was out of reach): an ordinary failure; else superseded
        if not _fail(state, run_id, prepared.name, triggered_by, f"[{exc.code}] {exc.message}"):
            _superseded(state, run_id, prepared, triggered_by, None, stopped=exc)
        return
    except StagewallError as exc:
        _fail(state, run_id, prepared.name, triggered_by, f"[{exc.code}] {exc.message}")
        return
    except Exception as exc:  # a bug or a driver error: record it, keep the worker alive
        _log.exception("masking job %s run %s crashed", prepared.name, run_id)
        _fail(
            state,
            run_id,
            prepared.name,
            triggered_by,
            f"internal error ({type(exc).__name__}); see the server log",
        )
        return
    record = outcome.record
    if record.verification.value == "failed":
        _withdraw_leak(state, run_id, prepared, triggered_by, outcome)
        return
    if not _update(
        state,
        run_id,
        live=("running",),
        state="completed",
        finished_at=fmt_time(state.now()),
        masking_run_id=record.run_id,
        audit_index=outcome.audit_index,
        verification=record.verification.value,
        total_rows=sum(record.rows.values()),
    ):
        _superseded(state, run_id, prepared, triggered_by, outcome)


def _superseded(
    state: ServerState,
    run_id: str,
    prepared: PreparedJob,
    triggered_by: str,
    outcome: Outcome | None,
    *,
    stopped: MaskingRunStopped | None = None,
) -> None:
    """This worker's run was marked dead while it worked (its server hung): it writes no
    state, its copy (if any) is untrusted — withdrawn while the target's marker is still
    its own, else left to the run that wrote the target since — and it says so.
    ``stopped``: its copy was stopped mid-way (the engine withdrew what it wrote)."""
    from stagewall.masking.engine import withdraw

    masking_run = outcome.record.run_id if outcome is not None else None
    how = "the worker stopped"
    if stopped is not None:
        masking_run = stopped.run_id
        during = "during verification" if stopped.verifying else "mid-copy"
        how = f"the worker stopped {during}, at its next batch,"
        copy = "unverified copy" if stopped.verifying else "partial copy"
        if masking_run is None:
            done = "it had not written to the target"
        elif stopped.withdrawn:
            done = f"its {copy} was withdrawn (tables dropped, marker failed)"
        elif stopped.withdrawn is False:
            done = "another run has written the target since; that run's copy stands"
        else:
            done = (
                f"its {copy} could NOT be withdrawn: treat {prepared.job.target} as "
                "failed until the next run completes"
            )
    elif masking_run is None:
        done = "it stopped before reading the source"
    else:
        try:
            if withdraw(prepared.target_url, only_run=masking_run):
                done = "its copy was withdrawn (tables dropped, marker failed)"
            else:
                done = "another run has written the target since; that run's copy stands"
        except Exception as exc:  # the record and alert below must still go out
            _log.error("masking job %s: a superseded copy could not be dropped", prepared.name)
            done = (
                f"its copy could NOT be withdrawn ({type(exc).__name__}): treat "
                f"{prepared.job.target} as failed until the next run completes"
            )
    text = (
        f"masking job {prepared.name} run {run_id} was marked dead while its worker still "
        f"ran; {how} without writing its state: {done}"
    )
    details = {
        "job": prepared.name,
        "run": run_id,
        "masking_run": masking_run,
        "stopped_mid_copy": stopped is not None and not stopped.verifying,
        "stopped_mid_verify": stopped is not None and stopped.verifying,
    }
    state.ctx.record(
        SUPERSEDED.code,
        triggered_by,
        text,
        status=Status.FAILURE,
        resource=f"masking_job:{prepared.name}",
        details=details,
    )
    state.ctx.alert(
        Alert(
            kind="masking.job.superseded",
            title=f"masking job {prepared.name}: a run marked dead was still running",
            text=text,
            severity=Severity.WARNING,
            details=details,
        )
    )


def _withdraw_leak(
    state: ServerState, run_id: str, prepared: PreparedJob, triggered_by: str, outcome: Outcome
) -> None:
    """A copy that did not verify clean holds production values where non-production
    people read them: drop its tables, mark it failed, fail the run, alert (critical).

    Only while the target's marker still names this copy's run and plan
    (``engine.withdraw_leak``): a run that took the target since (this one was marked
    dead while it verified) is not dropped nor its marker overwritten, and a target
    without a marker is not touched; either way the failure and the alert say the copy
    was NOT withdrawn (SW523) and what the marker holds."""
    from stagewall.masking.engine import withdraw_leak

    record = outcome.record
    hits = (record.verify or {}).get("total_hits")
    withdrawn = False
    try:
        withdraw_leak(prepared.target_url, record.run_id, record.plan_sha256)
        done, withdrawn = "its tables were dropped", True
    except LeakNotWithdrawn as exc:
        _log.error("masking job %s: the leaked copy was not withdrawn", prepared.name)
        done = f"[{exc.code}] {exc.message}: treat {prepared.job.target} as holding production data"
    except Exception as exc:  # the alert below must still go out
        _log.error("masking job %s: the leaked copy could not be dropped", prepared.name)
        done = (
            f"its tables could NOT be dropped ({type(exc).__name__}): treat "
            f"{prepared.job.target} as holding production data"
        )
    if _update(
        state,
        run_id,
        live=("running",),
        masking_run_id=record.run_id,
        audit_index=outcome.audit_index,
        verification=record.verification.value,
        total_rows=sum(record.rows.values()),
    ):
        _fail(
            state,
            run_id,
            prepared.name,
            triggered_by,
            f"the masked copy did not verify clean ({hits} source value(s) found in the "
            f"target); {done}",
        )
    state.ctx.alert(
        Alert(
            kind="masking.job.leak",
            title=f"masking job {prepared.name}: the masked copy did not verify clean",
            text=f"run {run_id} (masking run {record.run_id}) found source values or broken "
            f"row counts/keys in {prepared.job.target}; {done}.",
            severity=Severity.CRITICAL,
            details={
                "job": prepared.name,
                "run": run_id,
                "masking_run": record.run_id,
                "withdrawn": withdrawn,
            },
        )
    )


def _fail(
    state: ServerState,
    run_id: str,
    name: str,
    triggered_by: str,
    error: str,
    *,
    kind: str = "failed",
) -> bool:
    """Fail the run while it is live (then announce it); whether it was."""
    error = redact(error)[:2000]
    if _update(state, run_id, state="failed", finished_at=fmt_time(state.now()), error=error):
        _announce_failure(state, run_id, name, triggered_by, error, kind=kind)
        return True
    return False  # the run was marked dead meanwhile (failed, alerted once); nothing to add


_TITLES = {"plan_unapproved": ": its plan is not approved", "dead": ": its server stopped"}


def _announce_failure(
    state: ServerState,
    run_id: str,
    name: str,
    triggered_by: str,
    error: str,
    *,
    kind: str,
    details: dict[str, Any] | None = None,
) -> None:
    """The audit event and the alert of a failed run (``kind``: the alert's last word)."""
    state.ctx.record(
        JOB_FAILED.code,
        triggered_by,
        f"masking job {name} run {run_id} failed: {error}",
        status=Status.FAILURE,
        resource=f"masking_job:{name}",
        details={"job": name, "run": run_id, **(details or {})},
    )
    state.ctx.alert(
        Alert(
            kind=f"masking.job.{kind}",
            title=f"masking job {name} failed{_TITLES.get(kind, '')}",
            text=f"run {run_id} started by {triggered_by} failed: {error}",
            severity=Severity.CRITICAL if kind == "plan_unapproved" else Severity.WARNING,
            details={"job": name, "run": run_id, **(details or {})},
        )
    )


def _failed_before_start(
    state: ServerState,
    name: str,
    triggered_by: str,
    exc: StagewallError,
    trigger: str,
    *,
    kind: str = "failed",
) -> None:
    """A run that cannot even start is recorded and alerted (for a scheduled one nobody
    is watching; an unapproved plan is alerted whoever started it)."""
    run_id = "mjr_" + secrets.token_hex(8)
    now = fmt_time(state.now())
    with state.ctx.store.transaction() as conn:
        conn.execute(
            job_runs.insert().values(
                id=run_id,
                job=name,
                state="queued",
                trigger=trigger,
                triggered_by=triggered_by,
                queued_at=now,
                heartbeat_at=now,
            )
        )
    _fail(state, run_id, name, triggered_by, f"[{exc.code}] {exc.message}", kind=kind)


def _run_row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "job": row.job,
        "state": row.state,
        "trigger": row.trigger,
        "triggered_by": row.triggered_by,
        "queued_at": row.queued_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "masking_run": row.masking_run_id,
        "audit_index": row.audit_index,
        "verification": row.verification,
        "total_rows": row.total_rows,
        "error": row.error,
    }


def get_run(state: ServerState, run_id: str) -> dict[str, Any]:
    with state.ctx.store.read() as conn:
        row = conn.execute(sa.select(job_runs).where(job_runs.c.id == run_id)).first()
    if row is None:
        raise MaskingJobUnknown(
            f"no masking job run {run_id[:64]!r}", hint="list runs: GET /api/v1/masking/jobs"
        )
    return _run_row(row)


def list_runs(state: ServerState, job: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    q = sa.select(job_runs).order_by(job_runs.c.queued_at.desc(), job_runs.c.id).limit(limit)
    if job is not None:
        q = q.where(job_runs.c.job == job)
    with state.ctx.store.read() as conn:
        return [_run_row(r) for r in conn.execute(q).all()]


def list_jobs(state: ServerState) -> list[dict[str, Any]]:
    """The declared jobs (resource names and environments; never a URL) and their last run."""
    estate = state.estate
    now = state.now()
    out = []
    for name, job in sorted(estate.masking_jobs.items()):
        last = list_runs(state, name, limit=1)
        out.append(
            {
                "name": name,
                "source": job.source,
                "source_environment": estate.environment_of_resource(job.source),
                "target": job.target,
                "target_environment": estate.environment_of_resource(job.target),
                "plan": job.plan,
                "schedule": job.schedule,
                "next_run": (
                    fmt_time(parse_schedule(job.schedule).next_slot(now)) if job.schedule else None
                ),
                "run_by": list(job.run_by),
                "verify": job.verify,
                "description": job.description,
                "last_run": last[0] if last else None,
            }
        )
    return out


def run_scheduled(state: ServerState, now: datetime | None = None) -> list[str]:
    """The leader's duty each tick: start every job whose slot is due and not yet claimed.

    A slot is claimed in the store before the run is queued, so two servers (or a
    leader replaced mid-tick) start it once. Returns the run ids started.
    """
    now = now or state.now()
    started = []
    for name, job in sorted(state.estate.masking_jobs.items()):
        if not job.schedule:
            continue
        slot = parse_schedule(job.schedule).due(now)
        if slot is None or not claim(state, f"masking_job:{name}", fmt_time(slot)):
            continue
        try:
            run = start(
                state,
                name,
                triggered_by=f"schedule:{name}",
                trigger="schedule",
                slot=fmt_time(slot),
            )
            started.append(str(run["id"]))
        except StagewallError as exc:
            _log.error("scheduled masking job %s did not start: %s", name, exc.message)
    return started


__all__ = [
    "TRIGGERED",
    "LiveCheck",
    "PreparedJob",
    "authorize",
    "get_job",
    "get_run",
    "list_jobs",
    "list_runs",
    "prepare",
    "run_scheduled",
    "start",
]
