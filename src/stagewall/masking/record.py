"""The masking record: ISO 27001 A.8.11 evidence for every masking run.

Each run appends one audit event (``masking.run.completed`` or
``masking.run.failed``) and, when verification ran, ``masking.verify.passed`` or
``masking.verify.failed``, in the same transaction as a row in the store's
``masking_runs`` table (what ``stagewall mask runs`` lists). The record holds the
plan hash, stagewall version, key id (never the key), source and target identity
(never a password), PostgreSQL snapshot/LSN, rows per table, transformer per
column, verification result and duration.
"""

from __future__ import annotations

import enum
import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from stagewall import __version__
from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.masking.plan import Plan
from stagewall.store import Store, metadata

DATASTORE_ACTIVITY = 6005

EVENT_RUN_COMPLETED = register_event_type(
    EventType(
        code="masking.run.completed",
        class_uid=DATASTORE_ACTIVITY,
        class_name="Datastore Activity",
        activity_id=5,
        activity_name="Write",
        description="A masked copy of a source database was written to a target.",
    )
)
EVENT_RUN_FAILED = register_event_type(
    EventType(
        code="masking.run.failed",
        class_uid=DATASTORE_ACTIVITY,
        class_name="Datastore Activity",
        activity_id=5,
        activity_name="Write",
        description="A masking run stopped before completing; the target is not complete.",
    )
)
EVENT_VERIFY_PASSED = register_event_type(
    EventType(
        code="masking.verify.passed",
        class_uid=DATASTORE_ACTIVITY,
        class_name="Datastore Activity",
        activity_id=2,
        activity_name="Read",
        description="Verification found no source value in the masked target.",
    )
)
EVENT_VERIFY_FAILED = register_event_type(
    EventType(
        code="masking.verify.failed",
        class_uid=DATASTORE_ACTIVITY,
        class_name="Datastore Activity",
        activity_id=2,
        activity_name="Read",
        description="Verification found source values, wrong row counts or broken keys.",
    )
)

