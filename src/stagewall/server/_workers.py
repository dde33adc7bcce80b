"""Background threads of one server process: long work never runs inside a request.

One single-thread executor per kind of work (masking jobs, evidence, notifications),
so a long masking run never delays a notification, and runs of one kind are serial.
Created on first use; shut down when the app stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class Workers:
    def __init__(self) -> None:
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the server is stopping")
            pool = self._pools.get(kind)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"stagewall-{kind}")
                self._pools[kind] = pool
        return pool.submit(fn, *args)

    def shutdown(self, *, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
        for pool in pools:
            pool.shutdown(wait=wait, cancel_futures=not wait)


__all__ = ["Workers"]
