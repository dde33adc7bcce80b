"""While the app serves, the objects that existed when it started are out of the cyclic
collector's full collections (gc.freeze), and handed back when it stops."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from stagewall.server import app as server_app
from tests.server.conftest import World


def test_the_startup_heap_is_frozen_while_the_app_serves(world: World) -> None:
    # Another server of this test process (a live-server fixture) may be serving: then
    # the heap stays frozen after this one stops, and is handed back with the last one.
    others = server_app._frozen["servers"]
    with TestClient(world.app) as client:  # runs the lifespan
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # modules, the app, the estate ...
        assert client.get("/healthz").status_code == 200
        # A second server of this process keeps it frozen until the last one stops.
        with server_app._startup_heap_frozen():
            assert gc.get_freeze_count() > frozen // 2
        assert gc.get_freeze_count() > frozen // 2  # (freed objects leave the count)
    assert server_app._frozen["servers"] == others
    assert (gc.get_freeze_count() == 0) == (others == 0)


_CYCLE = """
import gc, sys
sys.path.insert(0, sys.argv[1])
from stagewall.server import app as server_app

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a
del a, b  # a cycle: only the cyclic collector frees it
with server_app._startup_heap_frozen():
    assert gc.get_freeze_count() > 0
    gc.unfreeze()  # (to see what was frozen)
    assert not [o for o in gc.get_objects() if type(o).__name__ == "Node"]
assert gc.get_freeze_count() == 0
print("ok")
"""


def test_garbage_is_collected_before_the_heap_is_frozen() -> None:
    """In a fresh interpreter, so that this is the process's first server."""
    src = str(Path(server_app.__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", _CYCLE, src], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
