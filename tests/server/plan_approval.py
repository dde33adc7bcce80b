"""Approving a masking job's plan in tests, as two internal people would.

``planner`` submits the plan deployed beside stagewall.yaml and ``checker`` approves
it with a TOTP code through :mod:`stagewall.server.plans` (the library the API calls).
Both are declared by :func:`with_plan_people`; ``checker`` is enrolled here directly,
so the people of ``tests.server.conftest`` keep their own invitations.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp

from stagewall import mfa
from stagewall.identity.actor import Actor, ActorClass, LoginMethod
from stagewall.server import ServerState

PLAN_PEOPLE = "  planner: {affiliation: internal}\n  checker: {affiliation: internal}\n"


def with_plan_people(estate_text: str) -> str:
    return estate_text.replace("principals:\n", "principals:\n" + PLAN_PEOPLE, 1)


def actor(name: str) -> Actor:
    return Actor(name, frozenset({ActorClass.INTERNAL}), LoginMethod.LOCAL, "test-session")


_SECRETS: dict[tuple[str, str], str] = {}


def approve_plan(state: ServerState, job: str, clock: object | None = None) -> str:
    """Submit and approve job ``job``'s current plan; returns the plan hash."""
    from stagewall.server import plans

    key = (str(state.ctx.store.url), "checker")
    if not mfa.is_enrolled(state.ctx.store, "checker"):
        _SECRETS[key] = mfa.enroll(state.ctx.store, state.estate, "checker", home=state.home).secret
    sub = plans.submit(state, actor("planner"), job, reason="reviewed the diff")
    advance = getattr(clock, "advance", None)
    if advance is not None:
        advance(timedelta(seconds=31))  # a fresh TOTP step
    code = pyotp.TOTP(_SECRETS[key]).at(state.now())
    res = plans.review(state, sub["request"], reviewer="checker", approve=True, otp=code)
    assert res["outcome"] == "approved", res
    return str(sub["plan_sha256"])
