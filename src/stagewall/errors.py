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


class EmptyArgument(UsageError):
    """An option or argument was given explicitly with an empty value."""

    code = "SW110"
    default_hint = "give a value, or leave the option out to use its default"


class ArgumentTooLong(UsageError):
    """A name or other bounded value given on the command line is too long or malformed."""

    code = "SW111"


class DurationOutOfRange(UsageError):
    """A duration or interval given on the command line is not one, or is outside its bounds."""

    code = "SW112"


class PathUnusable(UsageError):
    """A path given on the command line is a FIFO, device, socket, symlink loop, or a
    directory where a file is needed (or the reverse): reading it would block or fail."""

    code = "SW113"
    default_hint = "give a regular file (or a directory where one is asked for)"


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


class SchemaPersonalData(MaskingError):
    """A schema object's name, or a definition the copy recreates, holds personal data."""

    code = "SW520"
    default_hint = (
        "rename the object (or rewrite the definition) in the source, or, if it is not "
        "personal, acknowledge it in the plan under `acknowledged:` with the reason "
        "(docs/masking.md, 'Personal data in the schema'); the target was not touched"
    )


class DocumentTypeLost(MaskingError):
    """An hstore or xml column would be copied into a target without that type."""

    code = "SW521"
    default_hint = (
        "plan the column `null` (or `constant`), or mask into a PostgreSQL target, where "
        "the column keeps its type; the target was not touched"
    )


class TargetTakenOver(MaskingError):
    """A run about to mark its copy complete found the target's marker no longer its own
    ``running`` one: a withdrawal, or another run, took the target meanwhile."""

    code = "SW522"
    exit_code = EXIT_FINDING
    default_hint = (
        "nothing was marked complete and the marker found was left as it was: read the "
        "audit log for the withdrawal or the run that took the target, and start a new "
        "run once none is in progress"
    )

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        run_id: str | None = None,
        started_at: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.run_id = run_id  # the run that lost the target
        self.started_at = started_at


class LeakNotWithdrawn(MaskingError):
    """A copy that did not verify clean was not dropped: the target's marker no longer
    names its run (another run's, another plan's, or none)."""

    code = "SW523"
    exit_code = EXIT_FINDING
    default_hint = (
        "treat the target as holding production data: keep non-production users off it, "
        "read its stagewall_masking_run row, and drop its tables by hand unless the run "
        "its marker names completes and verifies clean"
    )


class SchemaNameUnconfirmed(MaskingError):
    """A schema object's name or literal holds an ordinary word (or one the schema uses
    twice) that is a source name, unacknowledged."""

    code = "SW528"
    default_hint = (
        "if the word is the word (`grace_period`, `'days of grace'`), acknowledge the "
        "object in the plan under `acknowledged:` with the reason; if it names the "
        "person, rename or rewrite it in the source (docs/masking.md, 'Personal data "
        "in the schema'); the target was not touched"
    )


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


class WitnessConflict(IntegrityError):
    """A witness holds a cosigned view of the log that the log no longer matches."""

    code = "SW510"
    default_hint = (
        "the log was truncated or rewritten after a witness cosigned it; restore it from "
        "a bundle consistent with the witness's checkpoint and investigate who changed it"
    )


class WitnessQuorumMissing(IntegrityError):
    """Fewer configured witnesses than the quorum cosigned the log recently enough."""

    code = "SW511"
    default_hint = (
        "run the server (it sends checkpoints to the witnesses every minute), check the "
        "witnesses are reachable, or lower audit.witness_quorum in stagewall.yaml"
    )


class UnsignedEvents(IntegrityError):
    """Events of a bundle that no checkpoint signed by the pinned key covers."""

    code = "SW930"
    default_hint = (
        "anyone who can write the store can write such events; ask for a bundle exported by "
        "the server (`stagewall audit export`), which signs a checkpoint covering every event"
    )


