"""Parallel copy workers: one process per job (transformers are CPU-bound Python/NumPy).

Each worker process opens its own source connection inside the run's exported
snapshot and its own target connection, builds the transformers once per table,
and reports progress over a queue. Errors come back as values so the message
and hint survive the process boundary.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import sys
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from stagewall.errors import ALL_ERRORS, MaskingError, MaskingRunStopped, StagewallError
from stagewall.keys import MaskingKey
from stagewall.masking._copy import Mapper, TransformerLike, Unit, copy_unit
from stagewall.masking._known_rows import known_spec
from stagewall.masking._subset import Selection
from stagewall.masking.db import Database, DatabaseURL, open_database
from stagewall.masking.plan import Plan, consistency_salt
from stagewall.masking.schema import Schema


@dataclass(frozen=True)
class Context:
    plan: Plan
    schema: Schema
    key: MaskingKey
    source: DatabaseURL
    target: DatabaseURL
    snapshot: str | None
    batch_rows: int
    factory: Callable[..., TransformerLike] | None
    run_id: str | None = None  # names the mappers a forked worker inherited, if any
    # the source's rare name words the scrubbers replace in any row (engine._learn_names)
    names: dict[str, str] | None = None


_STATE: dict[str, Any] = {}
# Set in the coordinator just before it forks a pool (then cleared there): the
# run's mappers, which the forked workers inherit as they are, caches included.
_INHERITED: dict[str, Any] = {}


def _init(progress: Any, stop: Any = None) -> None:
    """Worker start: import the heavy modules now, while the coordinator prepares.
    ``stop``: the pool's stop flag (an Event the coordinator sets to stop the run)."""
    _STATE.clear()
    _STATE["progress"] = progress
    _STATE["stop"] = stop
    _STATE["mappers"] = {}
    import gc

    import stagewall.masking.transformers  # noqa: F401
    from stagewall.masking._parallel import GC_YOUNG

    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])  # see _parallel.fewer_collections


def _warm() -> None:
    return None


def _pair(ctx: Context) -> tuple[Database, Database]:
    if "pair" not in _STATE:
        src = open_database(ctx.source, role="source")
        src.begin_read(ctx.snapshot)
        tgt = open_database(ctx.target, role="target", read_only=False)
        _STATE["pair"] = (src, tgt)
    pair: tuple[Database, Database] = _STATE["pair"]
    return pair


def build_mapper(
    plan: Plan,
    schema: Schema,
    table: str,
    key: MaskingKey,
    factory: Callable[..., TransformerLike] | None,
    *,
    names: dict[str, str] | None = None,
) -> Mapper:
    if factory is None:
        from stagewall.masking.transformers import build_transformer

        factory = build_transformer
    t = schema.table(table)
    if t is None:  # pragma: no cover - units come from the same schema
        raise StagewallError(f"unknown table {table}")
    built: dict[str, TransformerLike] = {}
    for c in t.columns:
        cp = plan.tables[t.qualified].columns[c.name]
        if cp.transformer != "keep":
            salt = consistency_salt(schema, t.qualified, c.name)
            built[c.name] = factory(cp.transformer, cp.params, key=key, salt=salt)
            learns = getattr(built[c.name], "learn", None)
            if names and learns is not None:
                learns(names)
    return Mapper(t, built, known_spec(plan, schema, t))


def _work(ctx: Context, unit: Unit, sel: Selection) -> tuple[str, int, tuple[str, str, str] | None]:
    q = unit.table.qualified
    try:
        mappers: dict[str, Mapper] = _STATE["mappers"]
        if q not in mappers:
            inherited = _INHERITED.get("mappers") if _INHERITED.get("run") == ctx.run_id else None
            if ctx.run_id is not None and inherited is not None and q in inherited:
                mappers[q] = inherited[q]
            else:
                mappers[q] = build_mapper(
                    ctx.plan, ctx.schema, q, ctx.key, ctx.factory, names=ctx.names
                )
        src, tgt = _pair(ctx)
        progress = _STATE["progress"]
        n = copy_unit(
            src,
            tgt,
            unit,
            mappers[q],
            sel,
            ctx.batch_rows,
            lambda k: progress.put((q, k)),
            _stop_flag_check(_STATE.get("stop")),
        )
        return q, n, None
    except StagewallError as exc:
        return q, 0, (type(exc).__name__, exc.message, exc.hint)


def _stop_flag_check(flag: Any) -> Callable[[], None] | None:
    if flag is None:
        return None

    def check() -> None:
        if flag.is_set():
            raise MaskingRunStopped("the coordinator stopped the run")

    return check


