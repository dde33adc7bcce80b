"""``mask run``: check everything, then stream source → transform → target.

Order of a run (docs/masking-datapath.md):

1. Refusals that leave the target untouched: bad options, target is the source,
   target is a production resource of ``stagewall.yaml``, source unreachable,
   plan not covering every column or failing lint, unknown transformers or
   params, non-empty target without ``replace``.
2. One read-only snapshot on the source (PostgreSQL: REPEATABLE READ, exported
   and shared by every parallel reader); subset closure computed inside it.
3. Target: completion marker ``running`` first, then tables, data, constraints,
   indexes, sequences, and the marker ``complete`` as the very last write, only while
   the marker is still the run's own ``running`` one (compare-and-set under the
   target's marker lock; else :class:`~stagewall.errors.TargetTakenOver`, SW522).

A caller may pass a stop check (``RunOptions.stop``, the server's masking jobs do): it
is asked after every batch and between the phases, and once it names a reason the run
stops there, leaves every open target transaction to roll back, withdraws what it wrote
(only while the target's marker is still its own) and raises
:class:`~stagewall.errors.MaskingRunStopped`. ``stagewall mask run`` passes none.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from stagewall.errors import (
    BackendError,
    ConfigError,
    LeakNotWithdrawn,
    MaskingError,
    MaskingRunStopped,
    StagewallError,
    TargetTakenOver,
)
from stagewall.keys import MaskingKey
from stagewall.masking._copy import Mapper, TransformerLike, Unit, copy_unit
from stagewall.masking._known_rows import known_spec
from stagewall.masking._preflight import (
    check_documents,
    check_not_production,
    check_not_same,
    check_plan,
    check_schema,
)
from stagewall.masking._progress import Progress, Tracker
from stagewall.masking._references import checked
from stagewall.masking._subset import Selection, SubsetSpec, compute_selection, parse_subset
from stagewall.masking.db import (
    Database,
    DatabaseURL,
    Marker,
    MarkerStatus,
    open_database,
    parse_url,
    read_completion_marker,
)
from stagewall.masking.plan import Plan, consistency_salt
from stagewall.masking.schema import Schema

KEEP = "keep"
TransformerFactory = Callable[..., TransformerLike]
# A run's stop check: None to go on, else the reason to stop (see the module doc).
StopCheck = Callable[[], str | None]
_log = logging.getLogger("stagewall.masking.engine")


@dataclass(frozen=True)
class RunOptions:
    """Options of one run (the CLI maps its flags onto these)."""

    jobs: int = 1
    subset: tuple[SubsetSpec, ...] = ()
    subset_default: Literal["all", "none"] = "all"
    replace: bool = False
    batch_rows: int = 10_000
    progress: Callable[[Progress], None] | None = None
    split_min_pages: int = 1_024  # PostgreSQL tables larger than this (8 MB) are split
    workers: Literal["process", "thread"] = "process"  # how --jobs > 1 runs in parallel
    transformer_factory: TransformerFactory | None = None  # default: the registry
    # asked after every batch (keep it cheap: the server's reads its store every few
    # seconds at most); None: the run is never stopped from outside
    stop: StopCheck | None = None


@dataclass(frozen=True)
class TableResult:
    table: str
    rows: int
    transformers: dict[str, str]  # column → transformer name ("keep" included)


@dataclass(frozen=True)
class RunResult:
    """Everything the masking record needs; never a password or a key."""

    run_id: str
    plan_sha256: str
    key_id: str
    source: dict[str, Any]
    target: dict[str, Any]
    snapshot_id: str | None
    wal_lsn: str | None
    tables: tuple[TableResult, ...]
    started_at: str
    finished_at: str
    duration_seconds: float
    marker_status: MarkerStatus
    jobs: int
    subset: tuple[str, ...] = ()
    values_transformed: int = 0
    # views, functions, triggers: "view public.v", ...; skipped ones with the reason
    objects_created: tuple[str, ...] = ()
    objects_skipped: tuple[tuple[str, str], ...] = ()
    # schema findings the plan acknowledges: (object as shown, what its name holds)
    schema_acknowledged: tuple[tuple[str, str], ...] = ()

    @property
    def rows_per_table(self) -> dict[str, int]:
        return {t.table: t.rows for t in self.tables}

    @property
    def transformer_per_column(self) -> dict[str, str]:
        return {f"{t.table}.{c}": n for t in self.tables for c, n in t.transformers.items()}

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _validate_options(o: RunOptions) -> None:
    if not isinstance(o.jobs, int) or o.jobs < 1 or o.jobs > 64:
        raise ConfigError(f"--jobs must be between 1 and 64, got {o.jobs!r}")
    if o.batch_rows < 1:
        raise ConfigError("batch_rows must be at least 1")
    if o.subset_default not in ("all", "none"):
        raise ConfigError("--subset-default must be 'all' or 'none'")


def _build_transformers(
    plan: Plan, schema: Schema, key: MaskingKey, factory: TransformerFactory | None
) -> dict[str, dict[str, TransformerLike]]:
    if factory is None:
        from stagewall.masking.transformers import build_transformer

        factory = build_transformer
    out: dict[str, dict[str, TransformerLike]] = {}
    for t in schema.tables:
        tplan = plan.tables[t.qualified]
        built: dict[str, TransformerLike] = {}
        for c in t.columns:
            cp = tplan.columns[c.name]
            if cp.transformer == KEEP:
                continue
            salt = consistency_salt(schema, t.qualified, c.name)
            try:
                built[c.name] = factory(cp.transformer, cp.params, key=key, salt=salt)
            except StagewallError as exc:
                raise type(exc)(f"{t.qualified}.{c.name}: {exc.message}", hint=exc.hint) from None
        out[t.qualified] = built
    return out


def _learn_names(
    plan: Plan,
    schema: Schema,
    src: Database,
    transformers: dict[str, dict[str, TransformerLike]],
    batch_rows: int,
    stopper: Stopper | None = None,
    key: MaskingKey | None = None,
) -> dict[str, str]:
    """Teach the scrubbers the source's rare name words (read once, in the run's
    snapshot: :func:`._namewords.learn`), so another row's surname no name list
    knows, or a street's rare name (``Ganthriv`` of ``Ganthrivweg 14``), is replaced
    in any row's text and documents, as verify searches it. The
    run's stop check is asked after each batch read (nothing is written yet).
    And another customer's identifiers (:func:`._otherids.learn_ids`), which the
    scrubbers star out of any row's text, as verify searches them."""
    learners = [tr for trs in transformers.values() for tr in trs.values() if hasattr(tr, "learn")]
    if not learners:
        return {}
    from stagewall.masking._namewords import learn
    from stagewall.masking._otherids import learn_ids

    words = learn(plan, schema, src, batch_rows, stopper)
    if key is not None:
        words.ids = learn_ids(plan, schema, src, key, batch_rows, stopper)
    if words:
        for tr in learners:
            tr.learn(words)
    return words