class AttestationMismatch(IntegrityError):
    """A valid attestation is about another stage, commit or artifact than expected."""

    code = "SW513"
    default_hint = "deploy only what the attestation names, or obtain one for this change"


class StoreRoleUnsafe(ConfigError):
    """The server's store role could alter or delete audit events or their triggers."""

    code = "SW514"
    default_hint = "connect as the runtime role, not the owner (docs/audit.md, Least privilege)"


class BackendError(StagewallError):
    """A database, credential backend or other external system failed."""

    code = "SW600"
    exit_code = EXIT_USAGE
    default_hint = "check that the server is reachable and the credentials are right"


class NotAuthenticated(StagewallError):
    """The server does not know who is asking: no, expired or revoked token; failed login."""

    code = "SW720"
    exit_code = EXIT_USAGE
    default_hint = "run `stagewall login --server URL` and try again"


class StepUpRequired(AccessDenied):
    """A privileged act needs a second factor verified in the same request."""

    code = "SW721"
    default_hint = "give your current one-time code (--otp CODE) or use your security key"


class NoSecondFactor(StepUpRequired):
    """A privileged act needs a second factor and the person has none enrolled."""

    code = "SW611"
    default_hint = (
        "add a passkey on the web UI's Sign-in and step-up page (/security), or enrol an "
        "authenticator app with `stagewall mfa enroll`"
    )


class RateLimited(StagewallError):
    """Too many attempts from one principal or address; wait and try again."""

    code = "SW722"
    exit_code = EXIT_USAGE
    default_hint = "wait a minute before trying again"


class ServerError(BackendError):
    """The stagewall server could not be reached or answered with an error it did not explain."""

    code = "SW723"
    default_hint = "check --server / STAGEWALL_SERVER and that `stagewall serve` is running"


class AuthenticationFailed(StagewallError):
    """Who is acting could not be established: a login, token or passkey was refused."""

    code = "SW700"
    exit_code = EXIT_USAGE
    default_hint = "log in again; if it keeps failing, ask an administrator to check the logs"


class IdentityProviderError(AuthenticationFailed):
    """The identity provider or a token issuer could not be reached or answered nonsense."""

    code = "SW701"
    default_hint = (
        "check that the issuer URL is right and reachable from the stagewall server "
        "(its /.well-known/openid-configuration and JWKS)"
    )


class EmailNotVerified(AuthenticationFailed):
    """The identity provider does not vouch for the e-mail address it sent."""

    code = "SW702"
    default_hint = (
        "verify the e-mail address at the identity provider, or declare the principal's "
        "oidc_subject in stagewall.yaml"
    )


class IdentityAmbiguous(AuthenticationFailed):
    """A login or pipeline token matches more than one principal or CI binding."""

    code = "SW703"
    default_hint = (
        "make the declarations in stagewall.yaml distinct so that each identity maps to "
        "exactly one principal"
    )


class PipelineNotBound(AuthenticationFailed):
    """A verified CI token matches no service principal's ci binding (repository, ref, ...)."""

    code = "SW850"
    default_hint = (
        "declare a ci binding for this repository, ref, environment and workflow on a service "
        "principal in stagewall.yaml (pull_request runs need pull_requests: true)"
    )


class PipelineTokenRefused(ConfigError):
    """A per-pipeline token cannot be created or revoked as asked."""

    code = "SW851"
    default_hint = "name an enabled service principal declared in stagewall.yaml"


class HistoryRejected(AccessDenied):
    """The commit objects sent with a promotion do not prove its history."""

    code = "SW852"
    default_hint = (
        "submit from a full clone (fetch-depth: 0 / GIT_DEPTH: 0) with `stagewall gate submit`, "
        "which sends every commit object since the stage's last promotion"
    )


class WebauthnNotConfigured(ConfigError):
    """A passkey was used but the server has no WebAuthn relying party configured."""

    code = "SW840"
    default_hint = (
        "set server.webauthn.rp_id and server.webauthn.origins in stagewall.yaml "
        "(docs/server.md, Passkeys)"
    )


