"""Who is acting: an authenticated :class:`Actor`, established by the server only.

An ``Actor`` is never built from a name a client sends. The server builds it after
verifying a session, an API token or a CI OIDC token; library functions and the
authorization table receive it whole. ``StepUp`` records a second factor that the
server verified *within the same request* (method and time, never the code).
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stagewall.identity._seal import RowReport


class LoginMethod(enum.StrEnum):
    LOCAL = "local"
    OIDC = "oidc"
    TOKEN = "token"  # noqa: S105 - a login method name, not a secret
    CI_OIDC = "ci-oidc"
    PIPELINE_TOKEN = "pipeline-token"  # noqa: S105 - a method name
    INGEST_TOKEN = "ingest-token"  # noqa: S105 - a method name


class ActorClass(enum.StrEnum):
    """The coarse classes of the authorization table (fine rules live in the library)."""

    ANONYMOUS = "anonymous"
    EXTERNAL = "external"
    INTERNAL = "internal"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PIPELINE = "pipeline"
    # A log shipper holding a per-source ingest token: not a person, not a principal
    # of the estate; it may post lines of its one source and nothing else.
    LOG_SOURCE = "log-source"


@dataclass(frozen=True)
class StepUp:
    """A second factor the server verified for this act (kind and time, never the code).

    ``factor`` is what was checked (``totp`` or ``webauthn``); ``window`` is true when
    the act relied on a step-up window opened earlier on the same session or token
    (``POST /api/v1/step-up``), and ``age`` is how long ago the factor was verified.
    """

    factor: str
    verified_at: datetime
    age: timedelta = timedelta(0)
    window: bool = False

    @property
    def kind(self) -> str:
        """What the audit names: ``totp``, ``webauthn`` or ``window``."""
        return "window" if self.window else self.factor

    @property
    def method(self) -> str:
        return self.kind

    @property
    def time(self) -> str:
        return self.verified_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        age = (now - self.verified_at) if now is not None else self.age
        return {
            "method": self.kind,
            "factor": self.factor,
            "window": self.window,
            "verified_at": self.time,
            "time": self.time,
            "age_s": round(max(age.total_seconds(), 0.0), 3),
        }


@dataclass(frozen=True)
class Actor:
    """An authenticated principal and how it authenticated."""

    principal: str
    classes: frozenset[ActorClass]
    method: LoginMethod
    session_id: str
    source_address: str | None = None
    user_agent: str | None = None
    step_up: StepUp | None = None
    # A pipeline's verified CI claims (repository, ref, environment, workflow, run, ...).
    workload: tuple[tuple[str, str], ...] = ()
    # The server's record-and-alert of a store row refused while this actor acts (a
    # step-up window it did not seal); None outside the server (the log hears of it).
    row_report: RowReport | None = field(default=None, compare=False, repr=False)

    def has(self, cls: ActorClass) -> bool:
        return cls in self.classes

    def with_step_up(self, step_up: StepUp) -> Actor:
        return Actor(
            self.principal,
            self.classes,
            self.method,
            self.session_id,
            self.source_address,
            self.user_agent,
            step_up,
            self.workload,
            self.row_report,
        )

    def audit_context(self, now: datetime) -> dict[str, Any]:
        """What every audit event written for this actor records about the login."""
        out: dict[str, Any] = {
            "principal": self.principal,
            "method": self.method.value,
            "session": self.session_id,
            "source_address": self.source_address,
            "user_agent": (self.user_agent or "")[:200] or None,
        }
        if self.step_up is not None:
            out["step_up"] = self.step_up.as_dict()
        if self.workload:
            out["workload"] = dict(self.workload)
        return out


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "stagewall_actor", default=None
)


def current_actor() -> Actor | None:
    """The actor of the server request being handled (None outside a request)."""
    return _current.get()


def set_current_actor(actor: Actor) -> None:
    """Replace the current request's actor (used to attach a verified step-up)."""
    if _current.get() is None:
        raise RuntimeError("set_current_actor outside acting()")
    _current.set(actor)


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Run a block as ``actor``: audit events written inside it carry its login context."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


__all__ = [
    "Actor",
    "ActorClass",
    "LoginMethod",
    "StepUp",
    "acting",
    "current_actor",
    "set_current_actor",
]