def _probe_target(url: DatabaseURL) -> list[str]:
    """User tables already in the target, without changing it."""
    if url.backend == "sqlite" and (url.path is None or not url.path.exists()):
        return []
    with open_database(url, role="target", read_only=True) as db:
        return db.user_tables()


class Stopper:
    """A stop check shared by a run's copying threads (or verify's reads) and latched:
    once it names a reason, every thread stops at its next batch (calls are serialised:
    one check at a time, whatever the number of threads)."""

    def __init__(self, check: StopCheck, what: str = "the run") -> None:
        self._check = check
        self._what = what
        self._lock = threading.Lock()
        self.reason: str | None = None
        self.touched = False  # the run wrote its marker to the target

    def __call__(self) -> None:
        if self.reason is None:
            with self._lock:
                if self.reason is None:
                    self.reason = self._check() or None
        if self.reason is not None:
            raise MaskingRunStopped(f"{self._what} was told to stop: {self.reason}")


def _checkpoint(stopper: Stopper | None) -> None:
    if stopper is not None:
        stopper()


class _Workers:
    """Thread-local source/target connections for parallel PostgreSQL copies."""

    def __init__(self, src_url: DatabaseURL, tgt_url: DatabaseURL, snapshot: str | None) -> None:
        self.src_url, self.tgt_url, self.snapshot = src_url, tgt_url, snapshot
        self.local = threading.local()
        self.opened: list[Database] = []
        self.lock = threading.Lock()

    def pair(self) -> tuple[Database, Database]:
        if not hasattr(self.local, "pair"):
            src = open_database(self.src_url, role="source")
            src.begin_read(self.snapshot)
            tgt = open_database(self.tgt_url, role="target", read_only=False)
            with self.lock:
                self.opened += [src, tgt]
            self.local.pair = (src, tgt)
        pair: tuple[Database, Database] = self.local.pair
        return pair

    def close(self) -> None:
        for db in self.opened:
            with contextlib.suppress(Exception):
                db.close()


def run(
    plan: Plan,
    source_url: str | DatabaseURL,
    target_url: str | DatabaseURL,
    key: MaskingKey,
    options: RunOptions | None = None,
) -> RunResult:
    """Mask ``source_url`` into ``target_url`` following ``plan``; see the module doc."""
    opts = options or RunOptions()
    _validate_options(opts)
    src_url = source_url if isinstance(source_url, DatabaseURL) else parse_url(source_url, "source")
    tgt_url = target_url if isinstance(target_url, DatabaseURL) else parse_url(target_url, "target")
    check_not_same(src_url, tgt_url)
    check_not_production(tgt_url)
    started, t0 = _now(), time.monotonic()
    run_id = uuid.uuid4().hex
    pool = None
    if _parallel(opts, src_url.backend, tgt_url.backend) and opts.workers == "process":
        from stagewall.masking._workers import WorkerPool, start_method

        # Spawned workers start now (their imports overlap introspection and lint);
        # forked ones later, in _copy_all, so they inherit the transformers built here.
        if start_method() != "fork":
            pool = WorkerPool(opts.jobs)
    from stagewall.masking._parallel import fewer_collections

    stopper = Stopper(opts.stop) if opts.stop is not None else None
    try:
        with fewer_collections():
            return _run(plan, src_url, tgt_url, key, opts, pool, run_id, started, t0, stopper)
    except MaskingRunStopped:
        if stopper is None or stopper.reason is None:
            raise  # not this run's stop check (cannot happen; never swallowed)
        stopped = stopper
    finally:
        if pool is not None:
            pool.close()  # its processes stop at their next batch (the stop flag is set)
    # every connection of the run is closed now (open transactions rolled back)
    raise stopped_error(tgt_url, run_id, str(stopped.reason), touched=stopped.touched)


