"""Audit event codes of the access domain (OCSF User Access Management 3005 et al.)."""

from __future__ import annotations

from stagewall.audit import EventType, register_event_type

_UAM = (3005, "User Access Management")


def _uam(code: str, activity: int, name: str, description: str) -> EventType:
    return register_event_type(EventType(code, _UAM[0], _UAM[1], activity, name, description))


REQUEST_CREATED = _uam("access.request.created", 99, "Other", "an access request was filed")
REQUEST_REFUSED = _uam("access.request.refused", 99, "Other", "an access request was refused")
REVIEW_RECORDED = _uam("access.review.recorded", 99, "Other", "a review was appended")
REVIEW_WITHDRAWN = _uam(
    "access.review.withdrawn",
    2,
    "Revoke Privileges",
    "an approver withdrew their approval; it counts for nothing and its grant ended",
)
REVIEW_REFUSED = _uam("access.review.refused", 99, "Other", "a review was refused")
GRANT_CREATED = _uam("access.grant.created", 1, "Assign Privileges", "a grant started")
GRANT_REFUSED = _uam("access.grant.refused", 1, "Assign Privileges", "a grant was refused")
CREDENTIAL_ISSUED = _uam(
    "access.credential.issued", 1, "Assign Privileges", "database login created for a grant"
)
CREDENTIAL_REFUSED = _uam(
    "access.credential.refused", 1, "Assign Privileges", "credential issuance was refused"
)
GRANT_UNBOUND = _uam(
    "access.grant.unbound",
    2,
    "Revoke Privileges",
    "a grant row without its creating audit event was found, refused and ended",
)
GRANT_REVOKED = _uam("access.grant.revoked", 2, "Revoke Privileges", "a grant ended")
CREDENTIAL_REVOKED = _uam(
    "access.credential.revoked",
    2,
    "Revoke Privileges",
    "database login removed; details hold the verification result",
)
ORPHAN_REVOKED = _uam(
    "access.orphan.revoked",
    2,
    "Revoke Privileges",
    "a stagewall login no grant explains was removed",
)
IDENTITY_PINNED = _uam(
    "access.resource.pinned",
    99,
    "Other",
    "a resource's server identity (PostgreSQL system identifier, database OID; MySQL server "
    "UUID) was pinned on first verified use",
)
IDENTITY_REFUSED = _uam(
    "access.resource.refused",
    99,
    "Other",
    "a resource changed identity, or a non-production resource is a production server",
)
BREAK_GLASS = _uam("access.breakglass.used", 1, "Assign Privileges", "break-glass access granted")
FOLLOWUP_COMPLETED = _uam(
    "access.followup.completed", 99, "Other", "a break-glass follow-up review was completed"
)
VENDOR_OFFBOARDED = _uam(
    "access.vendor.offboarded", 2, "Revoke Privileges", "all grants of a vendor were revoked"
)
CAMPAIGN_STARTED = _uam("access.campaign.started", 99, "Other", "an access review started")
CAMPAIGN_DECIDED = _uam("access.campaign.decided", 99, "Other", "an access review item decided")
CAMPAIGN_CLOSED = _uam("access.campaign.closed", 99, "Other", "an access review closed")
CAMPAIGN_REVOKED = _uam(
    "access.campaign.revoked",
    2,
    "Revoke Privileges",
    "an access review revoked a standing access path that is not a grant (a token)",
)
CAMPAIGN_FINDING = _uam(
    "access.campaign.finding",
    99,
    "Other",
    "an access review's revoke could not be carried out by stagewall (a server.admins or "
    "server.auditors entry in stagewall.yaml, a login whose removal did not verify)",
)
ALERT_FAILED = register_event_type(
    EventType("alert.delivery.failed", 6003, "API Activity", 99, "Other", "an alert sink failed")
)
