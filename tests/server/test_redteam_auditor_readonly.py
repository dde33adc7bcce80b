"""Red team: a principal named under ``server.auditors`` changes nothing.

"Auditors read the log and reports; change nothing" (docs/server.md) held only for an
external auditor. An *internal* principal listed as an auditor kept the internal
class next to the auditor class, and the authorization table admits a caller when any
of its classes is named: the auditor approved production access, broke glass and could
start masking jobs ("never an auditor", docs/server.md) - and then audited their own
decisions. Segregation of duties asks that the person who checks is not the person who
decides.
"""

from __future__ import annotations

import pytest

from stagewall.identity.actor import ActorClass
from stagewall.server.authz import POLICY, classes_for
from tests.server.conftest import Person, World
from tests.server.test_flows import _request


@pytest.fixture
def ivan(world: World) -> Person:
    """An internal SRE who is also one of the server's auditors (and an admin)."""
    text = world.config.read_text()
    text = text.replace(
        "  bob: {affiliation: internal}\n",
        "  bob: {affiliation: internal}\n  ivan: {affiliation: internal}\n",
    )
    text = text.replace(
        "sre: {members: [alice, bob, carol]}", "sre: {members: [alice, bob, carol, ivan]}"
    )
    text = text.replace("auditors: [audrey]", "auditors: [audrey, ivan]")
    text = text.replace("admins: [carol]", "admins: [carol, ivan]")
    world.config.write_text(text)
    world.state.refresh()
    return world.onboard("ivan")


def test_an_auditor_is_only_an_auditor(world: World, ivan: Person) -> None:
    assert classes_for(world.state.estate, "ivan") == frozenset({ActorClass.AUDITOR})
    assert classes_for(world.state.estate, "audrey") == frozenset({ActorClass.AUDITOR})
    # whatever else they are, auditors reach no route that changes something
    changing = [
        name
        for name, rule in POLICY.items()
        if rule is not None and ActorClass.AUDITOR in rule and name not in READ_ONLY
    ]
    assert changing == [], changing


# Routes an auditor may call: reads, and acts on their own login and factors only.
READ_ONLY = {
    "session.delete",
    "whoami",
    "mfa.enroll",
    "inbox",
    "access.request.list",
    "access.grant.list",
    "review.report",
    "gate.list",
    "gate.base",
    "evidence.checks",
    "evidence.answers",
    "evidence.pack",
    "audit.events",
    "audit.checkpoints",
    "audit.proof",
    "audit.bundle",
    "mfa.webauthn.registration.options",
    "mfa.webauthn.register",
    "mfa.webauthn.list",
    "mfa.webauthn.remove",
    "mfa.webauthn.assertion.options",
    "step_up",
    "device.approve_session",
    "web.device.decide",
    "web.logout",
    "web.inbox",
    "web.access",
    "web.person",
    "web.grants",
    "web.requests",
    "web.promotions",
    "web.audit",
    "web.audit.bundle",
    "web.estate",
    "web.estate.svg",
    "web.evidence",
    "web.breakglass",
    "web.vendors",
    "web.reviews",
    "web.review.report",
    "web.review.download",
    "web.review.pdf",
    "web.security",
    "masking.job.list",
    "masking.job.runs",
    "masking.plan.list",
    "web.plan",
    "masking.run.show",
    "server.tasks",
    "step_up.browser",
    "step_up.browser.status",
    "web.cli.login.page",
    "web.cli.login",
    "web.cli.step_up.page",
    "web.cli.step_up",
    "web.breakglass.page",
    "web.passkey.remove",
}


def test_an_internal_auditor_approves_nothing_and_breaks_no_glass(
    world: World, people: dict[str, Person], ivan: Person
) -> None:
    world.settle()  # ivan's first factor is a day old: no quarantine stands in the way
    ivan.login()
    rid = _request(people["alice"])
    res = ivan.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": ivan.otp()})
    assert res.status_code == 403 and "may not call" in res.json()["detail"], res.text
    res = ivan.post(
        "/api/v1/access/break-glass", {"role": "prod-read", "reason": "INC-9", "otp": ivan.otp()}
    )
    assert res.status_code == 403 and "may not call" in res.json()["detail"], res.text
    res = ivan.post("/api/v1/invitations", {"principal": "dana", "otp": ivan.otp()})
    assert res.status_code == 403 and "may not call" in res.json()["detail"], res.text
    # and still reads what auditors read
    assert ivan.get("/api/v1/audit/events").status_code == 200
    assert [r["id"] for r in ivan.get("/api/v1/access/requests").json()] == [rid]
