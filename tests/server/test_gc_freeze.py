"""While the app serves, the objects that existed when it started are out of the cyclic
collector's full collections (gc.freeze), and handed back when it stops."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient

from stagewall.server import app as server_app
from tests.server.conftest import World


def test_the_startup_heap_is_frozen_while_the_app_serves(world: World) -> None:
    if gc.get_freeze_count():
        pytest.skip("another server of this process is serving (its heap is frozen)")
    with TestClient(world.app) as client:  # runs the lifespan
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # modules, the app, the estate ...
        assert client.get("/healthz").status_code == 200
        # A second server of this process keeps it frozen until the last one stops.
        with server_app._startup_heap_frozen():
            assert gc.get_freeze_count() > frozen // 2
        assert gc.get_freeze_count() > frozen // 2  # (freed objects leave the count)
    assert gc.get_freeze_count() == 0


def test_garbage_is_collected_before_the_heap_is_frozen(world: World) -> None:
    if gc.get_freeze_count():
        pytest.skip("another server of this process is serving (its heap is frozen)")

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    del a, b  # a cycle: only the cyclic collector frees it
    with server_app._startup_heap_frozen():
        assert gc.get_freeze_count() > 0
        gc.unfreeze()  # (to see what was frozen)
        assert not [o for o in gc.get_objects() if type(o).__name__ == "Node"]
    assert gc.get_freeze_count() == 0