class StepUpRefused(AccessDenied):
    """A step-up factor was presented and refused (wrong, replayed, expired or not yours)."""

    code = "SW841"
    default_hint = (
        "ask for new options (POST /api/v1/mfa/webauthn/assertion/options) and try again, "
        "or give your current one-time code"
    )


class AuthenticatorCloned(StepUpRefused):
    """A passkey's signature counter went backwards: the authenticator may be cloned."""

    code = "SW842"
    default_hint = (
        "the passkey was refused; an administrator should reset this principal's factors "
        "and the principal register a new passkey"
    )


class FactorRegistrationRefused(AccessDenied):
    """A new factor could not be registered for the logged-in principal."""

    code = "SW843"
    default_hint = (
        "register from a session of your own; with a factor already registered, step up "
        "with it first (otp or webauthn in the request, or POST /api/v1/step-up)"
    )


class OidcLoginRefused(NotAuthenticated):
    """A login through the OpenID provider was refused (state, nonce, token or mapping)."""

    code = "SW844"
    default_hint = "start again from /api/v1/oidc/login; ask an admin if it keeps failing"


class OidcNotConfigured(ConfigError):
    """OIDC login was asked for but the server has no OpenID provider configured."""

    code = "SW845"
    default_hint = "set server.oidc (issuer, client_id, client_secret_file/env) in stagewall.yaml"


class MonitoringError(ConfigError):
    """Log ingestion or detection cannot run with this configuration or input."""

    code = "SW820"


class UnknownLogSource(MonitoringError):
    """``stagewall ingest`` was given a source that stagewall.yaml does not declare."""

    code = "SW821"
    default_hint = "declare it under monitoring.sources in stagewall.yaml (type: postgresql, ...)"


class SigmaRuleInvalid(MonitoringError):
    """A Sigma rule (shipped or yours) cannot be parsed or evaluated by stagewall."""

    code = "SW822"


class IngestTokenInvalid(NotAuthenticated):
    """A request to the ingest endpoint carried no ingest token, or an unknown or revoked one."""

    code = "SW880"
    default_hint = (
        "on the server host run `stagewall server ingest-token create SOURCE` and send "
        "the token as Authorization: Bearer swi_..."
    )


class IngestSourceMismatch(AccessDenied):
    """An ingest token was used for a log source other than the one it was created for."""

    code = "SW881"
    default_hint = "each source has its own token; post to /api/v1/ingest/<the token's source>"


class IngestBodyTooLarge(MonitoringError):
    """An ingest request body is larger than the server accepts in one request."""

    code = "SW882"
    http_status = 413
    default_hint = "split the lines into several requests"


class RetryLater(RateLimited):
    """A rate limit that knows when the next attempt will be admitted."""

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after  # whole seconds, for the Retry-After header


class LoginStartsLimited(RetryLater):
    """One address started more device codes or identity-provider logins than it may."""

    code = "SW610"
    default_hint = "wait for Retry-After; a person needs only one login at a time"


class LoginGuarded(RateLimited):
    """A local login refused while its principal or address has spent its failed-login
    budget: until those failures expire, only a login giving the right password and
    one-time code together is checked (and let in)."""

    code = "SW612"
    default_hint = (
        "give your principal, password and one-time code in one attempt (the login page "
        "and `stagewall login --password` do); a login without a second factor waits "
        "until the failures are five minutes old"
    )


class IngestRateLimited(RetryLater):
    """An ingest token sent more requests or lines per second than its source may."""

    code = "SW883"
    default_hint = "slow down, or send more lines per request (see Retry-After)"


class IngestTokenUnknown(MonitoringError):
    """No ingest token has this id (or it is already revoked)."""

    code = "SW884"
    default_hint = "list the tokens with `stagewall server ingest-token list`"


class WitnessUnavailable(BackendError):
    """A witness could not be reached or answered outside the tlog-witness protocol."""

    code = "SW512"
    default_hint = "check the witness URL in stagewall.yaml and that `stagewall witness serve` runs"


