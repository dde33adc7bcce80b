"""Where the CPU of bench/server.py's concurrent approvals goes, per component.

Usage: python bench/server_cpu.py [--clients 50] [--top 25]
Runs bench/server.py unchanged and prints one JSON document: the benchmark's own output
under ``bench`` and, for its concurrent phase (N flows at once), the CPU per flow of

* this process by thread: the server's request handlers (AnyIO worker threads), its
  event loop (uvicorn's thread), sweeper, notifier and witness threads, and the
  benchmark's clients (its thread pool);
* every PostgreSQL backend this process opened, by what it serves: the control-plane
  store, the resource's admin sessions (issuance, revocation) and the issued logins'
  sessions, with the connections opened during the phase and what their start-up
  (fork, authentication) cost; and the postmaster itself;
* the statements the backends spent most CPU on (``--top``), with how many ran per flow.

CPU is read from ``/proc/<pid>/schedstat`` (nanoseconds on a CPU, exact, unlike the
10 ms ticks of ``/proc/<pid>/stat``): Linux only, with PostgreSQL on this host. A
backend is read when its connection closes (its exit is not counted) and at the end of
the phase; a statement's cost is its backend's CPU across the ``execute`` call. The
figures count on-CPU time only, so they do not depend on other load on the host the
way the machine-wide figure of ``concurrent_cost`` does, though contention for caches
and cores still inflates them somewhat.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import server as bench  # bench/server.py

_lock = threading.Lock()
_phase = {"on": False}
# backend pid -> [component, CPU seconds when the phase began or 0.0, CPU seconds last read]
_backends: dict[int, list[Any]] = {}
_statements: dict[tuple[str, str], list[float]] = collections.defaultdict(lambda: [0, 0.0])
_startup: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])


def _cpu(pid: int, tid: int | None = None) -> float | None:
    path = f"/proc/{pid}/schedstat" if tid is None else f"/proc/{pid}/task/{tid}/schedstat"
    try:
        with open(path) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _component(conn: Any) -> str:
    info = conn.info
    if "store" in info.dbname:
        return "store"
    if info.user == "postgres":
        return "resource admin sessions"
    return "issued logins' sessions"


_connect = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]
_close = psycopg.Connection.close
_execute = psycopg.Cursor.execute


def _connect_hook(cls: Any, *args: Any, **kwargs: Any) -> Any:
    conn = _connect(cls, *args, **kwargs)
    pid, what = conn.info.backend_pid, _component(conn)
    now = _cpu(pid) or 0.0
    with _lock:
        if _phase["on"]:
            _startup[what][0] += 1
            _startup[what][1] += now
        _backends[pid] = [what, 0.0 if _phase["on"] else now, now]
    return conn


def _close_hook(self: Any) -> None:
    with contextlib.suppress(Exception):
        pid = self.info.backend_pid
        cpu = _cpu(pid)
        if cpu is not None and pid in _backends:
            _backends[pid][2] = cpu
    _close(self)


def _execute_hook(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
    if not _phase["on"]:
        return _execute(self, query, *args, **kwargs)
    conn = self.connection
    pid = conn.info.backend_pid
    before = _cpu(pid)
    try:
        return _execute(self, query, *args, **kwargs)
    finally:
        after = _cpu(pid)
        if before is not None and after is not None:
            text = query.as_string(conn) if hasattr(query, "as_string") else str(query)
            text = " ".join(text.split())
            if text.startswith(("CREATE ROLE", "COMMENT ON ROLE")):
                text = text.split('"')[0] + "..."  # one line for every login's statement
            key = (_component(conn), text[:120])
            with _lock:
                _statements[key][0] += 1
                _statements[key][1] += after - before


psycopg.Connection.connect = classmethod(_connect_hook)  # type: ignore[method-assign,assignment]
psycopg.connect = psycopg.Connection.connect
psycopg.Connection.close = _close_hook  # type: ignore[method-assign]
psycopg.Cursor.execute = _execute_hook  # type: ignore[method-assign,assignment]


def _threads() -> dict[int, tuple[str, float]]:
    names = {t.native_id: t.name for t in threading.enumerate()}
    out = {}
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        name = names.get(int(tid), "unnamed")
        if name.startswith("ThreadPoolExecutor"):
            name = "benchmark clients"
        elif name.startswith("Thread-") and "(run)" in name:
            name = "server event loop (uvicorn)"
        elif name == "AnyIO worker thread":
            name = "server request handlers"
        out[int(tid)] = (name, _cpu(os.getpid(), int(tid)) or 0.0)
    return out


def _postmaster() -> int | None:
    for path in Path("/var/run/postgresql").glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            return int(path.read_text().split()[0])
    return None


_marks: dict[str, Any] = {}
_sample = bench.cpu_sample


def _phase_sample() -> tuple[float, float | None]:
    """bench.cpu_sample, called at the start and the end of the concurrent phase."""
    if not _phase["on"]:
        _marks["threads"], _marks["pm"] = _threads(), _cpu(_postmaster() or -1)
        with _lock:
            for pid, entry in _backends.items():
                entry[1] = entry[2] = _cpu(pid) or entry[2]
            _phase["on"] = True
        return _sample()
    got = _sample()
    with _lock:
        _phase["on"] = False
        for pid, entry in _backends.items():
            cpu = _cpu(pid)
            if cpu is not None:
                entry[2] = cpu
        _marks["backends"] = {pid: list(e) for pid, e in _backends.items()}
    _marks["threads_end"], _marks["pm_end"] = _threads(), _cpu(_postmaster() or -1)
    return got


bench.cpu_sample = _phase_sample


def breakdown(flows: int, top: int) -> dict[str, Any]:
    def ms(seconds: float) -> float:
        return round(seconds * 1000 / flows, 2)

    threads: collections.Counter[str] = collections.Counter()
    start = _marks["threads"]
    for tid, (name, cpu) in _marks["threads_end"].items():
        threads[name] += cpu - start.get(tid, (name, 0.0))[1]
    backends: collections.Counter[str] = collections.Counter()
    for what, began, last in _marks["backends"].values():
        backends[what] += max(0.0, last - began)
    pm = None
    if _marks["pm"] is not None and _marks["pm_end"] is not None:
        pm = ms(_marks["pm_end"] - _marks["pm"])
    total = sum(threads.values()) + sum(backends.values()) + (pm or 0) * flows / 1000
    worst = sorted(_statements.items(), key=lambda kv: -kv[1][1])[:top]
    return {
        "flows": flows,
        "cpu_ms_per_flow_total": ms(total),
        "this_process_ms_per_flow": {k: ms(v) for k, v in threads.most_common() if v > 0},
        "postgresql_backends_ms_per_flow": {k: ms(v) for k, v in backends.most_common()},
        "postmaster_ms_per_flow": pm,
        "connections_opened": {k: int(v[0]) for k, v in _startup.items()},
        "connection_startup_ms_per_flow": {k: ms(v[1]) for k, v in _startup.items()},
        "statements_per_flow": {
            k: round(sum(n for (w, _q), (n, _c) in _statements.items() if w == k) / flows, 1)
            for k in sorted({w for w, _q in _statements})
        },
        "costliest_statements": [
            {"backend": w, "sql": q, "per_flow": round(n / flows, 2), "ms_per_flow": ms(c)}
            for (w, q), (n, c) in worst
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--sessions", type=int, default=25)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bench.main(a.clients, a.sessions)
    result = {"bench": json.loads(out.getvalue()), "cpu_breakdown": breakdown(a.clients, a.top)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