def stopped_error(
    target_url: str | DatabaseURL,
    run_id: str,
    reason: str,
    *,
    touched: bool = True,
    verifying: bool = False,
) -> MaskingRunStopped:
    """The error of a run stopped by its stop check, after withdrawing its copy of
    ``target_url`` (only while the target's marker is still ``run_id``'s).
    ``verifying``: it was stopped while it verified its complete copy (which is
    withdrawn too: a copy nobody verified is not left looking complete)."""
    copy = "unverified copy" if verifying else "partial copy"
    if not touched:
        done, withdrawn = "it had not written to the target", None
    else:
        try:
            withdrawn = withdraw(target_url, only_run=run_id)
        except Exception as exc:  # the error must still say what is left
            _log.error("a stopped masking run's partial copy could not be dropped")
            done, withdrawn = (
                f"its {copy} could NOT be withdrawn ({type(exc).__name__}): treat the "
                "target as failed until the next run completes",
                None,
            )
        else:
            done = (
                f"its {copy} was withdrawn (tables dropped, marker failed)"
                if withdrawn
                else "another run has written the target since; that run's copy stands"
            )
    if verifying:
        what = f"during verification ({reason}); it was not verified"
    else:
        what = f"mid-copy ({reason}); nothing was marked complete"
    return MaskingRunStopped(
        f"masking run {run_id} stopped {what}: {done}",
        run_id=run_id if touched else None,
        withdrawn=withdrawn,
        verifying=verifying,
    )


def _parallel(opts: RunOptions, source_backend: str, target_backend: str) -> bool:
    return opts.jobs > 1 and source_backend == "postgresql" and target_backend != "sqlite"


def _run(
    plan: Plan,
    src_url: DatabaseURL,
    tgt_url: DatabaseURL,
    key: MaskingKey,
    opts: RunOptions,
    pool: Any,
    run_id: str,
    started: str,
    t0: float,
    stopper: Stopper | None = None,
) -> RunResult:
    with open_database(src_url, role="source") as src:
        from stagewall.masking.lint import scoped_schema

        schema = scoped_schema(plan, src.introspect(plan.schemas))
        if not plan.tables or not schema.tables:
            raise ConfigError(
                f"nothing to copy: the plan names no tables of {src_url.display}",
                hint="point --source at the database the plan was made for, or make a "
                "plan with `stagewall mask plan`",
            )
        check_plan(plan, schema)
        check_documents(plan, schema, tgt_url.backend)
        acknowledged = check_schema(src, plan, schema, tgt_url.backend)
        transformers = _build_transformers(plan, schema, key, opts.transformer_factory)
        existing = _probe_target(tgt_url)
        if existing and not opts.replace:
            shown = ", ".join(existing[:5]) + (" …" if len(existing) > 5 else "")
            raise ConfigError(
                f"the target {tgt_url.display} is not empty ({len(existing)} tables: {shown})",
                hint="give an empty database, or pass --replace to drop its tables first",
            )
        src.begin_read()
        snapshot, lsn = src.export_snapshot()
        # the references the schema does not declare, checked in this snapshot (the
        # schema the workers, text_scrub's known values and the name pass are given)
        schema = checked(src, schema)
        names = _learn_names(plan, schema, src, transformers, opts.batch_rows, stopper, key)
        if opts.subset:
            selection = compute_selection(src, schema, opts.subset, opts.subset_default)
        else:
            selection = {t.qualified: Selection("all") for t in schema.tables}
        marker = Marker(
            run_id,
            MarkerStatus.RUNNING,
            plan.sha256(),
            key.key_id,
            started,
            None,
            json.dumps(src_url.identity(), sort_keys=True),
        )
        _checkpoint(stopper)  # before the target is touched
        with open_database(tgt_url, role="target", read_only=False) as tgt:
            try:
                if stopper is not None:
                    stopper.touched = True
                with tgt.marker_lock():  # never between a withdrawal's check and drop
                    tgt.write_marker(marker)
                if opts.replace:  # tables or not: a failed run may have left types
                    tgt.drop_all()
                if isinstance(getattr(tgt, "acknowledged", None), frozenset):
                    tgt.acknowledged = frozenset(plan.acknowledged)  # type: ignore[attr-defined]
                _create(src, tgt, schema)
                job = _Job(
                    plan, key, schema, transformers, selection, snapshot, opts, pool, stopper,
                    names,
                )  # fmt: skip
                rows, values, (built, linked) = _copy_all(src, tgt, job)
                _checkpoint(stopper)
                recompute_fulltext(plan, schema, tgt)
                if built:  # (PostgreSQL targets only) keys built during the copy
                    tgt.finish_tables(  # type: ignore[call-arg]
                        schema, opts.jobs, built=built, linked=linked
                    )
                else:
                    tgt.finish_tables(schema, opts.jobs)
                _checkpoint(stopper)
                created, skipped = _derived_objects(src, tgt, plan.acknowledged)
                _checkpoint(stopper)  # the last chance: complete is the very last write
                finished = _now()
                _mark_complete(tgt, marker, finished)
            except BaseException:
                _mark_own_failed(tgt, marker)
                raise
    tables = tuple(
        TableResult(
            t.qualified,
            rows.get(t.qualified, 0),
            {c.name: plan.tables[t.qualified].columns[c.name].transformer for c in t.columns},
        )
        for t in schema.tables
    )
    return RunResult(
        run_id=run_id,
        plan_sha256=plan.sha256(),
        key_id=key.key_id,
        source=dict(src_url.identity()),
        target=dict(tgt_url.identity()),
        snapshot_id=snapshot,
        wal_lsn=lsn,
        tables=tables,
        started_at=started,
        finished_at=finished,
        duration_seconds=round(time.monotonic() - t0, 3),
        marker_status=MarkerStatus.COMPLETE,
        jobs=opts.jobs,
        subset=tuple(str(s) for s in opts.subset),
        values_transformed=values,
        objects_created=tuple(created),
        objects_skipped=tuple(skipped),
        schema_acknowledged=tuple(acknowledged),
    )


