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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from stagewall.estate._duration import Duration
from stagewall.estate._hours import check_timezone, parse_working_hours
from stagewall.estate._schedule import check_schedule

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]

_TAG_GLOB = re.compile(r"^[A-Za-z0-9_.*?-]{1,128}$")
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
    image_tags: list[str] = Field(
        default_factory=list,
        description="Container image tags only this environment's builds carry, as globs "
        "(prod, prod-*, *-release). `scan` reports an image with such a tag deployed by "
        "another tier (a staging manifest running `api:prod`).",
    )

    @field_validator("image_tags")
    @classmethod
    def _tag_globs(cls, value: list[str]) -> list[str]:
        for glob in value:
            if not _TAG_GLOB.match(glob) or not glob.strip("*?"):
                raise ValueError(
                    f"image tag glob {glob!r} is not a tag pattern: use the tag's letters, "
                    "digits, '.', '_', '-' with * or ? wildcards (prod, prod-*), not a "
                    "pattern that matches every tag"
                )
        return value


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
    REPOSITORY = "repository"
    REGISTRY = "registry"  # container images: identifiers are host[/repository prefix]


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
    working_hours: str | None = Field(
        default=None,
        description="The contract's working window for the vendor's people, e.g. "
        "'Mon-Fri 09:00-17:00'.",
    )

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_working_hours(value)
        return value

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
    logins: list[str] = Field(
        default_factory=list,
        description="Login names on hosts, databases and file servers (sshd, PostgreSQL, "
        "MariaDB, sftp), used by `stagewall ingest` to map log lines to this principal.",
    )


class CiIssuerSpec(_Model):
    """A CI platform whose OIDC ID tokens stagewall accepts (GitHub Actions, GitLab CI)."""

    issuer: str = Field(
        description="Issuer URL exactly as in the tokens' iss claim, e.g. "
        "https://token.actions.githubusercontent.com or https://gitlab.com."
    )
    audience: str = Field(
        min_length=1,
        description="The audience pipelines must request for stagewall (never a platform "
        "default), e.g. https://stagewall.example.com.",
    )
    jwks_uri: str | None = Field(
        default=None,
        description="JWKS URL; by default taken from the issuer's discovery document.",
    )

    @field_validator("issuer", "jwks_uri")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.match(
            r"^(https://[^/\s]+|http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?)(/\S*)?$",
            value,
        ):
            raise ValueError("must be an https:// URL")
        return value


class CiBinding(_Model):
    """Which pipeline runs act as a service principal. Every declared field must match exactly."""

    issuer: Name = Field(description="Name of an entry under ci_issuers.")
    repository: str = Field(
        min_length=1,
        description="GitHub owner/repo or GitLab group/project path (the project_path claim).",
    )
    repository_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]+$",
        description="Numeric repository (GitHub repository_id) or project (GitLab project_id) "
        "id: pins the binding against a renamed or re-registered repository.",
    )
    ref: str | None = Field(
        default=None,
        description="Full git ref, e.g. refs/heads/main or refs/tags/v1.2.3.",
    )
    environment: str | None = Field(
        default=None, min_length=1, description="Deployment environment of the job."
    )
    workflow: str | None = Field(
        default=None,
        description="Workflow file: deploy.yml means .github/workflows/deploy.yml; "
        "a path (.gitlab-ci.yml, ci/deploy.yml) is taken as written.",
    )
    pull_requests: bool = Field(
        default=False,
        description="Accept tokens of pull/merge request runs (GitHub event_name pull_request, "
        "pull_request_target, pull_request_review or pull_request_review_comment, GitLab "
        "pipeline_source merge_request_event or external_pull_request_event, or any run on a "
        "ref under refs/pull/ or refs/merge-requests/). Off by default: "
        "such runs execute code nobody internal has reviewed yet.",
    )

    @field_validator("repository", "workflow", "environment")
    @classmethod
    def _literal(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or re.search(r"[\s*?\[\]@]", value)):
            raise ValueError(
                "must be written out exactly: no spaces, wildcards (* ? [ ]) or @ "
                "(bindings match exactly, never by pattern)"
            )
        return value

    @field_validator("ref")
    @classmethod
    def _full_ref(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"refs/(heads|tags)/[^\s*?\[\]]+", value):
            raise ValueError(
                "must be a full branch or tag ref such as refs/heads/main or refs/tags/v1.0 "
                "(no wildcards)"
            )
        return value

    @model_validator(mode="after")
    def _ref_or_environment(self) -> CiBinding:
        if self.ref is None and self.environment is None:
            raise ValueError(
                "a CI binding must pin a ref (ref: refs/heads/main) or an environment "
                "(environment: production): a repository alone lets every branch and pull "
                "request act as this principal"
            )
        return self