masking_runs = sa.Table(
    "masking_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("verification", sa.String(16), nullable=False),
    sa.Column("started_at", sa.String(32), nullable=False),
    sa.Column("finished_at", sa.String(32), nullable=False),
    sa.Column("duration_s", sa.Float(), nullable=False),
    sa.Column("plan_sha256", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(128), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("target", sa.Text(), nullable=False),
    sa.Column("total_rows", sa.BigInteger(), nullable=False),
    sa.Column("audit_index", sa.BigInteger(), nullable=True),
    sa.Column("record", sa.Text(), nullable=False),
)


class RunStatus(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"


class Verification(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # --no-verify, or the run itself failed
    ERROR = "error"  # verification could not run (e.g. the source went away)
    STOPPED = "stopped"  # the run was told to stop while it verified (never a pass)


@dataclass(frozen=True)
class MaskingRecord:
    """One masking run as recorded. Contains no secret and no data value."""

    run_id: str
    status: RunStatus
    plan_sha256: str
    key_id: str
    source: Mapping[str, Any]
    target: Mapping[str, Any]
    started_at: str
    finished_at: str
    duration_s: float
    rows: Mapping[str, int] = field(default_factory=dict)
    transformers: Mapping[str, str] = field(default_factory=dict)
    snapshot: str | None = None
    lsn: str | None = None
    verification: Verification = Verification.SKIPPED
    verify: Mapping[str, Any] | None = None  # the VerifyReport summary (counts only)
    error: str | None = None
    jobs: int = 1
    subset: tuple[str, ...] = ()
    objects_created: tuple[str, ...] = ()  # views, functions, triggers recreated
    objects_skipped: tuple[tuple[str, str], ...] = ()  # (object, reason): not recreated
    # schema findings the plan acknowledges, copied as they are: (object as shown, what
    # it holds); the object by kind and place, never its name (the plan holds the reason)
    schema_acknowledged: tuple[tuple[str, str], ...] = ()
    # counts of tables, keys, indexes, views, functions, triggers on both sides
    schema_comparison: Mapping[str, Any] | None = None
    # who started the run through the server: a principal, or "schedule" (None: the CLI)
    triggered_by: str | None = None
    stagewall_version: str = __version__

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["verification"] = self.verification.value
        data["source"] = dict(self.source)
        data["target"] = dict(self.target)
        data["rows"] = dict(self.rows)
        data["transformers"] = dict(self.transformers)
        data["verify"] = dict(self.verify) if self.verify is not None else None
        data["subset"] = list(self.subset)
        data["objects_created"] = list(self.objects_created)
        data["objects_skipped"] = [{"object": o, "reason": r} for o, r in self.objects_skipped]
        data["schema_acknowledged"] = [
            {"object": o, "holds": w} for o, w in self.schema_acknowledged
        ]
        data["schema_comparison"] = (
            dict(self.schema_comparison) if self.schema_comparison is not None else None
        )
        return data


def transformers_of(plan: Plan) -> dict[str, str]:
    """``{"table.column": transformer}`` for every column of the plan."""
    return {
        f"{t}.{c}": cp.transformer
        for t, tp in sorted(plan.tables.items())
        for c, cp in sorted(tp.columns.items())
    }


def audit_details(data: Mapping[str, Any]) -> dict[str, Any]:
    """The record as audit event details: table and column names are values, never keys.

    The audit log refuses a mapping key that reads like a secret (``password``,
    ``api_key``), which is right for event fields but wrong for the *names* of the
    tables and columns a run masked: a ``users.password`` column redacted by the plan
    must be recorded, not make the record refused after the target is complete. So
    the name-keyed maps (``rows``, ``transformers``) travel as lists of entries.
    """
    out = dict(data)
    out["rows"] = [{"table": t, "rows": n} for t, n in sorted(dict(data["rows"]).items())]
    out["transformers"] = [
        {"column": c, "transformer": name} for c, name in sorted(dict(data["transformers"]).items())
    ]
    return out


def current_actor() -> str:
    """Who ran the command: ``$STAGEWALL_ACTOR``, else the OS user."""
    explicit = os.environ.get("STAGEWALL_ACTOR")
    if explicit:
        return explicit
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):  # pragma: no cover - no passwd entry
        return "os:unknown"


def record_run(record: MaskingRecord, store: Store, *, actor: str | None = None) -> int:
    """Append the record to the audit log and ``masking_runs`` atomically; its audit index."""
    who = actor or current_actor()
    data = record.to_json()
    details = audit_details(data)
    resource = _describe(record.target)
    rows_total = sum(record.rows.values())
    events = [
        AuditEvent(
            code=(
                EVENT_RUN_COMPLETED if record.status is RunStatus.COMPLETED else EVENT_RUN_FAILED
            ).code,
            status=Status.SUCCESS if record.status is RunStatus.COMPLETED else Status.FAILURE,
            actor=who,
            resource=resource,
            message=(
                f"masked {_describe(record.source)} into {resource}: {rows_total} rows, "
                f"verification {record.verification.value}"
                if record.status is RunStatus.COMPLETED
                else f"masking run into {resource} failed: {record.error or 'unknown error'}"
            ),
            details=details,
        )
    ]
    if record.verification in (Verification.PASSED, Verification.FAILED):
        passed = record.verification is Verification.PASSED
        events.append(
            AuditEvent(
                code=(EVENT_VERIFY_PASSED if passed else EVENT_VERIFY_FAILED).code,
                status=Status.SUCCESS if passed else Status.FAILURE,
                actor=who,
                resource=resource,
                message=f"verification of run {record.run_id} {record.verification.value}",
                details={
                    "run_id": record.run_id,
                    "plan_sha256": record.plan_sha256,
                    "key_id": record.key_id,
                    **dict(record.verify or {}),
                },
            )
        )
    log = AuditLog(store)
    with store.transaction() as conn:
        index = log.append_many(events, conn=conn)[0]
        conn.execute(
            masking_runs.insert().values(
                run_id=record.run_id,
                status=record.status.value,
                verification=record.verification.value,
                started_at=record.started_at,
                finished_at=record.finished_at,
                duration_s=record.duration_s,
                plan_sha256=record.plan_sha256,
                key_id=record.key_id,
                source=json.dumps(dict(record.source), sort_keys=True),
                target=json.dumps(dict(record.target), sort_keys=True),
                total_rows=rows_total,
                audit_index=index,
                record=json.dumps(data, sort_keys=True, default=str),
            )
        )
    return index


def record_verify(
    store: Store,
    *,
    run_id: str | None,
    plan_sha256: str,
    key_id: str,
    target: Mapping[str, Any],
    summary: Mapping[str, Any],
    passed: bool,
    actor: str | None = None,
) -> int:
    """Append a stand-alone ``masking.verify.passed|failed`` event; its audit index."""
    resource = _describe(target)
    event = AuditEvent(
        code=(EVENT_VERIFY_PASSED if passed else EVENT_VERIFY_FAILED).code,
        status=Status.SUCCESS if passed else Status.FAILURE,
        actor=actor or current_actor(),
        resource=resource,
        message=f"verification of {resource} (run {run_id}) {'passed' if passed else 'failed'}",
        details={
            "run_id": run_id,
            "plan_sha256": plan_sha256,
            "key_id": key_id,
            "target": dict(target),
            **dict(summary),
        },
    )
    return AuditLog(store).append(event)


def list_runs(store: Store, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Recorded runs, newest first, each the full record plus its audit index."""
    q = sa.select(masking_runs.c.record, masking_runs.c.audit_index).order_by(
        masking_runs.c.started_at.desc(), masking_runs.c.run_id
    )
    if limit is not None:
        q = q.limit(limit)
    with store.read() as conn:
        rows = conn.execute(q).all()
    out = []
    for record, index in rows:
        data: dict[str, Any] = json.loads(record)
        data["audit_index"] = index
        out.append(data)
    return out


def _describe(identity: Mapping[str, Any]) -> str:
    if identity.get("backend") == "sqlite":
        return f"sqlite:{identity.get('path')}"
    return (
        f"{identity.get('backend')}://{identity.get('host')}:{identity.get('port')}/"
        f"{identity.get('database')}"
    )


__all__ = [
    "EVENT_RUN_COMPLETED",
    "EVENT_RUN_FAILED",
    "EVENT_VERIFY_FAILED",
    "EVENT_VERIFY_PASSED",
    "MaskingRecord",
    "RunStatus",
    "Verification",
    "audit_details",
    "current_actor",
    "list_runs",
    "masking_runs",
    "record_run",
    "record_verify",
    "transformers_of",
]