def _mark_complete(tgt: Database, marker: Marker, finished: str) -> None:
    """Mark the copy complete only while the target's marker is still this run's own
    ``running`` one (compare-and-set under the marker lock, which withdrawals and
    other runs' first marker writes take too). A withdrawal (``failed``) or another
    run's marker written since stands: the run fails with SW522 instead."""
    with tgt.marker_lock():
        current = tgt.read_marker()
        if (
            current is None
            or current.run_id != marker.run_id
            or current.status is not MarkerStatus.RUNNING
        ):
            found = (
                "no marker"
                if current is None
                else f"run {current.run_id}'s marker ({current.status.value})"
                if current.run_id != marker.run_id
                else f"its own marker {current.status.value} (withdrawn meanwhile)"
            )
            raise TargetTakenOver(
                f"masking run {marker.run_id} did not mark {tgt.url.display} complete: the "
                f"target holds {found}, not the run's own running marker",
                run_id=marker.run_id,
                started_at=marker.started_at,
            )
        tgt.write_marker(
            Marker(
                marker.run_id,
                MarkerStatus.COMPLETE,
                marker.plan_sha256,
                marker.key_id,
                marker.started_at,
                finished,
                marker.source,
            )
        )


def withdraw(target_url: str | DatabaseURL, *, only_run: str | None = None) -> bool:
    """Drop every table of a finished copy that did not verify clean, and mark it failed.

    Verify found source values in the target, which non-production users read: the copy
    is taken away (the next run replaces the target anyway) and its marker says
    ``failed``, so nothing takes it for a masked copy. The run's record and the verify
    report (counts, never values) stay in the audit log.

    With ``only_run``, the copy is withdrawn only while the target's marker still names
    that run (a superseded run's copy: once another run has written its marker, the
    target is that run's, and is left to it). Returns whether it was withdrawn.

    The check, the drop and the ``failed`` marker happen under the target's marker lock,
    which a run also takes to write its marker: a run starting meanwhile writes its
    marker after the drop, never between the check and the drop. A lock not free in
    time raises :class:`TargetMarkerLocked` (SW872) with nothing dropped.
    """
    return _withdraw(target_url, only_run)[0]


def withdraw_leak(target_url: str | DatabaseURL, run_id: str, plan_sha256: str) -> None:
    """Withdraw the copy of run ``run_id`` (plan ``plan_sha256``) that verify found
    holding source values: as :func:`withdraw` with ``only_run``, under the marker lock.

    Fails closed: when the target's marker no longer names that run and plan (another
    run took the target, or the marker is gone), nothing is dropped or written and
    :class:`LeakNotWithdrawn` (SW523) says what the marker holds; the caller must treat
    the target as holding production data.
    """
    done, found = _withdraw(target_url, run_id, plan_sha256)
    if done:
        return
    url = target_url if isinstance(target_url, DatabaseURL) else parse_url(target_url, "target")
    holds = (
        "has no masking marker"
        if found is None
        else f"is marked by run {found.run_id} ({found.status.value}, plan "
        f"{found.plan_sha256[:12]})"
    )
    raise LeakNotWithdrawn(
        f"the copy of masking run {run_id} that did not verify clean was NOT withdrawn: "
        f"{url.display} {holds} now, not by that run; nothing was dropped"
    )