class Principal(_Model):
    """A person or service account. ``affiliation`` must be stated: there is no default."""

    kind: PrincipalKind = PrincipalKind.HUMAN
    affiliation: Affiliation
    vendor: str | None = None
    name: str = ""
    emails: list[str] = Field(default_factory=list)
    identities: Identities = Field(default_factory=Identities)
    disabled: bool = False
    oidc_subject: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The person's subject (sub claim) at the OIDC identity provider. When set, "
        "logins are matched on it rather than on the e-mail address.",
    )
    ci: list[CiBinding] = Field(
        default_factory=list,
        description="Service principals only: the pipeline runs (CI OIDC tokens) that act "
        "as this principal.",
    )

    @model_validator(mode="after")
    def _identity_fits_kind(self) -> Principal:
        if self.ci and self.kind is not PrincipalKind.SERVICE:
            raise ValueError("only a service principal (kind: service) can have ci bindings")
        if self.oidc_subject is not None and self.kind is not PrincipalKind.HUMAN:
            raise ValueError("only a person (kind: human) can have an oidc_subject")
        return self

    timezone: str | None = Field(
        default=None,
        description="IANA time zone of the principal's working hours (default: "
        "monitoring.timezone).",
    )
    working_hours: str | None = Field(
        default=None,
        description="When this principal normally works, e.g. 'Mon-Fri 08:00-18:00' "
        "(default: the vendor's, then monitoring.working_hours).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_working_hours(value)
        return value

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
# An approval is a judgement of a change at a time: one never deployed goes stale.
DEFAULT_APPROVAL_VALID_FOR = timedelta(days=30)
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
    approval_valid_for: Duration = Field(
        default=DEFAULT_APPROVAL_VALID_FOR,
        description="How long an approval counts at `gate check`: an approved change not "
        "deployed within it must be submitted and approved again.",
    )
    deployers: list[str] = Field(
        default_factory=list, description="Service principals allowed to deploy to this stage."
    )
    check_reporters: list[str] | None = Field(
        default=None,
        description="Service principals (or group:<name>) allowed to report this stage's "
        "checks (`gate report`). Absent: any internal, enabled service principal may (the "
        "behaviour of estates written before this field); an empty list: nobody may, so "
        "the stage's checks never pass. Checked again at `gate check`: a report by a "
        "principal the list no longer names does not count.",
    )
    require_signed_commits: bool | None = Field(
        default=None,
        description="Commits must be signed with a key declared for a principal. "
        "Default: yes for a production stage, no otherwise.",
    )


class VendoredDirectory(_Model):
    """A directory of the repository whose content comes from a third party.

    A commit that touches it brings in that party as an author (an external) for
    every gate rule, whoever committed it.
    """

    path: str = Field(
        min_length=1, description="Repository-relative directory, e.g. third_party/payments."
    )
    vendor: str | None = Field(
        default=None,
        description="The vendor that supplies it (declared under vendors:); none: an "
        "unknown third party.",
    )

    @model_validator(mode="after")
    def _relative(self) -> VendoredDirectory:
        parts = [p for p in self.path.replace("\\", "/").split("/") if p not in ("", ".")]
        if self.path.startswith("/") or not parts or ".." in parts:
            raise ValueError(f"vendored path {self.path!r} must be a relative directory")
        object.__setattr__(self, "path", "/".join(parts))
        return self


def plaintext_problem(url: str, what: str) -> str | None:
    """Why ``url`` may not be used without ``allow_plaintext: true`` (None: it may).

    An ``http://`` URL carries what is sent (alerts name people, resources and reasons;
    checkpoints) readable and changeable on the way, except to this host itself."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (
        f"the {what} {parts.scheme}://{parts.hostname or ''}/... is plain http: what it "
        "sends (names, reasons, resources) would cross the network unencrypted; use an "
        "https:// URL, or set allow_plaintext: true on this entry to accept that (it is "
        "then reported by `stagewall check` as SW-EST-W02)"
    )


class WebhookSink(_Model):
    type: Literal["webhook"]
    url_env: EnvVarName | None = None
    url: str | None = None
    slack: bool = False
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    allow_plaintext: bool = Field(
        default=False,
        description="Accept an http:// URL to a host other than this one (reported by "
        "`stagewall check`); without it such a URL is refused.",
    )

    @model_validator(mode="after")
    def _one_url(self) -> WebhookSink:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        if self.url and _URL_PASSWORD.match(self.url):
            raise ValueError("the webhook URL contains a password; use url_env")
        if self.url and not self.allow_plaintext:
            problem = plaintext_problem(self.url, "webhook URL")
            if problem is not None:
                raise ValueError(problem)
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


class SourceType(enum.StrEnum):
    POSTGRESQL = "postgresql"
    MARIADB = "mariadb"
    SSHD = "sshd"
    SFTP = "sftp"
    GITHUB = "github"
    GITLAB = "gitlab"
    GIT = "git"
    CLOUDTRAIL = "cloudtrail"


class MonitoringSource(_Model):
    """A log source that `stagewall ingest` reads."""

    type: SourceType
    resource: str | None = Field(
        default=None,
        description="The resource whose log this is (a database server, host, bucket "
        "account); events that name no declared resource are attributed to it.",
    )
    max_gap: Duration | None = Field(
        default=None,
        description="Alert when this source is silent for longer (ingestion stopped).",
    )
    hosts: tuple[str, ...] = Field(
        default=(),
        description="Other hosts this source's lines may speak for (host names as its lines "
        "write them, or resource names: all their identifiers). A line's host name (syslog "
        "HOSTNAME, server_audit serverhost, CloudTrail account) is chosen by whoever writes "
        "the line: it is attributed only when it is one of these or the source's own "
        "resource; a line naming another declared resource stays with the source's "
        "resource and raises source_host_mismatch.",
    )
    session_name_roles: list[str] = Field(
        default_factory=list,
        description="CloudTrail only: IAM role ARNs (* wildcards) whose session name is set "
        "by your identity provider (IAM Identity Center, SAML or OIDC federation that sets "
        "RoleSessionName), so it names the person. Elsewhere the caller chooses it.",
    )
    source_identity_roles: list[str] = Field(
        default_factory=list,
        description="CloudTrail only: IAM role ARNs (* wildcards) whose trust policy "
        "requires sts:SourceIdentity set by your identity provider, so the session's source "
        "identity names the person.",
    )
    authenticating: bool = Field(
        default=False,
        description="git only: the web server writing this smart-HTTP access log checks the "
        "user it logs (basic auth verified by the server itself, or a login it enforces) "
        "before it answers, so a successful response's user is who acted. Otherwise that "
        "user is what the client sent (a proxy may log a header or a basic-auth name it "
        "never checked): recorded as a claim, never attributed.",
    )
    trust_program_names: bool = Field(
        default=False,
        description="sshd, sftp and git only: the program names (syslog TAG) of this "
        "source's text syslog lines, and the git-ssh wrapper's lines, are trusted as "
        "the daemon's: only the daemons can write what this source reads (no untrusted "
        "local users on the host, or a relay that checks the sending process). Otherwise "
        "any local user's `logger -t sshd` reads as sshd: such lines are recorded as "
        "claims, never attributed. journald records are checked by their _COMM without it.",
    )
    syslog_trusted_properties: bool = Field(
        default=False,
        description="sshd, sftp and git only: the rsyslog that writes this source's text "
        "lines annotates each with the kernel's credentials of the sending process "
        '(imuxsock SysSock.Annotate="on", ParseTrusted off: a trailing '
        '`@[_PID=.. _UID=.. _GID=.. _COMM=.. _EXE=.. _CMDLINE=".."]`). A daemon\'s line is '
        "then proven by that trailer (its _COMM and _EXE name the daemon; sshd's logons come "
        "from uid 0) and refused as a claim without one; trust_program_names is not needed.",
    )
    description: str = ""

    @model_validator(mode="after")
    def _program_trust_on_syslog(self) -> MonitoringSource:
        syslog = (SourceType.SSHD, SourceType.SFTP, SourceType.GIT)
        for name in ("trust_program_names", "syslog_trusted_properties"):
            if getattr(self, name) and self.type not in syslog:
                raise ValueError(
                    f"{name} applies to sshd, sftp and git sources only (their syslog "
                    f"lines; this source is {self.type.value}): remove it"
                )
        return self

    @model_validator(mode="after")
    def _authenticating_on_git(self) -> MonitoringSource:
        if self.authenticating and self.type is not SourceType.GIT:
            raise ValueError(
                "authenticating applies to git sources only (their smart-HTTP access log; "
                f"this source is {self.type.value}): remove it"
            )
        return self

    @model_validator(mode="after")
    def _cloud_roles_on_cloudtrail(self) -> MonitoringSource:
        if (self.session_name_roles or self.source_identity_roles) and (
            self.type is not SourceType.CLOUDTRAIL
        ):
            raise ValueError(
                "session_name_roles and source_identity_roles apply to cloudtrail sources "
                f"only (this source is {self.type.value}): remove them"
            )
        return self


class RuleSettings(_Model):
    """Per-rule settings; unset fields keep the rule's own values."""

    enabled: bool = True
    threshold: int | None = Field(default=None, ge=1, description="Correlation count.")
    timespan: Duration | None = Field(default=None, description="Correlation window.")
    k: float | None = Field(default=None, gt=0, description="MAD multiplier (volume rule).")
    floor_bytes: int | None = Field(default=None, ge=0)
    floor_count: int | None = Field(default=None, ge=0)
    dedup: Duration | None = Field(
        default=None, description="One alert per actor and resource within this window."
    )


class Suppression(_Model):
    """Findings of ``rule`` that match every given field are not alerted."""

    rule: str
    reason: str = Field(min_length=1)
    principal: str | None = None
    user: str | None = None
    src_ip: str | None = Field(default=None, description="An address or a CIDR network.")
    resource: str | None = None
    until: date | None = None


class SegmentationSettings(_Model):
    """Who may report `stagewall probe` results (docs/access.md, Network segmentation probe)."""

    reporters: list[str] = Field(
        default_factory=list,
        description="Internal principals (usually the probe hosts' service principals) or "
        "group:<name> entries whose probe reports the server accepts and the evidence "
        "counts. Empty or absent: nobody's (a report is refused and recorded).",
    )


class MonitoringSettings(_Model):
    sources: dict[Name, MonitoringSource] = Field(default_factory=dict)
    rules_dir: str | None = Field(
        default=None,
        description="Directory of your own Sigma rules (*.yml), relative to stagewall.yaml.",
    )
    rules: dict[str, RuleSettings] = Field(default_factory=dict)
    suppress: list[Suppression] = Field(default_factory=list)
    timezone: str = "UTC"
    working_hours: str = "Mon-Fri 07:00-20:00"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_working_hours(value)
        return value


class _CosigningWitness(_Model):
    """A witness that cosigns (tlog-cosignature/v1): it has a verifier key."""

    public_key: str = Field(
        description="The witness's verifier key (vkey, type 0x04), as printed by "
        "`stagewall witness init`; its name is the witness name.",
    )

    @field_validator("public_key")
    @classmethod
    def _vkey(cls, value: str) -> str:
        from stagewall.audit._cosignature import parse_witness_key
        from stagewall.errors import ConfigError

        try:
            parse_witness_key(value, source="witness public_key")
        except ConfigError as exc:
            raise ValueError(exc.message) from exc
        return value.strip()


class WitnessSettings(_CosigningWitness):
    """One C2SP tlog-witness that cosigns the audit log's checkpoints."""

    type: Literal["tlog"] = Field(
        default="tlog", description="A C2SP tlog-witness (the default when type is omitted)."
    )
    url: str | None = Field(
        default=None,
        description="Submission prefix (POST <url>/add-checkpoint). Without it the witness "
        "only counts for cosignatures that reach the store another way.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    allow_plaintext: bool = Field(
        default=False,
        description="Accept an http:// url to a host other than this one (reported by "
        "`stagewall check`); without it such a url is refused.",
    )

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None:
            if not re.match(r"^https?://[^\s/]+", value):
                raise ValueError("a witness url is http(s)://host[:port][/prefix]")
            if _URL_PASSWORD.match(value):
                raise ValueError("the witness URL contains a password")
        return value

    @model_validator(mode="after")
    def _tls(self) -> WitnessSettings:
        if self.url is not None and not self.allow_plaintext:
            problem = plaintext_problem(self.url, "witness url")
            if problem is not None:
                raise ValueError(problem)
        return self


class GitWitnessSettings(_CosigningWitness):
    """A git repository the auditor controls: each checkpoint becomes a commit.

    The server commits the cosigned checkpoint (the log's signed note plus a
    tlog-cosignature/v1 line by ``signing_key_file``) to ``path`` on ``branch`` and
    pushes without force; the repository must refuse non-fast-forward pushes and
    branch deletions (``receive.denyNonFastForwards``, ``receive.denyDeletes``).
    """

    type: Literal["git"]
    repository: str = Field(
        min_length=1,
        description="What `git push` and `git fetch` reach: a path, file://, ssh:// or "
        "https:// URL (credentials through git's own ssh agent or credential helper).",
    )
    branch: str = Field(default="main", pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}$")
    path: str = Field(
        default="checkpoint.txt",
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$",
        description="The checkpoint file inside the repository.",
    )
    signing_key_file: str = Field(
        description="The private key of public_key (PRIVATE+KEY+..., type 0x04), as "
        "`stagewall witness init DIR --name NAME` writes it (DIR/witness.key); relative "
        "to stagewall.yaml.",
    )
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("repository")
    @classmethod
    def _no_password(cls, value: str) -> str:
        if _URL_PASSWORD.match(value):
            raise ValueError(
                "the git witness repository URL contains a password; use an ssh key or "
                "git's credential helper"
            )
        if value.startswith("-"):
            raise ValueError("a git witness repository must not start with '-'")
        return value


class EmailWitnessSettings(_Model):
    """The auditor's mailbox: the newest signed checkpoint, mailed once per period."""

    type: Literal["email"]
    name: str = Field(
        min_length=1, max_length=128, pattern=r"^[^\s+]+$", description="Names this witness."
    )
    smtp: SmtpSink = Field(description="How to send (an SMTP sink; `to` are the auditors).")
    every: Duration = Field(
        default=timedelta(hours=1),
        description="At most one mail per period: the newest checkpoint then covers all.",
    )


def _witness_type(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "tlog"))
    return str(getattr(value, "type", "tlog"))


