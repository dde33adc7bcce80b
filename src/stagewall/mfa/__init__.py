"""MFA: TOTP enrolment and verification, secrets sealed at rest, codes never reusable."""

from stagewall.mfa.totp import (
    METHOD,
    Enrolment,
    MfaEvidence,
    enroll,
    is_enrolled,
    reset,
    verify,
)

__all__ = ["METHOD", "Enrolment", "MfaEvidence", "enroll", "is_enrolled", "reset", "verify"]