def start_method() -> str:
    """``fork`` where it is safe, else ``spawn``.

    A forked worker starts in milliseconds with every module already imported; a
    spawned one starts a new interpreter and imports NumPy, cryptography and
    psycopg (about half a second). Forking is safe only on Linux and while this
    process runs a single thread (a lock held by another thread at the fork would
    stay locked forever in the child); otherwise workers are spawned.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


class WorkerPool:
    """``jobs`` worker processes, started early so their imports overlap the preparation."""

    def __init__(self, jobs: int, inherit: tuple[str, dict[str, Mapper]] | None = None) -> None:
        """``inherit``: ``(run id, mappers)`` that forked workers take over as they are
        (a spawned worker builds its own)."""
        self.jobs = jobs
        import stagewall.masking.transformers  # noqa: F401  (a forked worker inherits it)

        self.method = start_method()
        mpctx = mp.get_context(self.method)
        self.progress = mpctx.Queue()
        self.stop_flag = mpctx.Event()  # set: every worker stops at its next batch
        self.pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=mpctx,
            initializer=_init,
            initargs=(self.progress, self.stop_flag),
        )
        if inherit is not None and self.method == "fork":
            _INHERITED.update(run=inherit[0], mappers=inherit[1])
        try:  # the first submit forks every worker (all at once for the fork method)
            self._warmups = [self.pool.submit(_warm) for _ in range(jobs)]
        finally:
            _INHERITED.clear()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.progress.close()

    def run(
        self,
        ctx: Context,
        units: list[Unit],
        selection: dict[str, Selection],
        report: Callable[[str], Callable[[int], None]],
        checkpoint: Callable[[], None] | None = None,
        table_done: Callable[[str], None] | None = None,
    ) -> dict[str, int]:
        """Copy ``units``; returns rows per table. ``checkpoint`` (the run's stop check) is
        called every half second while the workers copy; when it raises, the workers
        are told to stop at their next batch and what it raised is raised.
        ``table_done`` is called (in this thread) with each table whose units have all
        been copied, as soon as the last of them is."""
        stop = threading.Event()
        reporters: dict[str, Callable[[int], None]] = {}
        progress = self.progress

        def drain() -> None:
            while not stop.is_set() or not progress.empty():
                try:
                    q, k = progress.get(timeout=0.1)
                except queue.Empty:
                    continue
                if q not in reporters:
                    reporters[q] = report(q)
                reporters[q](k)

        pump = threading.Thread(target=drain, name="sw-mask-progress", daemon=True)
        pump.start()
        rows: dict[str, int] = {}
        left = Counter(u.table.qualified for u in units)  # units not copied yet, per table
        try:
            futures = [self.pool.submit(_work, ctx, u, selection[u.table.qualified]) for u in units]
            pending: set[Future[tuple[str, int, tuple[str, str, str] | None]]] = set(futures)
            while pending:
                done, pending = wait(
                    pending,
                    timeout=None if checkpoint is None else 0.5,
                    # (_work returns its errors: without table_done, this waits for all)
                    return_when=FIRST_EXCEPTION if table_done is None else FIRST_COMPLETED,
                )
                if checkpoint is not None:
                    try:
                        checkpoint()
                    except BaseException:
                        self.stop_flag.set()
                        for other in pending:
                            other.cancel()
                        raise
                for f in done:
                    try:
                        q, n, err = f.result()
                    except BrokenProcessPool:
                        raise MaskingError(
                            "a masking worker process died before finishing its work",
                            hint="a script that calls run() with jobs > 1 must guard its entry "
                            "point with `if __name__ == '__main__':`; or pass "
                            "RunOptions(workers='thread'); check memory limits (OOM killer)",
                        ) from None
                    if err is not None:
                        for other in pending:
                            other.cancel()
                        raise _rebuild(err)
                    rows[q] = rows.get(q, 0) + n
                    left[q] -= 1
                    if not left[q] and table_done is not None:
                        table_done(q)
            self.pool.shutdown(wait=True)  # workers exit: their progress is flushed
        finally:
            stop.set()
            pump.join()
        return rows


def _rebuild(err: tuple[str, str, str]) -> StagewallError:
    name, message, hint = err
    cls = next((c for c in ALL_ERRORS if c.__name__ == name), StagewallError)
    return cls(message, hint=hint)


__all__ = ["Context", "WorkerPool", "build_mapper"]