AnyWitness = Annotated[
    Annotated[WitnessSettings, Tag("tlog")]
    | Annotated[GitWitnessSettings, Tag("git")]
    | Annotated[EmailWitnessSettings, Tag("email")],
    Discriminator(_witness_type),
]


class ScanSettings(_Model):
    """What the evidence takes from `stagewall scan` runs recorded in the audit log."""

    reporters: list[str] = Field(
        default_factory=list,
        description="Who may record the configuration scans the evidence counts: the "
        "actors of `scan.run.completed` events exactly as the audit log records them "
        "(`stagewall scan` records the OS user it runs as, e.g. the CI runner's). A scan "
        "recorded by anyone else does not count for `scan.no_high_findings`; empty (the "
        "default): no scan counts and the check is NOT_VERIFIABLE.",
    )


REMOVED_AUDIT_SETTINGS: dict[str, str] = {
    "origin": "the checkpoint origin is the name of the log's signing key (`stagewall keys "
    "init --name NAME`), which every signed note carries and every witness was given with "
    "the public key; a second name here could only disagree with it. Delete the line; to "
    "name a new log, choose the name when you create its key",
    "checkpoint_every": "checkpoints are made every 1000 events and when the newest is older "
    "than an hour by every process that appends, most of which never read stagewall.yaml, "
    "and the server's witness round checkpoints every minute; a per-file count could not be "
    "honoured. Delete the line; run `stagewall audit checkpoint` for a checkpoint now",
}
"""Fields ``audit:`` once accepted but never used: naming one is refused (SW976), never
silently ignored, so nobody believes it took effect."""