def _withdraw(
    target_url: str | DatabaseURL, only_run: str | None, plan_sha256: str | None = None
) -> tuple[bool, Marker | None]:
    """:func:`withdraw`: whether it withdrew, and the marker it found."""
    url = target_url if isinstance(target_url, DatabaseURL) else parse_url(target_url, "target")
    with open_database(url, role="target", read_only=False) as tgt, tgt.marker_lock():
        marker = tgt.read_marker()
        if only_run is not None and (
            marker is None
            or marker.run_id != only_run
            or (plan_sha256 is not None and marker.plan_sha256 != plan_sha256)
        ):
            return False, marker
        tgt.drop_all()
        if marker is not None:
            _mark_failed(tgt, marker)
    return True, marker


def _mark_own_failed(tgt: Database, marker: Marker) -> None:
    """A failed run's marker says ``failed`` only while it is still the run's own: a
    next run's marker written meanwhile is left alone (else a withdrawal of the failed
    run would then find "its" marker and drop the next run's tables)."""
    with contextlib.suppress(Exception), tgt.marker_lock():
        current = tgt.read_marker()
        if current is not None and current.run_id == marker.run_id:
            _mark_failed(tgt, marker)


def _mark_failed(tgt: Database, marker: Marker) -> None:
    # Best effort: if this fails too, the marker still says "running" (not complete).
    with contextlib.suppress(Exception):
        tgt.write_marker(
            Marker(
                marker.run_id,
                MarkerStatus.FAILED,
                marker.plan_sha256,
                marker.key_id,
                marker.started_at,
                _now(),
                marker.source,
            )
        )


def recompute_fulltext(plan: Plan, schema: Schema, tgt: Database) -> None:
    """PostgreSQL target: every ``tsvector``-planned column that names its source
    columns is set to ``to_tsvector`` over the masked values of those columns (the
    copy left it empty). Triggers are created after this, so none fires twice."""
    from stagewall.masking.db._postgres import PostgresDatabase

    if not isinstance(tgt, PostgresDatabase):
        return  # other targets have no tsvector type: the column stays empty
    for t in schema.tables:
        for c in t.columns:
            cp = plan.tables[t.qualified].columns[c.name]
            if cp.transformer == "tsvector" and cp.params.get("columns"):
                tgt.recompute_fulltext(
                    t, c.name, cp.params["columns"], cp.params.get("config", "simple")
                )


def _derived_objects(
    src: Database, tgt: Database, acknowledged: Collection[str] = ()
) -> tuple[list[str], list[tuple[str, str]]]:
    """PostgreSQL → PostgreSQL: views and triggers over the masked tables (and the
    functions created before them); MySQL/MariaDB → MySQL/MariaDB: routines, views
    and triggers."""
    from stagewall.masking._definitions import definitions
    from stagewall.masking._schemanames import DERIVED_DEFINITIONS, recreates_derived
    from stagewall.masking.db._mysql import MySQLDatabase
    from stagewall.masking.db._postgres import PostgresDatabase

    if isinstance(src, PostgresDatabase) and isinstance(tgt, PostgresDatabase):
        return tgt.create_derived_objects()
    if isinstance(src, MySQLDatabase) and isinstance(tgt, MySQLDatabase):
        from stagewall.masking.db._mysql_objects import create_objects, read_objects

        return create_objects(tgt, read_objects(src), acknowledged)
    if recreates_derived(src.backend, tgt.backend):  # pragma: no cover - one predicate
        raise MaskingError(f"{src.backend} → {tgt.backend}: views and triggers not copied")
    # no copy recreates them: said, not dropped without a word (nor judged: lint)
    why = f"a {src.backend} → {tgt.backend} copy recreates tables, not views, triggers or comments"
    labels = {o for o, _, _ in definitions(src) if o.split(" ", 1)[0] in DERIVED_DEFINITIONS}
    return [], [(label, why) for label in sorted(labels)]


def _create(src: Database, tgt: Database, schema: Schema) -> None:
    from stagewall.masking.db._postgres import PostgresDatabase
    from stagewall.masking.db._sqlite import SQLiteDatabase

    if isinstance(src, PostgresDatabase) and isinstance(tgt, PostgresDatabase) and src.ddl:
        tgt.use_source_ddl(src.ddl)
    if isinstance(src, SQLiteDatabase) and isinstance(tgt, SQLiteDatabase):
        tgt.create_same_backend(src.same_backend_ddl())
        return
    same = getattr(src, "same_backend_ddl", None)
    if src.backend == tgt.backend and same is not None and hasattr(tgt, "use_source_ddl"):
        tgt.use_source_ddl(same())
    tgt.create_tables(schema, ())


# Large PostgreSQL tables are split into this many ranges per job: smaller units
# keep every worker busy to the end (the last unit of a run is the idle tail).
UNITS_PER_JOB = 2
# A column whose transformer reads the row's known values (text_scrub, json_mask)
# costs about this many plain pseudonym columns per row.
KNOWN_COLUMN_COST = 8


