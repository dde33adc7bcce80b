"""The step-up fields every privileged request body carries (``otp`` or ``webauthn``)."""
# No "from __future__ import annotations": pydantic and FastAPI evaluate these annotations.

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

WEBAUTHN_DESCRIPTION = (
    "A passkey assertion (AuthenticationResponseJSON) answering a challenge from "
    "POST /api/v1/mfa/webauthn/assertion/options on this same session or token."
)
OTP_DESCRIPTION = "Your current one-time code (TOTP)."
WINDOW_NOTE = (
    "With neither otp nor webauthn, a step-up window opened by POST /api/v1/step-up "
    "on this session or token must still be open."
)


class Privileged(BaseModel):
    """A privileged act's body: optional ``otp`` or ``webauthn``, else the open window."""

    model_config = ConfigDict(extra="forbid")

    otp: str | None = Field(default=None, max_length=16, description=OTP_DESCRIPTION)
    webauthn: dict[str, Any] | None = Field(default=None, description=WEBAUTHN_DESCRIPTION)