class AuditSettings(_Model):
    witnesses: list[AnyWitness] = Field(
        default_factory=list,
        description="Witnesses of the checkpoints: C2SP tlog-witnesses (type tlog, the "
        "default), git repositories (type git) and auditors' mailboxes (type email).",
    )
    witness_quorum: int = Field(
        default=1,
        ge=1,
        description="How many distinct witnesses must have cosigned within witness_max_age "
        "for `audit verify` to pass (when witnesses are configured).",
    )
    witness_max_age: Duration = Field(
        default=timedelta(minutes=10),
        description="How recent the quorum's cosignatures must be.",
    )

    @model_validator(mode="after")
    def _quorum_reachable(self) -> AuditSettings:
        if self.witnesses:
            names = [
                w.name if isinstance(w, EmailWitnessSettings) else w.public_key.split("+", 1)[0]
                for w in self.witnesses
            ]
            if len(set(names)) != len(names):
                raise ValueError("two witnesses have the same name")
            signing = [w for w in self.witnesses if not isinstance(w, EmailWitnessSettings)]
            if signing and self.witness_quorum > len(signing):
                raise ValueError(
                    f"witness_quorum {self.witness_quorum} is more than the "
                    f"{len(signing)} cosigning witness(es) configured (tlog and git; "
                    "e-mail witnesses do not cosign)"
                )
        return self


