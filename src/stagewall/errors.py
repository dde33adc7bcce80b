"""The one exception tree of stagewall.

Every error carries a stable ``code`` (documented in docs/errors.md and checked by
a test), a human message and a remediation hint. The CLI turns a
:class:`StagewallError` into a clear message and an exit code; only real bugs
produce tracebacks.

Exit codes: 0 success, 1 a check found a problem, 2 usage or configuration error.
"""

from __future__ import annotations

from typing import ClassVar

from stagewall.redact import redact

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_USAGE = 2


class StagewallError(Exception):
    """Base class. ``code`` is stable and documented; ``hint`` says how to fix it."""

    code: ClassVar[str] = "SW000"
    exit_code: ClassVar[int] = EXIT_USAGE
    default_hint: ClassVar[str] = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # No connection-string password ever reaches a message, stderr or the audit log.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.hint = redact(hint if hint is not None else self.default_hint)

    def render(self) -> str:
        text = f"error[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(StagewallError):
    """The estate file, a plan or a command-line argument is wrong."""

    code = "SW100"
    exit_code = EXIT_USAGE
    default_hint = "fix the named file or argument and run the command again"


class UsageError(ConfigError):
    """A command was called with arguments that do not fit."""

    code = "SW101"


class KeyMissing(ConfigError):
    """A signing or masking key is needed but does not exist."""

    code = "SW102"
    default_hint = "run `stagewall keys init` to create the keys in STAGEWALL_HOME"


class PolicyViolation(StagewallError):
    """A check found that the estate or an action breaks a stagewall invariant."""

    code = "SW200"
    exit_code = EXIT_FINDING


class MaskingError(StagewallError):
    """Masking cannot proceed safely."""

    code = "SW300"
    exit_code = EXIT_USAGE


class UnmaskedColumn(MaskingError):
    """A source column is not covered by the plan (schema drift) or is unsafe."""

    code = "SW301"
    default_hint = "run `stagewall mask plan` again or add the column to the plan"


class LeakDetected(MaskingError):
    """Verification found production values in the masked target."""

    code = "SW302"
    exit_code = EXIT_FINDING


class AccessDenied(StagewallError):
    """An access, review or promotion request was refused."""

    code = "SW400"
    exit_code = EXIT_FINDING


class IdentityRefused(AccessDenied):
    """A resource is not the server it was pinned to, or non-production is production."""

    code = "SW410"
    default_hint = (
        "check the resource's admin_connection_env / connection_env and database in "
        "stagewall.yaml (docs/access.md, 'Resource identity')"
    )


class IntegrityError(StagewallError):
    """The audit log or a signed document does not verify."""

    code = "SW500"
    exit_code = EXIT_FINDING


class ChainBroken(IntegrityError):
    """The hash chain or Merkle tree of the audit log does not recompute."""

    code = "SW501"


class SignatureInvalid(IntegrityError):
    """A signature does not verify against the expected key."""

    code = "SW502"


class BackendError(StagewallError):
    """A database, credential backend or other external system failed."""

    code = "SW600"
    exit_code = EXIT_USAGE
    default_hint = "check that the server is reachable and the credentials are right"


ALL_ERRORS: tuple[type[StagewallError], ...] = (
    StagewallError,
    ConfigError,
    UsageError,
    KeyMissing,
    PolicyViolation,
    MaskingError,
    UnmaskedColumn,
    LeakDetected,
    AccessDenied,
    IdentityRefused,
    IntegrityError,
    ChainBroken,
    SignatureInvalid,
    BackendError,
)