def _plan_units(
    src: Database,
    schema: Schema,
    sel: dict[str, Selection],
    jobs: int,
    min_pages: int,
    mappers: dict[str, Mapper],
) -> list[Unit]:
    """The copy's units, costliest first (rows times masked columns, free text heavier),
    so the workers pick them longest-first and finish together; but a table that
    others reference goes before them (:func:`_key_levels`), whatever its cost.

    Parents first: a table's foreign keys are checked (:class:`_EarlyKeys`) once its
    own copy and the keys of every table it references are done, and the keys of a
    table copied last are built after the copy, while a core is idle. Copied first,
    the referenced tables' keys (a large table's unique indexes) are built while the
    others are still copied, and what is left after the last unit is that unit's
    own table's keys. The last units are still the cheapest ones of the last level."""
    from stagewall.masking.db._postgres import PostgresDatabase

    level = _key_levels(schema)
    costed: list[tuple[int, float, Unit]] = []
    for t in sorted(schema.tables, key=lambda t: -(t.row_estimate or 0)):
        if isinstance(src, PostgresDatabase) and jobs > 1 and sel[t.qualified].mode == "all":
            ranges = src.ranges(t, jobs * UNITS_PER_JOB, min_pages)
        else:
            ranges = [None]
        m = mappers[t.qualified]
        weight = 1 + len(m.by_index) + (KNOWN_COLUMN_COST - 1) * len(m.consumers)
        cost = max(t.row_estimate or 0, 0) * weight / len(ranges)
        lv = level[t.qualified]
        costed += [(lv, cost, Unit(t, w, i, len(ranges))) for i, w in enumerate(ranges)]
    costed.sort(key=lambda cu: (cu[0], -cu[1]))  # stable: a table's ranges stay in order
    return [u for _, _, u in costed]


def _key_levels(schema: Schema) -> dict[str, int]:
    """Per table, how deep it sits under the tables it references: 0 for a table
    whose foreign keys reference no other table of ``schema`` (only itself, or tables
    not copied), else one more than the deepest table it references. A reference
    that closes a cycle is not followed (the levels then depend on where the walk
    entered the cycle: an order of copying, nothing more)."""
    names = {t.qualified for t in schema.tables}
    refs: dict[str, list[str]] = {}
    for t in schema.tables:
        out = []
        for fk in t.foreign_keys:
            ref = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
            if ref != t.qualified and ref in names:
                out.append(ref)
        refs[t.qualified] = out
    level: dict[str, int] = {}
    on_path: set[str] = set()
    for root in refs:
        if root in level:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]  # (table, next reference to look at)
        on_path.add(root)
        while stack:
            q, i = stack[-1]
            if i < len(refs[q]):
                stack[-1] = (q, i + 1)
                r = refs[q][i]
                if r not in level and r not in on_path:
                    on_path.add(r)
                    stack.append((r, 0))
                continue
            stack.pop()
            on_path.discard(q)
            level[q] = max((level[r] + 1 for r in refs[q] if r in level), default=0)
    return level


@dataclass(frozen=True)
class _Job:
    plan: Plan
    key: MaskingKey
    schema: Schema
    transformers: dict[str, dict[str, TransformerLike]]
    selection: dict[str, Selection]
    snapshot: str | None
    opts: RunOptions
    pool: Any = None  # a started WorkerPool when --jobs runs in processes
    stopper: Stopper | None = None
    # the source's rare name words the scrubbers learnt (_learn_names): a spawned
    # worker builds its transformers again and teaches them these
    names: dict[str, str] | None = None


def _copy_all(
    src: Database, tgt: Database, job: _Job
) -> tuple[dict[str, int], int, tuple[frozenset[str], frozenset[str]]]:
    """Copy every unit; rows per table, values transformed, and the tables whose keys
    and indexes, and those whose foreign keys, were built during the copy
    (:class:`_EarlyKeys`)."""
    opts, schema, selection = job.opts, job.schema, job.selection
    total = sum(
        (n if (n := selection[t.qualified].count()) is not None else (t.row_estimate or 0))
        for t in schema.tables
        if selection[t.qualified].mode != "none"
    )
    tracker = Tracker(opts.progress, total or None)
    mappers = {
        t.qualified: Mapper(t, job.transformers[t.qualified], known_spec(job.plan, schema, t))
        for t in schema.tables
    }
    shared: dict[tuple[object, ...], Any] = {}  # a related table is read once per run
    for m in mappers.values():
        if m.known is not None:
            m.known.shared = shared
    parallel = _parallel(opts, src.backend, tgt.backend)
    units = _plan_units(
        src, schema, selection, opts.jobs if parallel else 1, opts.split_min_pages, mappers
    )

    def values_of(rows: dict[str, int]) -> int:
        return sum(n * len(mappers[q].by_index) for q, n in rows.items())

    if parallel and opts.workers == "process":
        rows, built = _copy_in_processes(src, tgt, job, units, mappers, tracker)
        return rows, values_of(rows), built

    rows = {}

    def one(unit: Unit, s: Database, d: Database) -> tuple[str, int]:
        q = unit.table.qualified
        n = copy_unit(
            s,
            d,
            unit,
            mappers[q],
            selection[q],
            opts.batch_rows,
            tracker.reporter(q),
            job.stopper,
        )
        return q, n

    def add(q: str, n: int) -> None:
        rows[q] = rows.get(q, 0) + n

    if not parallel:
        for unit in units:
            add(*one(unit, src, tgt))
        return rows, values_of(rows), (frozenset(), frozenset())
    workers = _Workers(src.url, tgt.url, job.snapshot)
    try:
        with ThreadPoolExecutor(max_workers=opts.jobs, thread_name_prefix="sw-mask") as pool:
            futures: list[Future[tuple[str, int]]] = [
                pool.submit(lambda u: one(u, *workers.pair()), u) for u in units
            ]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in done if f.exception() is not None]
            if failed:
                for f in futures:
                    f.cancel()
                exc = failed[0].exception()
                if exc is not None:
                    raise exc
            for f in futures:
                add(*f.result())
    finally:
        workers.close()
    return rows, values_of(rows), (frozenset(), frozenset())