_RP_ID = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class WebauthnSettings(_Model):
    """The WebAuthn relying party: passkeys bound to ``rp_id``, checked against ``origins``."""

    rp_id: str = Field(
        description="The bare domain passkeys are registered for (stagewall.example.com); "
        "it must be the origins' host or a parent domain of it."
    )
    origins: list[str] = Field(
        min_length=1,
        description="The exact origins (scheme://host[:port]) the browser pages are served from.",
    )
    rp_name: str = Field(default="stagewall", min_length=1, max_length=64)

    @model_validator(mode="after")
    def _origins_match(self) -> WebauthnSettings:
        from urllib.parse import urlsplit

        if not _RP_ID.fullmatch(self.rp_id):
            raise ValueError(
                f"webauthn rp_id {self.rp_id!r} must be a bare lower-case domain name "
                "(no scheme, port or path)"
            )
        for origin in self.origins:
            parts = urlsplit(origin)
            host = parts.hostname or ""
            if origin != f"{parts.scheme}://{parts.netloc}" or not host:
                raise ValueError(f"webauthn origin {origin!r} must be scheme://host[:port] only")
            if parts.scheme != "https" and host != "localhost":
                raise ValueError(f"webauthn origin {origin!r} must use https (or be localhost)")
            if host != self.rp_id and not host.endswith("." + self.rp_id):
                raise ValueError(
                    f"webauthn origin {origin!r} is not on rp_id {self.rp_id!r} or a subdomain"
                )
        return self


