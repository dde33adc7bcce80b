"""The declared world: ``stagewall.yaml`` models, loader and invariants."""

from stagewall.estate._duration import Duration, format_duration, parse_duration
from stagewall.estate.invariants import (
    Severity,
    Violation,
    estate_violations,
    estate_warnings,
    register_state_check,
    state_checks,
)
from stagewall.estate.loader import LoadedEstate, load_estate, load_estate_optional, parse_estate
from stagewall.estate.models import (
    Access,
    Affiliation,
    ApprovalRule,
    Environment,
    Estate,
    Principal,
    PrincipalKind,
    Resource,
    ResourceKind,
    Role,
    Stage,
    StandingGrant,
    Tier,
    Vendor,
)

__all__ = [
    "Access",
    "Affiliation",
    "ApprovalRule",
    "Duration",
    "Environment",
    "Estate",
    "LoadedEstate",
    "Principal",
    "PrincipalKind",
    "Resource",
    "ResourceKind",
    "Role",
    "Severity",
    "Stage",
    "StandingGrant",
    "Tier",
    "Vendor",
    "Violation",
    "estate_violations",
    "estate_warnings",
    "format_duration",
    "load_estate",
    "load_estate_optional",
    "parse_duration",
    "parse_estate",
    "register_state_check",
    "state_checks",
]
