"""The declared world, as written in ``stagewall.yaml``.

Every model forbids unknown fields, so a typo is an error rather than a silently
ignored setting. Cross-references (a role's environment, a principal's vendor, ...)
are checked by :mod:`stagewall.estate._refs` after parsing; policy invariants
(externals never in production, ...) by :mod:`stagewall.estate.invariants`.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from stagewall.estate._duration import Duration

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]

_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@", re.IGNORECASE)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(enum.StrEnum):
    PRODUCTION = "production"
    NON_PRODUCTION = "non-production"


class Environment(_Model):
    """An environment such as production, staging or dev."""

    tier: Tier
    description: str = ""
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names this environment goes by in paths and config (prod, prd, live).",
    )
    paths: list[str] = Field(
        default_factory=list,
        description="Glob patterns of files that belong to this environment "
        "(e.g. envs/prod/**, values-prod.yaml, .env.production).",
    )
    namespaces: list[str] = Field(
        default_factory=list, description="Kubernetes namespaces of this environment."
    )


class ResourceKind(enum.StrEnum):
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    SQLITE = "sqlite"
    HOST = "host"
    DOMAIN = "domain"
    BUCKET = "bucket"
    CLOUD_ACCOUNT = "cloud_account"
    KUBERNETES_NAMESPACE = "kubernetes_namespace"
    QUEUE = "queue"
    API = "api"
    NETWORK = "network"


DATABASE_KINDS = frozenset({ResourceKind.POSTGRESQL, ResourceKind.MYSQL, ResourceKind.SQLITE})


class Resource(_Model):
    """Something an environment owns: a database, host, bucket, account, namespace."""

    environment: str
    kind: ResourceKind
    identifiers: list[str] = Field(
        default_factory=list,
        description="Every name this resource is known by: hostnames, IPs, CIDRs, bucket "
        "names, account ids, URLs, namespace names. Used by `check` and `scan`.",
    )
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    database: str | None = None
    path: str | None = Field(default=None, description="SQLite database file.")
    connection_env: EnvVarName | None = Field(
        default=None,
        description="Name of the environment variable holding the connection URL. "
        "The secret itself is never written in this file.",
    )
    admin_connection_env: EnvVarName | None = Field(
        default=None,
        description="Name of the environment variable holding the admin connection URL "
        "used to issue and revoke just-in-time credentials.",
    )
    description: str = ""

    @field_validator("identifiers", "host")
    @classmethod
    def _no_inline_secret(cls, value: object) -> object:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and _URL_PASSWORD.match(item):
                raise ValueError(
                    "contains a password inside a URL; put the URL in an environment "
                    "variable and name it in connection_env"
                )
        return value

    def all_identifiers(self) -> list[str]:
        """Identifiers plus host/database/path, lower-cased, without duplicates."""
        found = [*self.identifiers]
        if self.host:
            found.append(self.host)
            if self.database:
                found.append(f"{self.host}/{self.database}")
        if self.path:
            found.append(self.path)
        seen: dict[str, None] = {}
        for item in found:
            seen.setdefault(item.strip().lower(), None)
        return list(seen)


class Vendor(_Model):
    """An outside company whose people work for us."""

    contract_start: date
    contract_end: date
    nda_signed: date | None = None
    dpa_signed: date | None = None
    contact: str = ""

    @model_validator(mode="after")
    def _dates_in_order(self) -> Vendor:
        if self.contract_end < self.contract_start:
            raise ValueError("contract_end is before contract_start")
        return self


class Affiliation(enum.StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class PrincipalKind(enum.StrEnum):
    HUMAN = "human"
    SERVICE = "service"


class Identities(_Model):
    """Other identities a principal is known by (for gates and the scanner)."""

    github: list[str] = Field(default_factory=list)
    gitlab: list[str] = Field(default_factory=list)
    cloud: list[str] = Field(
        default_factory=list, description="Cloud IAM ARNs, service-account e-mails, object ids."
    )
    kubernetes: list[str] = Field(default_factory=list, description="Kubernetes user names.")
    ssh_keys: list[str] = Field(
        default_factory=list, description="Public SSH keys used to sign commits."
    )
    gpg_keys: list[str] = Field(
        default_factory=list, description="GPG key fingerprints used to sign commits."
    )


class Principal(_Model):
    """A person or service account. ``affiliation`` must be stated: there is no default."""

    kind: PrincipalKind = PrincipalKind.HUMAN
    affiliation: Affiliation
    vendor: str | None = None
    name: str = ""
    emails: list[str] = Field(default_factory=list)
    identities: Identities = Field(default_factory=Identities)
    disabled: bool = False

    @model_validator(mode="after")
    def _vendor_matches_affiliation(self) -> Principal:
        if self.affiliation is Affiliation.EXTERNAL and not self.vendor:
            raise ValueError(
                "an external principal must name its vendor (vendor: <name>); "
                "a freelancer is a vendor of one"
            )
        if self.affiliation is Affiliation.INTERNAL and self.vendor:
            raise ValueError("an internal principal cannot belong to a vendor")
        return self

    @property
    def is_internal(self) -> bool:
        return self.affiliation is Affiliation.INTERNAL


class Group(_Model):
    members: list[str] = Field(default_factory=list)
    description: str = ""


class Access(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


DEFAULT_ROLE_MAX = timedelta(hours=1)
DEFAULT_PENDING_TTL = timedelta(hours=4)
PRODUCTION_ROLE_CAP = timedelta(hours=12)
BREAK_GLASS_CAP = timedelta(hours=1)


class Role(_Model):
    """What a grant gives: ``access`` on ``resources`` in one environment."""

    environment: str
    resources: list[str] = Field(min_length=1)
    access: Access = Access.READ
    schemas: list[str] = Field(
        default_factory=lambda: ["public"], description="Database schemas the role covers."
    )
    eligible: list[str] = Field(
        default_factory=list,
        description="Principals or groups (group:<name>) who may request this role.",
    )
    approval: str | None = Field(
        default=None, description="Approval rule name; required for production roles."
    )
    max_duration: Duration = DEFAULT_ROLE_MAX
    pending_ttl: Duration = DEFAULT_PENDING_TTL
    break_glass: bool = False
    connection_limit: int = Field(default=5, ge=1, le=100)
    create_objects: bool = Field(
        default=False,
        description="Whether holders may create objects (CREATE on the role's schemas, "
        "TRIGGER on tables). Off by default: an issued login cannot leave functions, "
        "triggers or tables behind.",
    )
    description: str = ""

    @model_validator(mode="after")
    def _bounded(self) -> Role:
        if self.max_duration > timedelta(days=30):
            raise ValueError("max_duration is over 30 days; just-in-time access is short")
        return self


class ApprovalRule(_Model):
    """How many independent internal approvals a request needs.

    Approvers are always internal, never the requester, never from the requester's
    vendor, and always MFA-checked: none of that can be switched off.
    """

    approvals: int = Field(default=1, ge=1, le=10)
    from_groups: list[str] = Field(
        default_factory=list, description="If set, approvers must be in one of these groups."
    )
    description: str = ""


class StandingGrant(_Model):
    """A long-lived grant on a non-production role (e.g. a vendor's developers on staging)."""

    principal: str
    role: str
    expires: date
    reason: str = ""


class Stage(_Model):
    """One step of the promotion path (dev → test → staging → production)."""

    name: Name
    environment: str
    checks: list[str] = Field(default_factory=list)
    approval: str | None = None
    wait: Duration | None = None
    deployers: list[str] = Field(
        default_factory=list, description="Service principals allowed to deploy to this stage."
    )
    require_signed_commits: bool = False


class WebhookSink(_Model):
    type: Literal["webhook"]
    url_env: EnvVarName | None = None
    url: str | None = None
    slack: bool = False
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookSink:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        if self.url and _URL_PASSWORD.match(self.url):
            raise ValueError("the webhook URL contains a password; use url_env")
        return self


class SmtpSink(_Model):
    type: Literal["smtp"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    sender: str
    to: list[str] = Field(min_length=1)
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None


class FileSink(_Model):
    type: Literal["file"]
    path: str


AlertSink = Annotated[WebhookSink | SmtpSink | FileSink, Field(discriminator="type")]


class AuditSettings(_Model):
    origin: str = Field(
        default="stagewall.local/audit",
        description="Checkpoint origin line: a name unique to this deployment's log.",
    )
    checkpoint_every: int = Field(default=1000, ge=1)


class Estate(_Model):
    """The whole ``stagewall.yaml``."""

    version: Literal[1] = 1
    organisation: str = ""
    environments: dict[Name, Environment] = Field(min_length=1)
    resources: dict[Name, Resource] = Field(default_factory=dict)
    vendors: dict[Name, Vendor] = Field(default_factory=dict)
    principals: dict[Name, Principal] = Field(default_factory=dict)
    groups: dict[Name, Group] = Field(default_factory=dict)
    approval_rules: dict[Name, ApprovalRule] = Field(default_factory=dict)
    roles: dict[Name, Role] = Field(default_factory=dict)
    standing_grants: list[StandingGrant] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    alerts: list[AlertSink] = Field(default_factory=list)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    # ---- lookups -------------------------------------------------------
    def is_production(self, environment: str) -> bool:
        env = self.environments.get(environment)
        # Unknown environments count as production: fail closed.
        return env is None or env.tier is Tier.PRODUCTION

    def role_is_production(self, role: str) -> bool:
        r = self.roles.get(role)
        return r is None or self.is_production(r.environment)

    def group_members(self, group: str) -> set[str]:
        g = self.groups.get(group)
        return set(g.members) if g else set()

    def expand(self, refs: list[str]) -> set[str]:
        """Principals named by ``refs`` (principal ids and ``group:<name>`` entries)."""
        out: set[str] = set()
        for ref in refs:
            if ref.startswith("group:"):
                out |= self.group_members(ref.removeprefix("group:"))
            else:
                out.add(ref)
        return out

    def eligible_for(self, role: str) -> set[str]:
        r = self.roles.get(role)
        return self.expand(r.eligible) if r else set()

    def is_internal(self, principal: str) -> bool:
        """Unknown principals are external: fail closed."""
        p = self.principals.get(principal)
        return p is not None and p.is_internal and not p.disabled

    def principal_by_email(self, email: str) -> str | None:
        wanted = email.strip().lower()
        for pid, p in self.principals.items():
            if any(e.lower() == wanted for e in p.emails):
                return pid
        return None

    def vendor_end(self, principal: str) -> datetime | None:
        """The principal's vendor contract end (end of that day, UTC), if any."""
        from datetime import UTC, time

        p = self.principals.get(principal)
        if p is None or p.vendor is None:
            return None
        v = self.vendors.get(p.vendor)
        if v is None:
            return None
        return datetime.combine(v.contract_end, time.max, tzinfo=UTC)

    def environment_of_resource(self, resource: str) -> str | None:
        r = self.resources.get(resource)
        return r.environment if r else None


__all__ = [
    "BREAK_GLASS_CAP",
    "DATABASE_KINDS",
    "DEFAULT_PENDING_TTL",
    "DEFAULT_ROLE_MAX",
    "PRODUCTION_ROLE_CAP",
    "Access",
    "Affiliation",
    "AlertSink",
    "ApprovalRule",
    "AuditSettings",
    "Environment",
    "Estate",
    "FileSink",
    "Group",
    "Identities",
    "Principal",
    "PrincipalKind",
    "Resource",
    "ResourceKind",
    "Role",
    "SmtpSink",
    "Stage",
    "StandingGrant",
    "Tier",
    "Vendor",
    "WebhookSink",
]
