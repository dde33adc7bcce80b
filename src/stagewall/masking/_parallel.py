"""Verify's parallel parts: tables split for workers, and forked workers that share
what the coordinator built (hash sets, lookups) without copying it.

Workers are forked (see :func:`~stagewall.masking._workers.start_method`), so the
large read-only structures built before the fork are shared copy-on-write. A part
is a table, or one range of it: ctid ranges on PostgreSQL, ``ABS(key) % jobs``
for a single integer primary key elsewhere. Errors come back as messages so a
worker's failure surfaces as a :class:`MaskingError`, never as a traceback.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any, TypeVar

from stagewall.errors import MaskingError, MaskingRunStopped, StagewallError
from stagewall.masking.schema import Table
from stagewall.masking.types import ColumnKind

SPLIT_MIN_PAGES = 128  # PostgreSQL tables of at least 1 MB are split in ctid ranges
SHARED: dict[str, Any] = {}
T = TypeVar("T")
R = TypeVar("R")


# Young objects allowed before the cyclic collector runs while batches are built.
# A batch makes tens of thousands of tuples and lists that live until the next
# batch; with the default (700) the collector ran every few hundred of them and
# walked every live batch object again and again: 15-25 % of mask run's and
# verify's CPU time on the bench dataset. Batches hold no reference cycles, so
# collecting less often changes nothing but the time spent.
GC_YOUNG = 100_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with the cyclic collector's first threshold at :data:`GC_YOUNG`
    (restored afterwards); forked workers inherit it."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], GC_YOUNG), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def can_fork(jobs: int) -> bool:
    from stagewall.masking._workers import start_method

    return jobs > 1 and start_method() == "fork"


def split(db: Any, table: Table, jobs: int) -> list[str | None]:
    """``table`` in up to ``jobs`` parts, as WHERE conditions (``[None]``: whole)."""
    ranges = getattr(db, "ranges", None)
    if ranges is not None:
        parts: list[str | None] = ranges(table, jobs, SPLIT_MIN_PAGES)
        return parts
    pk = table.column(table.primary_key[0]) if len(table.primary_key) == 1 else None
    if pk is None or pk.kind is not ColumnKind.INTEGER:
        return [None]
    q = db.q(pk.name)
    return [f"ABS({q}) % {jobs} = {i}" for i in range(jobs)]


def largest_first(tables: Sequence[Table], size: Callable[[Table], int]) -> list[Table]:
    """``tables`` by ``size`` (an estimate of the work of reading one: rows times
    columns), the largest first, equal sizes in their order. Workers take parts in
    the order they are submitted: the last part taken decides when all are done,
    so the small ones go last, where they even out what the workers have left."""
    return sorted(tables, key=lambda t: -size(t))


def _call(fn: Callable[[T], R], item: T) -> tuple[R | None, str | None]:
    try:
        return fn(item), None
    except StagewallError as exc:
        return None, exc.message


def forked(
    fn: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    shared: dict[str, Any],
    done: Callable[[R], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[R]:
    """``fn`` over ``items`` in ``jobs`` forked processes that see ``shared`` (as
    :data:`SHARED`); results in the order of ``items``. ``fn`` must be a module-level
    function. ``done`` is called in this process as each result arrives, in order.
    ``meanwhile`` runs in this process while the workers work (work of its own that
    needs none of their results)."""
    with pool(jobs, shared) as work:
        futures = work.submit(fn, items)
        if meanwhile is not None:
            meanwhile()
        return work.results(futures, done)


class Pool:
    """Forked workers (see :func:`pool`): submit work, collect results in order."""

    def __init__(
        self, executor: ProcessPoolExecutor, check: Callable[[], None] | None = None
    ) -> None:
        self._executor = executor
        self._check = check  # the coordinator's stop check (it raises to stop)

    def submit(self, fn: Callable[[T], R], items: Sequence[T]) -> list[Future[Any]]:
        return [self._executor.submit(_call, fn, it) for it in items]

    def results(
        self, futures: Sequence[Future[Any]], done: Callable[[R], None] | None = None
    ) -> list[R]:
        """Each result in order; with a stop check, asked every :data:`STOP_POLL`
        seconds while waiting (what it raises ends the pool: see :func:`pool`)."""
        out: list[R] = []
        for f in futures:
            got, err = self._result(f)
            if err is not None:
                raise MaskingError(f"verify worker: {err}")
            out.append(got)
            if done is not None:
                done(got)
        return out

    def _result(self, f: Future[Any]) -> tuple[Any, str | None]:
        while True:
            if self._check is not None:
                self._check()
            try:
                got: tuple[Any, str | None] = f.result(
                    timeout=STOP_POLL if self._check is not None else None
                )
            except FuturesTimeout:
                continue
            return got


# How often a coordinator waiting for its workers asks its stop check (seconds)
STOP_POLL = 0.5


def _stop_flag(flag: Any) -> None:
    """A forked worker's initializer: its reads ask the coordinator's stop flag between
    batches (the coordinator's own stop check, a store read, stays in the coordinator)."""
    from stagewall.masking.db._base import BATCH_CHECK

    def check() -> None:
        if flag.is_set():
            raise MaskingRunStopped("the verify coordinator was told to stop")

    BATCH_CHECK.set(check)


@contextlib.contextmanager
def pool(jobs: int, shared: dict[str, Any]) -> Iterator[Pool]:
    """``jobs`` forked processes that see ``shared`` (as :data:`SHARED`) as it is
    when the first work is submitted.

    The calling thread's stop check (``db.BATCH_CHECK``, set by verify) is asked while
    it waits for results; once anything ends the block early (that check raising, or
    a worker's error), a shared flag stops every worker at its next batch and queued
    work is cancelled, so the pool closes without reading on to the end."""
    from stagewall.masking.db._base import BATCH_CHECK

    SHARED.update(shared)
    # What this process holds now (the hash sets, the lookups: millions of objects)
    # is the workers' to read, never to collect: frozen, the collector in a worker
    # does not walk it (writing to every object's header, so copying every page it
    # shares with this process) and neither does this one while the workers run.
    gc.freeze()
    try:
        ctx = mp.get_context("fork")
        flag = ctx.Event()
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=_stop_flag, initargs=(flag,)
        ) as executor:
            try:
                yield Pool(executor, BATCH_CHECK.get())
            except BaseException:
                flag.set()
                executor.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        SHARED.clear()
        gc.unfreeze()


__all__ = [
    "GC_YOUNG",
    "SHARED",
    "SPLIT_MIN_PAGES",
    "STOP_POLL",
    "Pool",
    "can_fork",
    "fewer_collections",
    "forked",
    "largest_first",
    "pool",
    "split",
]