class OidcLoginSettings(_Model):
    """The company's OpenID provider for browser login (authorization code + PKCE)."""

    issuer: str = Field(description="The issuer URL (https; its discovery document is fetched).")
    client_id: str = Field(min_length=1, max_length=256)
    client_secret_file: str | None = Field(
        default=None, description="A file holding the client secret (read by the server only)."
    )
    client_secret_env: EnvVarName | None = Field(
        default=None, description="An environment variable holding the client secret."
    )
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    redirect_uri: str | None = Field(
        default=None,
        description="The callback registered at the provider; default "
        "<public_url>/api/v1/oidc/callback.",
    )
    login_ttl_seconds: int = Field(
        default=600, ge=30, le=3600, description="How long a started login may take."
    )

    @model_validator(mode="after")
    def _one_secret_source(self) -> OidcLoginSettings:
        if self.client_secret_file and self.client_secret_env:
            raise ValueError("give client_secret_file or client_secret_env, not both")
        if "openid" not in self.scopes:
            raise ValueError("oidc scopes must include 'openid'")
        return self


class ServerSettings(_Model):
    """How ``stagewall serve`` runs. Secrets are never written here, only where they live."""

    public_url: str = Field(
        default="http://127.0.0.1:8443",
        description="The URL people and the CLI reach the server at (links in e-mails); "
        "https:// whenever people reach it over TLS (the proxy's or the server's own).",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        """An absolute http(s) URL, its scheme in lower case: the server decides from its
        scheme whether cookies are ``Secure``/``__Host-`` and HSTS is sent, so a URL it
        cannot read (no scheme, ``HTTPS://`` in capitals) must not pass for plain http."""
        got = re.match(r"^(https?)://([^/?#@\s]+)(/[^?#\s]*)?$", value.strip(), re.IGNORECASE)
        if got is None:
            raise ValueError(
                f"public_url {value[:200]!r} is not an http:// or https:// URL; write the "
                "address people open, e.g. https://stagewall.example.com (no user, query "
                "or fragment)"
            )
        return got.group(1).lower() + "://" + got.group(2) + (got.group(3) or "")

    bind: str = Field(default="127.0.0.1:8443", description="host:port to listen on.")
    admins: list[str] = Field(
        default_factory=list,
        description="Internal people (or group:<name>) who may invite accounts.",
    )
    auditors: list[str] = Field(
        default_factory=list,
        description="Principals (or group:<name>) who read the log and reports, read-only.",
    )
    token_ttl: Duration = Field(
        default=timedelta(hours=12), description="Lifetime of a login token."
    )
    tls_cert: str | None = Field(default=None, description="PEM certificate file.")
    tls_key: str | None = Field(default=None, description="PEM private key file.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For is believed.",
    )
    sweep_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    webauthn: WebauthnSettings | None = Field(
        default=None,
        description="Passkeys and security keys; without it the server refuses WebAuthn.",
    )
    oidc: OidcLoginSettings | None = Field(
        default=None, description="Browser login through the company's OpenID provider."
    )
    step_up_window_seconds: int = Field(
        default=120,
        ge=0,
        le=300,
        description="How long POST /api/v1/step-up lets one session act without a new factor.",
    )
    evidence_schedule: str | None = Field(
        default="daily 03:00",
        description="When the server's leader evaluates every evidence check and records "
        "the results (hourly, nightly or daily HH:MM, UTC); null to switch off.",
    )

    @field_validator("evidence_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return check_schedule(value)


class MaskingJob(_Model):
    """A masking run the server performs with the credentials only it holds."""

    source: str = Field(description="The resource read (usually production).")
    target: str = Field(description="The non-production resource written (its tables replaced).")
    plan: str = Field(min_length=1, description="Plan file, relative to stagewall.yaml.")
    schedule: str | None = Field(
        default=None, description="hourly, nightly (02:00 UTC) or daily HH:MM (UTC)."
    )
    run_by: list[str] = Field(
        default_factory=list,
        description="Internal people (or group:<name>) who may start it; empty: any internal "
        "person. Externals and service principals never may.",
    )
    verify: bool = Field(default=True, description="Verify the target after the run.")
    jobs: int = Field(default=1, ge=1, le=16, description="Tables masked in parallel.")
    description: str = ""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return check_schedule(value)


# Who acts through `stagewall server ...` on the server host (it holds the store and
# the keys); never a principal's name.
HOST_OPERATOR = "server-operator"


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
    scan: ScanSettings = Field(default_factory=ScanSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    ci_issuers: dict[Name, CiIssuerSpec] = Field(
        default_factory=dict,
        description="CI platforms whose OIDC ID tokens are accepted, by the name that "
        "principals' ci bindings use (github, gitlab, ...).",
    )
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    segmentation: SegmentationSettings = Field(default_factory=SegmentationSettings)
    masking_jobs: dict[Name, MaskingJob] = Field(
        default_factory=dict,
        description="Masking runs the server performs (docs/server.md, Masking jobs).",
    )
    vendored: list[VendoredDirectory] = Field(
        default_factory=list,
        description="Directories of the repositories whose content a vendor or another "
        "third party supplies; a commit touching one counts that party as an author.",
    )

    @field_validator("principals")
    @classmethod
    def _no_reserved_principal(cls, value: dict[str, Principal]) -> dict[str, Principal]:
        if HOST_OPERATOR in value:
            raise ValueError(
                f"the principal name {HOST_OPERATOR!r} is reserved: it names whoever runs "
                "`stagewall server` commands on the server host (in the audit log, and "
                "for invitations, which it makes without the 24-hour quarantine); "
                "rename the principal"
            )
        return value

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
        """The principal declaring ``email`` (NFKC, case-folded), else None."""
        from stagewall.estate.identity import normalise

        wanted = normalise(email)
        for pid, p in self.principals.items():
            if any(normalise(e) == wanted for e in p.emails):
                return pid
        return None

    def signed_commits_required(self, stage: Stage) -> bool:
        """Whether ``stage`` requires signed commits (production stages do by default)."""
        if stage.require_signed_commits is not None:
            return stage.require_signed_commits
        return self.is_production(stage.environment)

    def principals_resembling(self, email: str) -> set[str]:
        """Principals with an e-mail of the same confusable skeleton (TR39) as ``email``,
        or of the same mailbox once sub-addresses are dropped (``alice+x@`` is ``alice@``)."""
        from stagewall.estate.identity import mailbox, skeleton

        wanted = {skeleton(email), skeleton(mailbox(email))}
        return {
            pid
            for pid, p in self.principals.items()
            if any(skeleton(e) in wanted or skeleton(mailbox(e)) in wanted for e in p.emails)
        }

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
    "CiBinding",
    "CiIssuerSpec",
    "EmailWitnessSettings",
    "Environment",
    "Estate",
    "FileSink",
    "GitWitnessSettings",
    "Group",
    "Identities",
    "MaskingJob",
    "MonitoringSettings",
    "MonitoringSource",
    "Principal",
    "PrincipalKind",
    "Resource",
    "ResourceKind",
    "Role",
    "RuleSettings",
    "SmtpSink",
    "SourceType",
    "Stage",
    "StandingGrant",
    "Suppression",
    "Tier",
    "Vendor",
    "WebhookSink",
    "WitnessSettings",
]