class GitWitnessFailed(WitnessUnavailable):
    """A git witness repository could not be read, committed to or pushed to."""

    code = "SW515"
    default_hint = (
        "check audit.witnesses[].repository (reachable with the server's git credentials, "
        "branch writable by fast-forward) and that git is installed"
    )


class CheckpointNotFound(UsageError):
    """A checkpoint file (or a mail saved to a file) holds no signed checkpoint note."""

    code = "SW516"
    default_hint = (
        "pass a checkpoint file, or the whole mail an e-mail witness sent (as .eml or "
        "text), which holds the note between the BEGIN/END STAGEWALL CHECKPOINT lines"
    )


class PackInvalid(IntegrityError):
    """An evidence pack was altered, is incomplete, or a row is not bound to an event."""

    code = "SW800"


class EvidenceError(StagewallError):
    """Evidence cannot be computed, packed or answered from the given input."""

    code = "SW801"
    exit_code = EXIT_USAGE


# --- serverops: masking jobs and scheduled tasks in the server (SW860-SW869) ---


class MaskingJobUnknown(ConfigError):
    """A masking job name that stagewall.yaml does not declare."""

    code = "SW860"
    http_status: ClassVar[int] = 404
    default_hint = "list the jobs with GET /api/v1/masking/jobs; declare them under masking_jobs:"


class MaskingJobInvalid(ConfigError):
    """A declared masking job cannot run as configured on the server."""

    code = "SW861"
    default_hint = "fix the job in stagewall.yaml or the server's environment and start it again"


class MaskingJobTargetProduction(MaskingJobInvalid):
    """A masking job's target, declared non-production, is in fact a production database."""

    code = "SW150"
    default_hint = (
        "point the target resource's connection_env (or path) at a staging database; "
        "a masking job replaces every table of its target"
    )


class MaskingJobBusy(StagewallError):
    """A run of this masking job is already queued or running."""

    code = "SW862"
    exit_code = EXIT_USAGE
    default_hint = "wait for the current run to finish (GET /api/v1/masking/jobs/JOB/runs)"


class MaskingJobFailed(StagewallError):
    """A masking job run ended without a verified masked copy."""

    code = "SW863"
    exit_code = EXIT_FINDING
    default_hint = "read the run's error and the audit log; fix the cause and start it again"


class MaskingPlanUnapproved(AccessDenied):
    """A masking job's plan (by its canonical hash) was not approved by an internal person."""

    code = "SW864"
    http_status: ClassVar[int] = 409
    default_hint = (
        "submit the plan for approval (POST /api/v1/masking/jobs/JOB/plan-approvals) and "
        "have another internal person approve it with step-up MFA; see docs/server.md"
    )


class MaskingPlanRequestUnknown(UsageError):
    """No masking plan approval request has this id (the web page of one request)."""

    code = "SW866"
    http_status: ClassVar[int] = 404
    default_hint = "follow the link from the inbox, or list them: stagewall mask plan-approvals"


class ProbeReporterRefused(AccessDenied):
    """A segmentation probe report from a principal that segmentation.reporters does not name."""

    code = "SW865"
    default_hint = (
        "declare the probe host's principal under segmentation: reporters: in stagewall.yaml"
    )


# --- tokenrestore: a revoked token stays revoked when its row is put back (SW867-SW868) ---


class TokenRevocationUnreadable(NotAuthenticated):
    """A bearer token could not be checked against the revocation record in the audit log
    (the audit table could not be read): refused, fail closed."""

    code = "SW867"
    http_status: ClassVar[int] = 503
    default_hint = (
        "check that the store's audit_events table is reachable and readable by the "
        "server (`stagewall audit verify`); the token works again once it is"
    )


