"""API fuzzing with schemathesis against the app's own /openapi.json.

Every operation gets a few generated requests (derandomized, so the run is the same
each time and bounded) as an anonymous caller and as a logged-in internal person:
no answer may be a 5xx, and every documented answer must match its schema. All
failures are collected and reported together.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.server.conftest import World

CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ = settings(
    max_examples=int(os.environ.get("STAGEWALL_FUZZ_EXAMPLES", "2")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
MODES = list(schemathesis.GenerationMode)  # valid requests, and invalid ones
SKIP = {("DELETE", "/api/v1/session")}  # would log the fuzzing person out (test_flows has it)


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    saved = os.environ.get("SW_TEST_ADMIN_URL")
    # Nothing here issues credentials (every id the fuzzer sends is unknown); an
    # unreachable admin URL keeps it so.
    os.environ["SW_TEST_ADMIN_URL"] = "postgresql://postgres@127.0.0.1:1/none"
    try:
        world = World(tmp, "sw_fuzz_none", f"sqlite:///{tmp / 'store.db'}")
        token = world.onboard("alice").login()
        yield world, token
        world.client.close()
    finally:
        if saved is None:
            os.environ.pop("SW_TEST_ADMIN_URL", None)
        else:
            os.environ["SW_TEST_ADMIN_URL"] = saved


def fuzz(world: World, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    failures: list[str] = []
    for result, mode in itertools.product(schema.get_all_operations(), MODES):
        op = result.ok()
        if (op.method.upper(), op.path) in SKIP:
            continue

        @FUZZ
        @given(case=op.as_strategy(mode))
        def one(case: Any) -> None:
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except BaseException as exc:  # schemathesis raises a BaseExceptionGroup
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                where = f"{case.operation.method.upper()} {case.operation.path}"
                failures.append(f"{where}: {str(exc)[:600]}")

        try:
            one()
        except Unsatisfiable:
            continue  # nothing invalid can be sent to an operation without inputs
    return sorted(set(failures))


def test_no_5xx_and_no_schema_violation_anonymous(fuzz_world: tuple[World, str]) -> None:
    failures = fuzz(fuzz_world[0], {})
    assert not failures, "\n\n".join(failures)


def test_no_5xx_and_no_schema_violation_internal_person(fuzz_world: tuple[World, str]) -> None:
    world, token = fuzz_world
    failures = fuzz(world, {"Authorization": f"Bearer {token}"})
    assert not failures, "\n\n".join(failures)
