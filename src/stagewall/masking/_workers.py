"""Parallel copy workers: one process per job (transformers are CPU-bound Python/NumPy).

Each worker process opens its own source connection inside the run's exported
snapshot and its own target connection, builds the transformers once per table,
and reports progress over a queue. Errors come back as values so the message
and hint survive the process boundary.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from stagewall.errors import ALL_ERRORS, MaskingError, StagewallError
from stagewall.keys import MaskingKey
from stagewall.masking._copy import Mapper, TransformerLike, Unit, copy_unit
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


_STATE: dict[str, Any] = {}


def _init(ctx: Context, progress: Any) -> None:
    _STATE.clear()
    _STATE["ctx"] = ctx
    _STATE["progress"] = progress
    _STATE["mappers"] = {}


def _pair() -> tuple[Database, Database]:
    if "pair" not in _STATE:
        ctx: Context = _STATE["ctx"]
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
    return Mapper(t, built)


def _work(unit: Unit, sel: Selection) -> tuple[str, int, tuple[str, str, str] | None]:
    ctx: Context = _STATE["ctx"]
    q = unit.table.qualified
    try:
        mappers: dict[str, Mapper] = _STATE["mappers"]
        if q not in mappers:
            mappers[q] = build_mapper(ctx.plan, ctx.schema, q, ctx.key, ctx.factory)
        src, tgt = _pair()
        progress = _STATE["progress"]
        n = copy_unit(
            src, tgt, unit, mappers[q], sel, ctx.batch_rows, lambda k: progress.put((q, k))
        )
        return q, n, None
    except StagewallError as exc:
        return q, 0, (type(exc).__name__, exc.message, exc.hint)


def run_parallel(
    ctx: Context,
    units: list[Unit],
    selection: dict[str, Selection],
    jobs: int,
    report: Callable[[str], Callable[[int], None]],
) -> dict[str, int]:
    """Copy ``units`` with ``jobs`` worker processes; returns rows per table."""
    mpctx = mp.get_context("spawn")
    progress = mpctx.Queue()
    stop = threading.Event()
    reporters: dict[str, Callable[[int], None]] = {}

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
    try:
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=mpctx, initializer=_init, initargs=(ctx, progress)
        ) as pool:
            futures: list[Future[tuple[str, int, tuple[str, str, str] | None]]] = [
                pool.submit(_work, u, selection[u.table.qualified]) for u in units
            ]
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
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
    finally:
        stop.set()
        pump.join()
    return rows


def _rebuild(err: tuple[str, str, str]) -> StagewallError:
    name, message, hint = err
    cls = next((c for c in ALL_ERRORS if c.__name__ == name), StagewallError)
    return cls(message, hint=hint)


__all__ = ["Context", "build_mapper", "run_parallel"]
