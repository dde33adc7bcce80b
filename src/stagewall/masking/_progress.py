"""Progress reporting for ``mask run``: a thread-safe counter feeding a callback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One progress update: the CLI turns these into a bar with rows/s."""

    table: str
    table_rows: int  # rows of ``table`` written so far
    rows_done: int  # rows written so far, all tables
    rows_total: int | None  # estimate of the rows to copy (None when unknown)
    elapsed_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows_done / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


class Tracker:
    def __init__(self, callback: Callable[[Progress], None] | None, total: int | None) -> None:
        self._cb = callback
        self._total = total
        self._lock = threading.Lock()
        self._done = 0
        self._per_table: dict[str, int] = {}
        self._start = time.monotonic()

    def reporter(self, table: str) -> Callable[[int], None]:
        def report(n: int) -> None:
            with self._lock:
                self._done += n
                self._per_table[table] = self._per_table.get(table, 0) + n
                update = Progress(
                    table,
                    self._per_table[table],
                    self._done,
                    self._total,
                    time.monotonic() - self._start,
                )
            if self._cb is not None:
                self._cb(update)

        return report


__all__ = ["Progress", "Tracker"]
