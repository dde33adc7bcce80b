"""Production access: requests, MFA-checked reviews, grants, credentials, proven revocation.

See docs/access.md. Every function takes an :class:`AccessContext`
(``AccessContext.open(config, db)``).
"""

from stagewall.access._context import AccessContext
from stagewall.access._core import (
    Decision,
    Outcome,
    Request,
    RequestKind,
    Review,
    ReviewResult,
    ThresholdRule,
    evaluate,
    record_review,
)
from stagewall.access._policy import Problem, Source, hold_problem
from stagewall.access.breakglass import (
    FollowUp,
    _state_check,
    break_glass,
    break_glass_problem,
    complete_follow_up,
)
from stagewall.access.campaigns import (
    campaign_report,
    close_campaign,
    decide,
    render_html,
    start_campaign,
)
from stagewall.access.grants import (
    Grant,
    GrantPage,
    GrantRefused,
    GrantStatus,
    grants_page,
    issue_credentials,
    list_grants,
    materialise_standing,
)
from stagewall.access.issuers import CredentialIssuer, IssuedCredential, RevocationProof
from stagewall.access.requests import request_access
from stagewall.access.reviews import AccessKind, review_request, withdraw_approval
from stagewall.access.revoke import (
    OffboardReport,
    RevokeReport,
    end_grant,
    offboard_vendor,
    revoke_grant,
)
from stagewall.access.sweep import SweepReport, sweep, sweep_loop
from stagewall.estate import register_state_check

register_state_check("access.breakglass_follow_ups", _state_check)

__all__ = [
    "AccessContext",
    "AccessKind",
    "CredentialIssuer",
    "Decision",
    "FollowUp",
    "Grant",
    "GrantPage",
    "GrantRefused",
    "GrantStatus",
    "IssuedCredential",
    "OffboardReport",
    "Outcome",
    "Problem",
    "Request",
    "RequestKind",
    "Review",
    "ReviewResult",
    "RevocationProof",
    "RevokeReport",
    "Source",
    "SweepReport",
    "ThresholdRule",
    "break_glass",
    "break_glass_problem",
    "campaign_report",
    "close_campaign",
    "complete_follow_up",
    "decide",
    "end_grant",
    "evaluate",
    "grants_page",
    "hold_problem",
    "issue_credentials",
    "list_grants",
    "materialise_standing",
    "offboard_vendor",
    "record_review",
    "render_html",
    "request_access",
    "review_request",
    "revoke_grant",
    "start_campaign",
    "sweep",
    "sweep_loop",
    "withdraw_approval",
]