class TokenRowRestored(NotAuthenticated):
    """A bearer token whose store row says it is live although the audit log records its
    revocation (the row was put back as it was before, e.g. from a backup): refused."""

    code = "SW868"
    default_hint = (
        "investigate who wrote the token table back (a restore, or a saved row); sign in "
        "again with `stagewall login` (a pipeline gets a new `stagewall server "
        "pipeline-token create`, a log shipper a new `stagewall server ingest-token create`)"
    )


# --- stepupbind: a step-up window row is sealed with the server's token key (SW869) ---


class StepUpWindowRefused(StepUpRequired):
    """The caller's step-up window row is not sealed by this server (written or edited
    in the store): it counts as no window, so the act needs a factor in its request."""

    code = "SW869"
    default_hint = (
        "send your current one-time code as `otp` (or a passkey assertion as `webauthn`), "
        "or open a new window with POST /api/v1/step-up; investigate who wrote the store's "
        "identity_step_up_windows table"
    )


# --- stepupbind: a WebAuthn challenge row is sealed with the token key (SW871) ---


class ChallengeRowRefused(StepUpRefused):
    """The WebAuthn challenge a passkey response answers has a store row this server did
    not seal (written or edited in the store): refused like an unknown challenge."""

    code = "SW871"
    default_hint = (
        "ask for new options (POST /api/v1/mfa/webauthn/assertion/options or "
        "registration/options) and try again; investigate who wrote the store's "
        "identity_webauthn_challenges table"
    )


# --- jobstop: stopping a masking run mid-copy (SW870-SW872) ---


class MaskingRunStopped(MaskingError):
    """A masking run was stopped between batches by its caller's stop check."""

    code = "SW870"
    exit_code = EXIT_FINDING
    default_hint = (
        "the run that replaced it owns the target now; read the audit log "
        "(masking.job.superseded) and start a new run if none is in progress"
    )

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        run_id: str | None = None,
        withdrawn: bool | None = None,
        verifying: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        self.verifying = verifying  # stopped while it verified its (complete) copy
        self.run_id = run_id  # the masking run's id (its target marker), if it wrote one
        # True: its partial copy was dropped; False: another run has written the target
        # since; None: it had not touched the target, or the drop itself failed
        self.withdrawn = withdrawn


class TargetMarkerLocked(MaskingError):
    """The target's marker lock (what a withdrawal holds while it checks the marker
    and drops the tables, and a run while it writes its marker) was not free in time."""

    code = "SW872"
    default_hint = (
        "another masking run or withdrawal holds the target; nothing was dropped or "
        "written: retry once it is done, or withdraw the copy by hand after checking "
        "the target's stagewall_masking_run row"
    )


class StoreMissing(ConfigError):
    """A command that only reads the store found none where the estate says it is."""

    code = "SW890"
    default_hint = (
        "run the command next to the estate file's store, pass --db URL, set STAGEWALL_DB, "
        "or set STAGEWALL_HOME to the directory that holds stagewall.db"
    )


# --- cli10 ---
class CiTokenReplayed(AuthenticationFailed):
    """A CI OIDC token that was already accepted once was presented again."""

    code = "SW925"
    default_hint = (
        "a CI OIDC token is accepted once: exchange it for a job session "
        "(POST /api/v1/ci/session, which the CLI does) and use that session, or ask the "
        "platform for a new token; a replay is recorded and alerted"
    )


class BrowserLoginRefused(AuthenticationFailed):
    """A ``stagewall login --browser`` hand-off was refused (code, verifier or redirect)."""

    code = "SW926"
    default_hint = "run `stagewall login --browser` again and finish it within two minutes"


class BrowserStepUpRefused(AccessDenied):
    """A browser step-up for a CLI session was refused (unknown, expired, used, or
    confirmed by another principal)."""

    code = "SW927"
    default_hint = (
        "run `stagewall mfa step-up --browser` again and confirm it in a browser signed in "
        "as the same person as the terminal"
    )


# --- web14: the web UI's tables (SW900-SW909) ---