def _copy_in_processes(
    src: Database,
    tgt: Database,
    job: _Job,
    units: list[Unit],
    mappers: dict[str, Mapper],
    tracker: Tracker,
) -> tuple[dict[str, int], tuple[frozenset[str], frozenset[str]]]:
    """``units`` copied by worker processes; rows per table, and the tables whose keys,
    and those whose foreign keys, were built meanwhile (a PostgreSQL target:
    :class:`_EarlyKeys`).

    Without a spawned pool from :func:`run`, the workers are forked here, after the
    transformers (name dictionaries, lookup tables) and the related rows that
    ``text_scrub`` reads were built once in this process: every worker inherits
    them instead of building its own.
    """
    from stagewall.masking._workers import Context, WorkerPool

    opts = job.opts
    run_id = uuid.uuid4().hex
    pool = job.pool
    if pool is None:
        for q, m in mappers.items():
            if job.selection[q].mode != "none":
                m.prepare(src, opts.batch_rows, job.stopper)
        pool = WorkerPool(opts.jobs, inherit=(run_id, mappers))
    ctx = Context(
        job.plan,
        job.schema,
        job.key,
        src.url,
        tgt.url,
        job.snapshot,
        opts.batch_rows,
        opts.transformer_factory,
        run_id,
        job.names,
    )
    from stagewall.masking.db._postgres import PostgresDatabase

    early = _EarlyKeys(tgt, job.schema, opts.jobs) if isinstance(tgt, PostgresDatabase) else None
    finished = False
    try:
        rows: dict[str, int] = pool.run(
            ctx,
            units,
            job.selection,
            tracker.reporter,
            checkpoint=job.stopper,
            table_done=early.table_done if early is not None else None,
        )
        finished = True
    finally:
        try:
            built = early.close(finished) if early is not None else (frozenset(), frozenset())
        finally:
            if pool is not job.pool:
                pool.close()
    return rows, built


