"""One masking run end to end: mask, verify, compare schemas, record (CLI and server).

``stagewall mask run`` and the server's masking jobs both call :func:`run_and_record`,
so a run is recorded the same way whoever started it; only who is named differs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from stagewall.errors import MaskingRunStopped, StagewallError, TargetTakenOver
from stagewall.keys import MaskingKey
from stagewall.masking import engine
from stagewall.masking.plan import Plan
from stagewall.masking.record import MaskingRecord, RunStatus, Verification, record_run
from stagewall.masking.verify import VerifyReport, verify
from stagewall.store import Store


class PhaseProgress(Protocol):
    """What a progress display offers each phase (the CLI's bars)."""

    def engine(self, p: Any) -> None: ...

    def rows(self, table: str, n: int) -> None: ...


Phase = Callable[[str], AbstractContextManager[PhaseProgress | None]]


@contextmanager
def _quiet(what: str) -> Iterator[PhaseProgress | None]:
    yield None


@dataclass(frozen=True)
class Outcome:
    record: MaskingRecord
    audit_index: int
    report: VerifyReport | None
    result: engine.RunResult


def run_and_record(
    plan: Plan,
    source: str,
    target: str,
    key: MaskingKey,
    store: Store,
    *,
    options: engine.RunOptions,
    verify_target: bool = True,
    actor: str | None = None,
    triggered_by: str | None = None,
    phase: Phase = _quiet,
) -> Outcome:
    """Run, verify (unless told not to), record; a failure after rows moved is recorded too."""
    started_at = now_text()
    t0 = time.monotonic()
    try:
        with phase("masking") as bar:
            opts = dataclasses.replace(options, progress=bar.engine if bar else options.progress)
            result = engine.run(plan, source, target, key, options=opts)
        # verify reads the source again: a run told to stop does not (nor is recorded)
        reason = options.stop() if options.stop is not None else None
        if reason:
            raise engine.stopped_error(target, result.run_id, reason)
    except StagewallError as exc:
        record_failure(exc, plan, key.key_id, source, target, started_at, t0, store, actor=actor)
        raise
    report = None
    verification = Verification.SKIPPED
    if verify_target:
        try:
            with phase("verifying") as vbar:
                report = verify(
                    plan,
                    source,
                    target,
                    key,
                    subset=bool(options.subset),
                    progress=vbar.rows if vbar else None,
                    jobs=options.jobs,
                    stop=options.stop,
                )
        except MaskingRunStopped as exc:
            # told to stop mid-verify: the copy is withdrawn (while it is still this
            # run's) and the record says "stopped", never "passed"
            stopped = engine.stopped_error(target, result.run_id, exc.message, verifying=True)
            record = _record(
                plan, source, target, result, Verification.STOPPED, stopped, None, triggered_by
            )
            record_run(record, store, actor=actor)
            raise stopped from None
        verification = Verification.PASSED if report.passed else Verification.FAILED
    record = _record(plan, source, target, result, verification, None, report, triggered_by)
    index = record_run(record, store, actor=actor)
    return Outcome(record=record, audit_index=index, report=report, result=result)


def _record(
    plan: Plan,
    source: str,
    target: str,
    result: engine.RunResult,
    verification: Verification,
    error: StagewallError | None,
    report: VerifyReport | None = None,
    triggered_by: str | None = None,
) -> MaskingRecord:
    """The record of a run whose copy completed (``error``: what failed it after)."""
    return MaskingRecord(
        run_id=result.run_id,
        status=RunStatus.COMPLETED if error is None else RunStatus.FAILED,
        plan_sha256=result.plan_sha256,
        key_id=result.key_id,
        source=result.source,
        target=result.target,
        started_at=result.started_at,
        finished_at=result.finished_at,
        duration_s=result.duration_seconds,
        rows=result.rows_per_table,
        transformers=result.transformer_per_column,
        snapshot=result.snapshot_id,
        lsn=result.wal_lsn,
        verification=verification,
        verify=verify_summary(report),
        jobs=result.jobs,
        subset=result.subset,
        objects_created=result.objects_created,
        objects_skipped=result.objects_skipped,
        schema_acknowledged=result.schema_acknowledged,
        schema_comparison=compare(source, target, plan.schemas) if error is None else None,
        triggered_by=triggered_by,
        error=None if error is None else f"[{error.code}] {error.message}",
    )


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def compare(source: str, target: str, schemas: Any) -> dict[str, Any]:
    """The schema comparison for the record; an error is recorded, not raised."""
    from stagewall.masking.compare import compare_schemas

    try:
        return compare_schemas(source, target, schemas).to_json()
    except StagewallError as exc:
        return {"error": f"[{exc.code}] {exc.message}"}


def verify_summary(report: VerifyReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    data = report.to_json()
    return {
        k: data[k]
        for k in (
            "outcome",
            "hits",
            "total_hits",
            "row_hits",
            "word_hits",
            "row_counts",
            "foreign_key_problems",
            "sensitive_hashes",
            "target_values",
        )
    }


def record_failure(
    exc: StagewallError,
    plan: Plan,
    key_id: str,
    source: str,
    target: str,
    started_at: str,
    t0: float,
    store: Store,
    *,
    actor: str | None = None,
) -> None:
    """Record a run that failed after it touched the target (its marker says so).

    Refusals before any row moved (bad plan, non-empty target, ...) leave no
    marker of this run and are not masking runs; they are not recorded.
    """
    from stagewall.masking.db import MarkerStatus, parse_url, read_completion_marker
    from stagewall.masking.record import transformers_of

    if isinstance(exc, TargetTakenOver) and exc.run_id and exc.started_at:
        # its rows moved, but the target's marker is another's now: recorded all the same
        run_id, run_started = exc.run_id, exc.started_at
    else:
        try:
            marker = read_completion_marker(target)
        except StagewallError:
            marker = None
        if marker is None or marker.status is not MarkerStatus.FAILED:
            return
        try:
            if datetime.fromisoformat(marker.started_at) < datetime.fromisoformat(started_at):
                return  # a failed marker of an earlier run, not this one
        except ValueError:
            return
        run_id, run_started = marker.run_id, marker.started_at
    record_run(
        MaskingRecord(
            run_id=run_id,
            status=RunStatus.FAILED,
            plan_sha256=plan.sha256(),
            key_id=key_id,
            source=dict(parse_url(source, "source").identity()),
            target=dict(parse_url(target, "target").identity()),
            started_at=run_started,
            finished_at=now_text(),
            duration_s=round(time.monotonic() - t0, 3),
            transformers=transformers_of(plan),
            error=f"[{exc.code}] {exc.message}",
        ),
        store,
        actor=actor,
    )


__all__ = ["Outcome", "Phase", "compare", "record_failure", "run_and_record", "verify_summary"]