class AuditObjectUnknown(ConfigError):
    """The audit page was asked for the events of a grant, request, promotion or vendor
    that does not exist."""

    code = "SW900"
    http_status: ClassVar[int] = 404
    default_hint = "follow the link from the grants, requests, promotions or vendors table"


class AttemptsUnavailable(BackendError):
    """The store that counts failed login and step-up attempts could not be asked;
    the attempt is refused rather than let through unlimited."""

    code = "SW940"
    http_status: ClassVar[int] = 503
    default_hint = "check that the store is reachable and migrated, then try again"


# --- codehmac: one-time code rows keyed and sealed with the server's token key
# (SW941-SW943) ---


class CodeRowForged(NotAuthenticated):
    """A one-time code's store row (an invitation, a device code, a CLI hand-off, an OIDC
    login) whose digest is a plain SHA-256 rather than an HMAC under this server's token
    key: written in the store by someone who chose the code. Refused."""

    code = "SW941"
    default_hint = (
        "investigate who wrote the store's identity tables; start again (a new invitation "
        "from an admin, `stagewall login`, or the web sign-in)"
    )


class CodeRowAltered(NotAuthenticated):
    """A one-time code's store row changed after the server sealed it (who it is for,
    who made it, its expiry, the principal a device code or hand-off was approved for,
    or a denial undone): refused."""

    code = "SW942"
    default_hint = (
        "investigate who changed the store's identity tables; start again (a new "
        "invitation from an admin, `stagewall login`, or the web sign-in)"
    )


class CodeFromBeforeUpgrade(NotAuthenticated):
    """A one-time code made before code rows were keyed and sealed (migration
    codebind_0001): the upgrade ended it."""

    code = "SW943"
    default_hint = (
        "ask an admin for a new invitation, or sign in again (`stagewall login`, "
        "`stagewall login --browser` or the web sign-in page)"
    )


# --- redgates: the promotion gates red team (SW945-SW948) ---


class GateRowUnbound(AccessDenied):
    """``gate check`` refused a deployment because a row it would count (the promotion,
    its request, an approval, a check report) is not what the audit event that created
    it recorded: written, edited or re-pointed in the store, pointed at a refused attempt
    or at an event without the server's seal. The rows are recorded as
    ``gate.row.unbound`` and alerted."""

    code = "SW945"
    http_status: ClassVar[int] = 403
    default_hint = (
        "investigate who wrote to the store (the alert names the rows); submit the change "
        "again and have it approved again through stagewall"
    )


class CommitNotFull(UsageError):
    """A commit was named by less than its full object id (a prefix, or not hex): a
    prefix can be matched on purpose by a crafted commit, so stagewall never accepts
    one where a commit is compared or recorded."""

    code = "SW946"
    default_hint = (
        "pass the full object id: 40 hex digits for SHA-1 repositories, 64 for SHA-256 "
        "(`git rev-parse HEAD`, $GITHUB_SHA, $CI_COMMIT_SHA); nothing was checked or changed"
    )


# --- sealgaps: spent one-time rows put back as unspent (SW947-SW948) ---


class ChallengeReplayed(StepUpRefused):
    """A passkey response answers a WebAuthn challenge whose store row says unused while
    the audit log records it used (``identity.webauthn.challenge_used``): the row was set
    back in the store to replay a captured assertion. Refused like a used challenge."""

    code = "SW947"
    default_hint = (
        "ask for new options (POST /api/v1/mfa/webauthn/assertion/options or "
        "registration/options) and try again; investigate who wrote the store's "
        "identity_webauthn_challenges table"
    )


class InvitationReplayed(NotAuthenticated):
    """An invitation link whose store row says unopened or unconfirmed while the audit
    log records it opened or confirmed (``identity.invitation.accepted``,
    ``identity.account.created``): the row was set back in the store so the link would
    enrol a factor again. Refused like a used link."""

    code = "SW948"
    default_hint = (
        "investigate who wrote the store's identity tables; the person signs in with the "
        "factor they enrolled, or another internal person resets it (stagewall mfa reset)"
    )