class _EarlyKeys:
    """The keys and indexes of each table whose copy is done, built on target
    connections of their own while the workers still copy the other tables
    (:meth:`PostgresDatabase.early_keys`: plain tables; sequences and the other
    tables' keys wait for ``finish_tables``). The same statements as
    ``finish_tables`` runs, only sooner: the keys of the first tables copied no
    longer wait for the last table's copy, nor for each other after it.

    A table's foreign keys follow as soon as its keys and those of every table they
    reference are built (:meth:`PostgresDatabase.early_foreign_keys`): each
    referenced table's copy is done by then, so a key is checked against the same
    rows as after the copy, and the largest tables' checks no longer wait for the
    last table's copy. As ``finish_tables`` does with more than one connection, a
    foreign key is added ``NOT VALID`` and then validated (the same constraint,
    checked against every row), so two tables' checks against one referenced
    table do not wait for each other's.

    Up to ``jobs`` connections build at once (a table's own statements stay in
    order on one of them, its foreign keys after its keys): after the
    last table's copy, its keys and the foreign keys still to check no longer wait
    in line behind each other while a core is idle. A statement that deadlocks with
    another connection's (an index expression calling a function that reads another
    table) is run again, with the rest of its table's statements, alone once the
    others are done (as ``finish_tables`` does). A failed statement (a key the
    masked rows break) is raised by :meth:`close` once the copy is done, as
    ``finish_tables`` would have raised it; a target that refuses one more
    connection builds on fewer, or leaves every table to ``finish_tables``.
    """

    def __init__(self, tgt: Any, schema: Schema, jobs: int = 1) -> None:
        self._tgt = tgt
        self._tables = {t.qualified: t for t in schema.tables}
        self._jobs = max(1, min(jobs, len(schema.tables)))
        self._queue: queue.SimpleQueue[tuple[str, str, list[str]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._dbs: list[Any] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._outstanding = 0  # builds queued or running
        self._skip = False  # stopped, failed, or no connection: build no more
        self._built: set[str] = set()
        self._linked: set[str] = set()  # tables whose foreign keys were built too
        self._scheduled: set[str] = set()  # tables whose foreign keys are queued or built
        # statements that deadlocked, with the rest of their table's: (kind, table, them)
        self._retry: list[tuple[str, str, list[str]]] = []
        self._error: BaseException | None = None
        # table → the tables whose foreign keys reference it (looked at when it is built)
        self._referrers: dict[str, list[str]] = {}
        for t in schema.tables:
            for fk in t.foreign_keys:
                ref = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
                self._referrers.setdefault(ref, []).append(t.qualified)

    def table_done(self, q: str) -> None:
        statements = self._tgt.early_keys(self._tables[q])
        if not statements or self._skip:
            return
        if not self._threads and not self._start():
            return
        with self._lock:
            self._put(("keys", q, statements))

    def _put(self, item: tuple[str, str, list[str]]) -> None:
        """(Under the lock) queue a build."""
        self._outstanding += 1
        self._queue.put(item)

    def _start(self) -> bool:
        """Open the connections and start their threads; False: none could be opened."""
        from stagewall.masking.db._postgres import PostgresDatabase

        for _ in range(self._jobs):
            try:
                self._dbs.append(PostgresDatabase(self._tgt.url, self._tgt.role, False))
            except StagewallError:  # the connection limit: build on fewer
                break
        if not self._dbs:
            self._skip = True  # finish_tables builds everything
            return False
        for i, db in enumerate(self._dbs):
            th = threading.Thread(target=self._work, args=(db,), name=f"sw-early-keys-{i}")
            th.daemon = True
            th.start()
            self._threads.append(th)
        return True

    def _ready_links(self, built: str) -> list[tuple[str, str, list[str]]]:
        """(Under the lock) the foreign keys, once ``built``'s keys are, of ``built``
        and of the built tables referencing it, where every table they reference is
        built."""
        out = []
        for q in dict.fromkeys([built, *self._referrers.get(built, ())]):
            if q not in self._built or q in self._scheduled:
                continue
            t = self._tables[q]
            statements = self._tgt.early_foreign_keys(t, self._built)
            if statements is None:
                continue
            self._scheduled.add(q)
            out.append(("links", q, statements))
        return out

    def _run(self, db: Any, kind: str, q: str, statements: list[str]) -> bool:
        """``statements`` of table ``q`` on ``db``; False if one deadlocked (it and the
        rest are left to :meth:`close`)."""
        import psycopg

        t = self._tables[q]
        for i, stmt in enumerate(statements):
            try:
                db.build_keys(t, [stmt])
            except BackendError as exc:
                if isinstance(exc.__context__, psycopg.errors.DeadlockDetected):
                    with self._lock:
                        self._retry.append((kind, q, statements[i:]))
                    return False
                raise
        return True

    def _done(self, kind: str, q: str) -> None:
        with self._lock:
            if kind == "keys":
                self._built.add(q)
                for item in self._ready_links(q):
                    self._put(item)
            else:
                self._linked.add(q)

    def _work(self, db: Any) -> None:
        while (item := self._queue.get()) is not None:
            try:
                if self._skip:
                    continue
                kind, q, statements = item
                if self._run(db, kind, q, statements):
                    self._done(kind, q)
            except BaseException as exc:
                with self._lock:
                    if self._error is None:
                        self._error = exc
                self._skip = True
            finally:
                with self._idle:
                    self._outstanding -= 1
                    self._idle.notify_all()

    def close(self, copied: bool) -> tuple[frozenset[str], frozenset[str]]:
        """Wait for the builds under way (after a failed or stopped copy, none more
        starts), then run what deadlocked, alone; the tables whose keys were built,
        and those whose foreign keys were. Raises a build's error when the copy
        succeeded."""
        try:
            if self._threads:
                if not copied:
                    self._skip = True
                # a build may queue more (a table's foreign keys): wait until none is
                # queued or running before telling the threads to stop
                with self._idle:
                    self._idle.wait_for(lambda: self._outstanding == 0)
                for _ in self._threads:
                    self._queue.put(None)
                for th in self._threads:
                    th.join()
            if copied and self._error is None and self._retry and self._dbs:
                self._retry_alone()
        finally:
            for db in self._dbs:
                with contextlib.suppress(Exception):
                    db.close()
        if copied and self._error is not None:
            raise self._error
        return frozenset(self._built), frozenset(self._linked)

    def _retry_alone(self) -> None:
        """The statements that deadlocked, with the rest of their tables', one after
        the other on one connection (nothing else builds now)."""
        db = self._dbs[0]
        for kind, q, statements in self._retry:
            db.build_keys(self._tables[q], statements)
            (self._built if kind == "keys" else self._linked).add(q)


def parse_subsets(specs: Sequence[str]) -> tuple[SubsetSpec, ...]:
    return tuple(parse_subset(s) for s in specs)


__all__ = [
    "Progress",
    "RunOptions",
    "RunResult",
    "StopCheck",
    "Stopper",
    "SubsetSpec",
    "TableResult",
    "parse_subset",
    "parse_subsets",
    "read_completion_marker",
    "run",
    "stopped_error",
    "withdraw",
    "withdraw_leak",
]
