"""Audit event codes of the identity domain (OCSF Authentication 3002, Account Change 3001)."""

from __future__ import annotations

from stagewall.audit import EventType, register_event_type

LOGIN = register_event_type(
    EventType("identity.login", 3002, "Authentication", 1, "Logon", "a login attempt")
)
LOGIN_GUARDED = register_event_type(
    EventType(
        "identity.login.guarded",
        3002,
        "Authentication",
        99,
        "Other",
        "a principal, address or second factor spent its failed-login budget",
    )
)
LOGOUT = register_event_type(
    EventType("identity.logout", 3002, "Authentication", 2, "Logoff", "a token was revoked")
)
TOKEN_REVOKED = register_event_type(
    EventType(
        "identity.token.revoked",
        3002,
        "Authentication",
        2,
        "Logoff",
        "a bearer token row was revoked (the record a row restored later is checked against)",
    )
)
TOKEN_ROW_REFUSED = register_event_type(
    EventType(
        "identity.token.row_refused",
        3002,
        "Authentication",
        99,
        "Other",
        "a bearer token's store row was refused: not made by this server, changed since, "
        "or put back after its revocation",
    )
)
STEP_UP = register_event_type(
    EventType(
        "identity.step_up", 3002, "Authentication", 99, "Other", "a step-up factor was checked"
    )
)
INVITATION_CREATED = register_event_type(
    EventType(
        "identity.invitation.created",
        3001,
        "Account Change",
        1,
        "Create",
        "a one-time invitation link for a local account was created",
    )
)
INVITATION_ACCEPTED = register_event_type(
    EventType(
        "identity.invitation.accepted",
        3001,
        "Account Change",
        10,
        "MFA Factor Enable",
        "an invitation was opened: a password was set and a first factor enrolled",
    )
)
ACCOUNT_CREATED = register_event_type(
    EventType(
        "identity.account.created",
        3001,
        "Account Change",
        1,
        "Create",
        "a local account was created from an invitation",
    )
)
ACCOUNT_RETIRED = register_event_type(
    EventType(
        "identity.account.retired",
        3001,
        "Account Change",
        6,
        "Delete",
        "a principal no longer declared lost its account, factors and logins",
    )
)
DEVICE_APPROVED = register_event_type(
    EventType(
        "identity.device.approved",
        3002,
        "Authentication",
        1,
        "Logon",
        "a device authorization (stagewall login) was approved",
    )
)
DEVICE_DENIED = register_event_type(
    EventType(
        "identity.device.denied",
        3002,
        "Authentication",
        1,
        "Logon",
        "a device authorization (stagewall login) was denied on the approval page",
    )
)
PIPELINE_TOKEN_CREATED = register_event_type(
    EventType(
        "identity.pipeline_token.created",
        3001,
        "Account Change",
        1,
        "Create",
        "a per-pipeline static token was created on the server host",
    )
)
PIPELINE_TOKEN_REVOKED = register_event_type(
    EventType(
        "identity.pipeline_token.revoked",
        3001,
        "Account Change",
        99,
        "Other",
        "a per-pipeline static token was revoked",
    )
)
CI_SESSION_STARTED = register_event_type(
    EventType(
        "identity.ci_session.started",
        3002,
        "Authentication",
        1,
        "Logon",
        "a CI job exchanged its (single-use) CI OIDC token for a job session",
    )
)
BROWSER_LOGIN_APPROVED = register_event_type(
    EventType(
        "identity.browser_login.approved",
        3002,
        "Authentication",
        1,
        "Logon",
        "a person signed a terminal in from the browser (stagewall login --browser)",
    )
)
BROWSER_STEP_UP = register_event_type(
    EventType(
        "identity.browser_step_up.confirmed",
        3002,
        "Authentication",
        99,
        "Other",
        "a person confirmed a terminal's step-up in the browser (stagewall mfa step-up --browser)",
    )
)