class PasskeyFromBeforeDigest(StepUpRefused):
    """A passkey whose newest registration event records no digest of its credential
    and public key (registered before stagewall recorded it, or such an event appended
    to the log): any key in its store row would pass, so it is refused until it is
    registered again."""

    code = "SW949"
    default_hint = (
        "step up with your one-time code, then register the passkey again (and remove the "
        "old entry); with no other factor, ask another internal person to reset your "
        "factors (stagewall mfa reset)"
    )


# --- webfollow: what the web UI's red team left open (SW956-SW959) ---


class InternalError(StagewallError):
    """The server failed while answering (a defect, not the request's fault). The answer
    says only that: what failed is in the server's log, never in the response."""

    code = "SW956"
    http_status: ClassVar[int] = 500
    default_hint = "try again; if it keeps failing, the operator finds the cause in the server log"


# --- redkeys: the audit log, keys and continuity red team (SW970-SW979) ---


class TrustAnchorInBundle(KeyMissing):
    """The key (or estate file) an offline bundle verification would trust lies inside
    the bundle being verified: the forger's own key would vouch for the forgery."""

    code = "SW970"
    default_hint = (
        "pass --public-key with the log's key you obtained independently and keep it (and "
        "the estate file you pass with --config) outside the bundle; run the command from "
        "outside the bundle directory"
    )


class FactorNotBound(IntegrityError):
    """A stored second factor (TOTP row, passkey row) is not one the audit log enrolled for
    its principal (reset, removed or retired since, another sealed secret or public key
    in its place): restored from an older backup or written in the store. Refused; the
    check is recorded as failed."""

    code = "SW971"
    http_status: ClassVar[int] = 403
    default_hint = (
        "investigate who changed the store; the principal enrols again after another "
        "internal person runs `stagewall mfa reset`"
    )


class IngestKeyReused(MonitoringError):
    """An ingest post's Idempotency-Key was already used for another body of its source."""

    code = "SW978"
    http_status = 422
    default_hint = (
        "give every distinct post its own key (a UUID); repeat a key only to retry the "
        "very same body"
    )


class IngestKeyInvalid(MonitoringError):
    """An ingest post's Idempotency-Key header is empty, too long or not visible ASCII."""

    code = "SW979"
    http_status = 400
    default_hint = 'send Idempotency-Key: "<1-128 visible ASCII characters>", e.g. a UUID'


class IngestTooManyLines(IngestBodyTooLarge):
    """An ingest request body holds more lines than its token may send at once."""

    code = "SW972"
    http_status = 413
    default_hint = (
        "split the lines into several requests of at most the limit each; a token's "
        "sustained rate is 50,000 lines a second"
    )


# --- tokenbind: login token rows sealed with the server's token key (SW973-SW975) ---


class TokenRowForged(NotAuthenticated):
    """A login token row whose hash was not made with this server's token key (a plain
    SHA-256 of a chosen token written in the store): refused."""

    code = "SW973"
    default_hint = (
        "investigate who wrote the store's identity_tokens table; sign in again with "
        "`stagewall login` (a pipeline gets a new `stagewall server pipeline-token create`)"
    )


class TokenRowAltered(NotAuthenticated):
    """A login token row changed in the store after the server sealed it (its principal,
    kind, method, expiry or CSRF secret edited, or its revocation undone): refused."""

    code = "SW974"
    default_hint = (
        "investigate who changed the store's identity_tokens table; sign in again with "
        "`stagewall login` (a pipeline gets a new `stagewall server pipeline-token create`)"
    )


class TokenFromBeforeUpgrade(NotAuthenticated):
    """A login token issued before token rows were sealed (migration tokenbind_0001): it
    was ended by the upgrade."""

    code = "SW975"
    default_hint = (
        "sign in again with `stagewall login` (or the web sign-in page); a pipeline needs "
        "a new token from `stagewall server pipeline-token create`"
    )


