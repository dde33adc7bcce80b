"""The authorization table: which classes of actor may call which endpoint.

This is the coarse gate in front of every route (anonymous, external, internal,
auditor, admin, pipeline). The fine rules (externals never production, approver
independence, thresholds, factor freshness, break-glass for internal humans only)
live in the library functions the routes call, which receive the authenticated
principal from here and nowhere else. The app refuses to start when a route has
no row, and the tests generate the endpoint-by-actor matrix from this table.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagewall.estate import Estate
from stagewall.estate.models import PrincipalKind
from stagewall.identity.actor import ActorClass as C

ANYONE = frozenset(C) - {C.LOG_SOURCE}
PEOPLE = frozenset({C.EXTERNAL, C.INTERNAL, C.AUDITOR, C.ADMIN})
INTERNAL = frozenset({C.INTERNAL, C.ADMIN})
READERS = frozenset({C.INTERNAL, C.AUDITOR, C.ADMIN})

# route name -> classes allowed. ``None`` marks a public route (no authentication).
POLICY: dict[str, frozenset[C] | None] = {
    "healthz": None,
    "openapi": None,
    "session.create": None,
    "device.code": None,
    "device.token": None,
    "device.page": None,
    "device.approve": None,
    "invitation.accept": None,
    "invitation.confirm": None,
    "session.delete": ANYONE - {C.ANONYMOUS},
    "whoami": ANYONE - {C.ANONYMOUS},
    "invitation.create": frozenset({C.ADMIN}),
    "mfa.enroll": PEOPLE,
    "mfa.reset": INTERNAL,
    "inbox": PEOPLE,
    "access.request.create": frozenset({C.EXTERNAL, C.INTERNAL, C.ADMIN}),
    "access.request.list": PEOPLE,
    "access.review": INTERNAL,
    # An approver withdrawing their own approval (the library refuses anyone else).
    "access.review.withdraw": INTERNAL,
    "access.grant.list": PEOPLE,
    "access.credentials": frozenset({C.EXTERNAL, C.INTERNAL, C.ADMIN}),
    "access.revoke": INTERNAL,
    "access.break_glass": INTERNAL,
    "access.follow_up": INTERNAL,
    "review.start": INTERNAL,
    "review.report": READERS,
    "review.close": INTERNAL,
    "review.decide": INTERNAL,
    "vendor.offboard": INTERNAL,
    "gate.list": PEOPLE,
    "gate.approve": INTERNAL,
    "gate.approve.withdraw": INTERNAL,
    "evidence.checks": READERS,
    "audit.events": READERS,
    "audit.checkpoints": READERS,
    # --- pipeline ---
    # Submitting: people (externals included: the gate decides what they may reach) and
    # pipelines. Reporting checks and asking to deploy: pipelines only. Break-glass:
    # internal people only (the library refuses service principals too). Approving
    # stays "gate.approve": INTERNAL, never a pipeline.
    "gate.base": PEOPLE | {C.PIPELINE},
    "gate.submit": frozenset({C.EXTERNAL, C.INTERNAL, C.ADMIN, C.PIPELINE}),
    "gate.break_glass": INTERNAL,
    "gate.report": frozenset({C.PIPELINE}),
    "gate.check": frozenset({C.PIPELINE}),
    "audit.proof": READERS,
    "audit.bundle": READERS,
    # --- paths ---
    "segmentation.probe": frozenset({C.INTERNAL, C.ADMIN, C.PIPELINE}),
    # --- evidence2 ---
    "evidence.answers": READERS,
    # the pack holds every production grant and review decision: auditors and admins
    "evidence.pack": frozenset({C.AUDITOR, C.ADMIN}),
    # --- ingest ---
    # Log shippers authenticate with a per-source ingest token (swi_...), never as a
    # person; the token also fixes which source they may post (monitoring.tokens).
    "monitoring.ingest": frozenset({C.LOG_SOURCE}),
    # --- identity ---
    "mfa.webauthn.registration.options": PEOPLE,
    "mfa.webauthn.register": PEOPLE,
    "mfa.webauthn.list": PEOPLE,
    "mfa.webauthn.remove": PEOPLE,
    "mfa.webauthn.assertion.options": PEOPLE,
    "step_up": PEOPLE,
    "device.approve_session": PEOPLE,
    "oidc.login": None,
    "oidc.callback": None,
    # --- web ---
    # The pages of stagewall.web (browser session cookie + CSRF token on every form).
    "web.login.page": None,
    "web.login": None,
    "web.invite.page": None,
    "web.invite.accept": None,
    "web.invite.confirm": None,
    "web.logout": ANYONE - {C.ANONYMOUS},
    # The /device page's decision as the signed-in person (step-up checked inside).
    "web.device.decide": PEOPLE,
    "web.inbox": PEOPLE,
    "web.decide": INTERNAL,
    # Withdrawing your own approval (withdraw_approval / Gate.withdraw refuse anyone else).
    "web.withdraw": INTERNAL,
    # A masking plan approval request and its plan: read by those who read jobs (never an
    # external: the plan describes production's tables); decided through web.decide.
    "web.plan": READERS,
    "web.request.page": frozenset({C.EXTERNAL, C.INTERNAL, C.ADMIN}),
    "web.request.create": frozenset({C.EXTERNAL, C.INTERNAL, C.ADMIN}),
    "web.access": PEOPLE,
    "web.credentials": frozenset({C.EXTERNAL, C.INTERNAL, C.ADMIN}),
    # A holder may end their own grant (revoke_grant decides who may end which grant).
    "web.revoke": frozenset({C.EXTERNAL, C.INTERNAL, C.ADMIN}),
    "web.person": PEOPLE,
    "web.grants": PEOPLE,
    "web.requests": PEOPLE,
    "web.promotions": PEOPLE,
    "web.audit": READERS,
    "web.audit.bundle": READERS,
    "web.estate": READERS,
    "web.estate.svg": READERS,
    "web.evidence": READERS,
    "web.breakglass": READERS,
    "web.vendors": READERS,
    "web.reviews": READERS,
    "web.review.start": INTERNAL,
    "web.review.report": READERS,
    "web.review.download": READERS,
    "web.review.pdf": READERS,
    "web.review.close": INTERNAL,
    "web.security": PEOPLE,
    # --- serverops ---
    # Masking jobs read production with the server's credentials: only internal people
    # start them (and the job's run_by, checked in server.jobs.authorize); internal
    # people and auditors read the jobs and runs (resource names, never URLs).
    "masking.job.list": READERS,
    "masking.job.start": INTERNAL,
    # A plan's hash is submitted and approved by internal people only (server.plans
    # also refuses service principals and the plan's authors, and asks for step-up).
    "masking.plan.submit": INTERNAL,
    "masking.plan.review": INTERNAL,
    # An approver withdrawing their own plan approval (server.plans refuses anyone else).
    "masking.plan.withdraw": INTERNAL,
    # The requests themselves (job, hash, who, state, reviews): read by those who read jobs.
    "masking.plan.list": READERS,
    "masking.job.runs": READERS,
    "masking.run.show": READERS,
    "server.tasks": READERS,
    # --- cli10 ---
    # A CI job exchanges its single-use CI OIDC token for a job session (pipelines only).
    "ci.session": frozenset({C.PIPELINE}),
    # `stagewall login --browser`: the terminal redeems its one-time code + PKCE verifier.
    "cli.token": None,
    # `stagewall mfa step-up --browser`: a person's terminal asks; the same person
    # confirms in a signed-in browser (the pages check it is the same principal).
    "step_up.browser": PEOPLE,
    "step_up.browser.status": PEOPLE,
    "web.cli.login.page": PEOPLE,
    "web.cli.login": PEOPLE,
    "web.cli.step_up.page": PEOPLE,
    "web.cli.step_up": PEOPLE,
    # --- web14 ---
    # Everyone signed in sees the break-glass form (externals see why they cannot break
    # glass); posting it is internal only, as the API's access.break_glass.
    "web.breakglass.page": PEOPLE,
    "web.breakglass.create": INTERNAL,
    # Removing one of one's own passkeys, as the API's mfa.webauthn.remove.
    "web.passkey.remove": PEOPLE,
}


def classes_for(estate: Estate, principal: str) -> frozenset[C]:
    """The classes of a declared principal (an undeclared or disabled one has none).

    A principal named under ``server.auditors`` is an auditor and nothing else, whatever
    its affiliation, kind or other roles: auditors read and change nothing, and the one
    who checks the decisions is never one who makes them (an internal SRE listed as an
    auditor would otherwise approve production access and audit the approval)."""
    p = estate.principals.get(principal)
    if p is None or p.disabled:
        return frozenset()
    if principal in estate.expand(estate.server.auditors):
        return frozenset({C.AUDITOR})
    out: set[C] = set()
    if p.kind is PrincipalKind.SERVICE:
        out.add(C.PIPELINE)
    elif estate.is_internal(principal):
        out.add(C.INTERNAL)
    else:
        out.add(C.EXTERNAL)
    human = p.kind is PrincipalKind.HUMAN
    if human and estate.is_internal(principal) and principal in estate.expand(estate.server.admins):
        out.add(C.ADMIN)
    return frozenset(out)


def allowed(route: str, classes: Iterable[C]) -> bool:
    """Whether an actor with ``classes`` may call ``route`` (unknown route: never)."""
    if route not in POLICY:
        return False
    rule = POLICY[route]
    if rule is None:
        return True
    return bool(set(classes) & rule)


__all__ = ["POLICY", "allowed", "classes_for"]
