"""Credential issuers: per-grant logins on a resource, and their proven removal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from stagewall.estate import Access, Role


@dataclass(frozen=True)
class CredentialSpec:
    """What to create for one grant on one resource."""

    grant_id: str
    instance_id: str
    resource: str
    role: str
    access: Access
    schemas: tuple[str, ...]
    connection_limit: int
    valid_until: datetime
    create_objects: bool = False

    @classmethod
    def of(
        cls,
        *,
        grant_id: str,
        instance_id: str,
        resource: str,
        role_name: str,
        role: Role,
        valid_until: datetime,
    ) -> CredentialSpec:
        """What ``role`` (declared as ``role_name``) gives a grant's login on ``resource``."""
        return cls(
            grant_id=grant_id,
            instance_id=instance_id,
            resource=resource,
            role=role_name,
            access=role.access,
            schemas=tuple(role.schemas),
            connection_limit=role.connection_limit,
            valid_until=valid_until,
            create_objects=role.create_objects,
        )


@dataclass(frozen=True)
class IssuedCredential:
    """Shown once to the holder. ``password`` never goes to a log or the store."""

    login: str
    password: str = field(repr=False)
    host: str = ""
    port: int = 5432
    database: str = ""
    valid_until: str = ""
    other_databases: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "valid_until": self.valid_until,
            "other_databases": list(self.other_databases),
        }


@dataclass(frozen=True)
class RevocationProof:
    """The data-plane state after a revocation, as measured.

    Verified means: no session, no login, nothing owned outside the quarantine
    role (by the login, its groups or the marker), no membership, no error.
    ``objects`` lists what the holder left behind (now owned by the quarantine
    role), ``disabled`` the SECURITY DEFINER functions and triggers neutralised.
    """

    login: str
    existed: bool
    sessions_terminated: int
    sessions_remaining: int
    role_remaining: bool
    login_possible: bool
    error: str | None = None
    owned_remaining: int = 0
    memberships_remaining: int = 0
    objects: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return (
            self.sessions_remaining == 0
            and not self.login_possible
            and self.owned_remaining == 0
            and self.memberships_remaining == 0
            and self.error is None
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "existed": self.existed,
            "sessions_terminated": self.sessions_terminated,
            "sessions_remaining": self.sessions_remaining,
            "role_remaining": self.role_remaining,
            "login_possible": self.login_possible,
            "owned_remaining": self.owned_remaining,
            "memberships_remaining": self.memberships_remaining,
            "objects": list(self.objects),
            "disabled": list(self.disabled),
            "verified": self.verified,
            "error": self.error,
        }


@dataclass(frozen=True)
class ServerIdentity:
    kind: str
    server: str
    database: str
    database_oid: int | None = None
    address: str | None = None
    port: int | None = None

    def same_server(self, other: ServerIdentity) -> bool:
        return self.kind == other.kind and self.server == other.server

    def same_database(self, other: ServerIdentity) -> bool:
        return (
            self.same_server(other)
            and self.database == other.database
            and self.database_oid == other.database_oid
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "server": self.server,
            "database": self.database,
            "database_oid": self.database_oid,
            "address": self.address,
            "port": self.port,
        }

    def describe(self) -> str:
        where = f" at {self.address}:{self.port}" if self.address else ""
        return f"{self.kind} server {self.server}, database {self.database}{where}"


@dataclass(frozen=True)
class ManagedLogin:
    """A login the issuer recognises as stagewall's (by its marker)."""

    login: str
    grant_id: str | None
    instance_id: str | None


class CredentialIssuer(Protocol):
    def login_for(self, grant_id: str) -> str: ...

    def is_stagewall_login(self, login: str) -> bool: ...

    def issue(self, spec: CredentialSpec) -> IssuedCredential: ...

    def revoke(self, login: str) -> RevocationProof: ...

    def managed_logins(self) -> list[ManagedLogin]: ...

    def session_count(self, login: str) -> int: ...

    def identity(self) -> ServerIdentity: ...


__all__ = [
    "CredentialIssuer",
    "CredentialSpec",
    "IssuedCredential",
    "ManagedLogin",
    "RevocationProof",
    "ServerIdentity",
]