# --- auditcfg: audit settings and verification strictness (SW976-SW979) ---


class RemovedSetting(ConfigError):
    """The estate file sets a field that stagewall does not use (``audit.origin``,
    ``audit.checkpoint_every``): refused rather than silently ignored."""

    code = "SW976"
    default_hint = "delete the named line from stagewall.yaml (docs/estate.md says why)"


class UncheckpointedEvents(IntegrityError):
    """``audit verify`` of a store: events after the newest checkpoint signed by the log's
    key (or a store with events and no signed checkpoint): nothing proves them."""

    code = "SW977"
    default_hint = (
        "on the server host run `stagewall audit checkpoint` (the server also checkpoints "
        "every hour and in its witness round) and verify again; pass --allow-uncheckpointed "
        "to accept the unproven tail with a warning"
    )

    def __init__(self, message: str, *, hint: str | None = None, index: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.index = index  # the first unproven event


def reason_of(exc: BaseException) -> str:
    """Why ``exc`` happened, in words, for a message: the operating system's or the
    driver's own first line, never a Python class name (which tells a user nothing)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"it is not UTF-8 text (byte {exc.start})"
    if isinstance(exc, OSError):
        return (exc.strerror or "it cannot be read").lower()
    orig = getattr(exc, "orig", None)  # a database driver's error wrapped by SQLAlchemy
    text = str(orig if orig is not None else exc).strip()
    return redact(text.splitlines()[0]) if text else "no reason given"


ALL_ERRORS: tuple[type[StagewallError], ...] = (
    StagewallError,
    ConfigError,
    UsageError,
    KeyMissing,
    EmptyArgument,
    ArgumentTooLong,
    DurationOutOfRange,
    PathUnusable,
    PolicyViolation,
    MaskingError,
    UnmaskedColumn,
    LeakDetected,
    SchemaNameUnconfirmed,
    SchemaPersonalData,
    DocumentTypeLost,
    AccessDenied,
    IdentityRefused,
    IntegrityError,
    ChainBroken,
    SignatureInvalid,
    WitnessConflict,
    WitnessQuorumMissing,
    UnsignedEvents,
    AttestationMismatch,
    StoreRoleUnsafe,
    BackendError,
    NotAuthenticated,
    StepUpRequired,
    NoSecondFactor,
    RateLimited,
    ServerError,
    AuthenticationFailed,
    IdentityProviderError,
    EmailNotVerified,
    IdentityAmbiguous,
    WebauthnNotConfigured,
    StepUpRefused,
    AuthenticatorCloned,
    FactorRegistrationRefused,
    OidcLoginRefused,
    OidcNotConfigured,
    MonitoringError,
    UnknownLogSource,
    SigmaRuleInvalid,
    IngestTokenInvalid,
    IngestSourceMismatch,
    IngestBodyTooLarge,
    IngestRateLimited,
    LoginStartsLimited,
    LoginGuarded,
    IngestTokenUnknown,
    WitnessUnavailable,
    PackInvalid,
    EvidenceError,
    MaskingJobUnknown,
    MaskingJobInvalid,
    MaskingJobTargetProduction,
    MaskingJobBusy,
    MaskingJobFailed,
    MaskingPlanUnapproved,
    MaskingPlanRequestUnknown,
    ProbeReporterRefused,
    MaskingRunStopped,
    TargetMarkerLocked,
    StepUpWindowRefused,
    ChallengeReplayed,
    ChallengeRowRefused,
    InvitationReplayed,
    PasskeyFromBeforeDigest,
    StoreMissing,
    CiTokenReplayed,
    BrowserLoginRefused,
    BrowserStepUpRefused,
    AuditObjectUnknown,
    AttemptsUnavailable,
    InternalError,
    TrustAnchorInBundle,
    FactorNotBound,
    TokenRowForged,
    TokenRowAltered,
    TokenFromBeforeUpgrade,
    RemovedSetting,
    UncheckpointedEvents,
)
