"""The demo's one-time codes reach the server in time.

The server accepts a TOTP code of the current step or the steps beside it
(``mfa.totp.WINDOW``), each step once; the demo hands out up to three codes a step
(the step before, the current, the next). A code of the step before, sent near
the current step's end, arrives two steps old when the step rolls over in
between (a slow machine), and the server refuses it: a CI run of the demo failed
so (403 on ``/api/v1/invitations/confirm``). These tests fix the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest

from stagewall.demo import _steps
from stagewall.demo._steps import Context

SECRET = pyotp.random_base32()
STEP = 30
BASE = 1_800_000_000 - 1_800_000_000 % STEP  # the start of a step


def _context(tmp_path: Path) -> Context:
    ctx = Context(tmp_path, tmp_path, tmp_path / "p.db", tmp_path / "s.db", {}, None, None)  # type: ignore[arg-type]
    ctx.secrets["alice"] = SECRET
    return ctx


def _at(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.fromtimestamp(seconds, UTC)

    monkeypatch.setattr(_steps, "datetime", Clock)


def _steps_of(code: str, around: int) -> list[int]:
    totp = pyotp.TOTP(SECRET)
    return [s for s in range(around - 3, around + 4) if totp.generate_otp(s) == code]


def test_near_a_steps_end_the_first_code_is_the_current_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two seconds before the step ends, the first code is the current step's,
    so it is still accepted after the step rolls over. Before: the step before's,
    refused once the clock passed the step's end."""
    now = BASE // STEP
    _at(monkeypatch, BASE + STEP - 2)
    assert _steps_of(_context(tmp_path).code("alice"), now) == [now]


def test_early_in_a_step_three_codes_are_handed_out_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the step young, the step before, the current and the next are given
    (each accepted once by the server), in that order, none twice."""
    now = BASE // STEP
    _at(monkeypatch, BASE + 3)
    ctx = _context(tmp_path)
    got = [_steps_of(ctx.code("alice"), now) for _ in range(3)]
    assert got == [[now - 1], [now], [now + 1]]


def test_near_a_steps_end_two_codes_are_handed_out_then_it_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Near the end, the current and the next step's codes; a third waits for the
    clock (time.sleep), then takes the step after."""
    now = BASE // STEP
    clock = {"t": BASE + STEP - 2.0}

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.fromtimestamp(clock["t"], UTC)

    def sleep(seconds: float) -> None:
        clock["t"] += seconds

    monkeypatch.setattr(_steps, "datetime", Clock)
    monkeypatch.setattr(_steps.time, "sleep", sleep)
    ctx = _context(tmp_path)
    got = [_steps_of(ctx.code("alice"), now) for _ in range(3)]
    assert got == [[now], [now + 1], [now + 2]]
    assert clock["t"] >= BASE + STEP  # it waited into the next step
