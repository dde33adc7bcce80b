"""Who may hold which role: the checks every entry point and every choke point repeat.

``hold_problem`` is the one place the invariant lives: an external (or unknown,
or disabled) principal never holds a production role. It is called when a
request is filed, when a grant row is about to be written, when credentials are
about to be issued, and by every sweep over live grants.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from stagewall.estate import Estate
from stagewall.estate.models import PrincipalKind


class Source(enum.StrEnum):
    REQUEST = "request"
    BREAK_GLASS = "break_glass"
    STANDING = "standing"


@dataclass(frozen=True)
class Problem:
    """Why a principal may not hold a role. ``invariant``: the external→production rule."""

    text: str
    invariant: bool = False


def hold_problem(
    estate: Estate,
    principal: str,
    role: str,
    *,
    source: Source,
    now: datetime,
    offboarded: Collection[str] = (),
) -> Problem | None:
    r = estate.roles.get(role)
    production = estate.role_is_production(role)
    p = estate.principals.get(principal)
    if p is None:
        return Problem(
            f"principal {principal!r} is not declared (unknown counts as external)", production
        )
    if production and not estate.is_internal(principal):
        why = f"vendor {p.vendor}" if p.vendor else ("disabled" if p.disabled else "not internal")
        return Problem(
            f"{principal!r} is not an internal principal ({why}); externals never hold "
            f"production role {role!r}",
            True,
        )
    if p.disabled:
        return Problem(f"principal {principal!r} is disabled")
    if r is None:
        return Problem(f"role {role!r} is not declared")
    if p.vendor is not None:
        v = estate.vendors.get(p.vendor)
        if v is None:
            return Problem(f"vendor {p.vendor!r} of {principal!r} is not declared")
        missing = [n for n, d in (("NDA", v.nda_signed), ("DPA", v.dpa_signed)) if d is None]
        if missing:
            return Problem(f"vendor {p.vendor!r} has no {' and no '.join(missing)} on record")
        if v.contract_start > now.date():
            return Problem(f"the contract with vendor {p.vendor!r} starts {v.contract_start}")
        if v.contract_end < now.date():
            return Problem(f"the contract with vendor {p.vendor!r} ended {v.contract_end}")
        if p.vendor in offboarded:
            return Problem(f"vendor {p.vendor!r} has been offboarded")
    if source is Source.STANDING and production:
        return Problem(f"standing grants never cover production role {role!r}", True)
    if source is Source.BREAK_GLASS:
        if not estate.is_internal(principal):
            return Problem("break-glass is for internal principals only", True)
        if p.kind is not PrincipalKind.HUMAN:
            return Problem(
                f"{principal!r} is a {p.kind.value} principal; break-glass is for internal "
                "humans only (a person must answer for it)",
                True,
            )
        if not r.break_glass:
            return Problem(f"role {role!r} does not allow break-glass (break_glass: false)")
    return None


def eligibility_problem(
    estate: Estate, principal: str, role: str, *, source: Source
) -> Problem | None:
    """A grant that came from eligibility (a request or a break-glass) lasts only while its
    holder stays eligible: someone taken off the role's ``eligible:`` list (moved team,
    left the on-call group) loses the grant at the next sweep and gets no credentials
    from it. Standing grants are declared one by one and need no eligibility."""
    if source is Source.STANDING or principal in estate.eligible_for(role):
        return None
    return Problem(
        f"{principal!r} is no longer eligible for role {role!r} (its eligible: list in "
        "stagewall.yaml)"
    )


def tier_problem(estate: Estate, role: str, *, granted_production: bool) -> Problem | None:
    """A grant made while its role was not production never carries over once the role is
    (its environment's tier changed): its approval, duration and credentials followed the
    non-production rules (no production approval rule, no 12-hour cap, no MFA)."""
    if granted_production or not estate.role_is_production(role):
        return None
    return Problem(
        f"role {role!r} is now a production role; a grant made under non-production rules "
        "does not carry over (request it again)"
    )
