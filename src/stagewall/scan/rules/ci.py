"""CI workflows: production deploys without a gate, production secrets for outsiders."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stagewall.scan._env import EnvModel
from stagewall.scan._model import Attribution, Finding, Severity, Tier
from stagewall.scan._reusable import REUSABLE, callee
from stagewall.scan.readers import Kind, Parsed
from stagewall.scan.rules._base import FileContext, Rule
from stagewall.scan.rules._civalues import expansions as _expansions
from stagewall.scan.rules._civalues import variable_values as _variable_values
from stagewall.scan.rules._dynsecrets import github_built_names, has_built_index
from stagewall.scan.rules._gate import gated
from stagewall.scan.rules._gate import text_of as _text

_SECRET_REF = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)")
_GITLAB_RESERVED = frozenset(
    {"stages", "variables", "include", "default", "workflow", "image", "services", "before_script",
     "after_script", "cache", "pages"}
)  # fmt: skip
PIPELINE = "gitlab_pipeline"  # Parsed.extra key: the merged document of a GitLab pipeline
_DEPLOY = re.compile(r"deploy|release|rollout|apply|promote", re.I)


_EXPR = re.compile(r"\$\{\{\s*(matrix|inputs|github\.event\.inputs)\.([A-Za-z0-9_-]+)\s*\}\}")
_ENV_VARS = ("ENVIRONMENT", "ENV", "DEPLOY_ENV", "DEPLOY_ENVIRONMENT", "TARGET_ENV", "STAGE",
             "APP_ENV", "ENVIRONMENT_NAME", "ENV_NAME")  # fmt: skip


def _named(model: EnvModel, name: str, reason: str) -> Attribution | None:
    return model.environment_named(name, reason) or model.from_words(name, reason)


_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _variable_environments(
    model: EnvModel, job: dict[str, Any], doc: dict[str, Any], name: str
) -> list[Attribution]:
    """``environment: name: $DEPLOY_TO``: each value the variable can take is a job of
    its own (as a matrix value is)."""
    match = _SHELL_VAR.search(name)
    if match is None:
        return []
    return _each_value(model, name, match.group(0), match.group(1),
                       _variable_values(job, doc, match.group(1)))  # fmt: skip


def _each_value(
    model: EnvModel, name: str, written: str, label: str, values: list[str]
) -> list[Attribution]:
    """The distinct environments ``name`` names with ``written`` replaced by each value."""
    out: list[Attribution] = []
    for value in values:
        reason = f"job environment {name} with {label}={value}"
        att = _named(model, name.replace(written, value), reason)
        if att is not None and all(a.environment != att.environment for a in out):
            out.append(att)
    return out


def job_environments(
    model: EnvModel, job: dict[str, Any], job_id: str, doc: dict[str, Any] | None = None
) -> list[Attribution]:
    """Every environment a CI job runs in: its ``environment:`` (each value of a matrix
    or input expression is a job of its own), else an environment variable naming the
    environment (job-level, then workflow-level ``env``), else a deploy job's name."""
    doc = doc or {}
    env = job.get("environment")
    name = env.get("name") if isinstance(env, dict) else env
    if isinstance(name, str) and name:
        match = _EXPR.search(name)
        if match is None and "$" in name:
            found = _variable_environments(model, job, doc, name)
            if found:
                return found
        if match is None:
            att = _named(model, name, f"job environment {name}")
            return [att] if att is not None else []
        kind = "matrix" if match.group(1) == "matrix" else "inputs"
        values = _expansions(doc, job, kind, match.group(2))
        return _each_value(model, name, match.group(0), f"{kind}.{match.group(2)}", values)
    scopes = (
        (job.get("env"), "job env"),
        (job.get("variables"), "job variables"),
        (doc.get("env"), "workflow env"),
        (doc.get("variables"), "pipeline variables"),
    )
    for scope, where in scopes:
        if isinstance(scope, dict):
            for var in _ENV_VARS:
                setting = scope.get(var)
                if isinstance(setting, dict):  # GitLab: {value: ..., description: ...}
                    setting = setting.get("value")
                if isinstance(setting, str) and setting and "${{" not in setting:
                    att = _named(model, setting, f"{where} {var}={setting}")
                    if att is not None:
                        return [att]
    label = f"{job_id} {job.get('name', '')}"
    if _DEPLOY.search(label):
        att = model.from_words(label, f"job name {label.strip()}")
        return [att] if att is not None else []
    return []


def job_environment(
    model: EnvModel, job: dict[str, Any], job_id: str, doc: dict[str, Any] | None = None
) -> Attribution | None:
    """A CI job's single environment, or None when it has none or several."""
    found = job_environments(model, job, job_id, doc)
    return found[0] if len(found) == 1 else None


def workflow(parsed: Parsed | None) -> dict[str, Any] | None:
    """The top-level mapping of a CI workflow file, or None for other files."""
    if parsed is None or parsed.kind not in (Kind.GITHUB_ACTIONS, Kind.GITLAB_CI):
        return None
    pipeline = parsed.extra.get(PIPELINE)
    if isinstance(pipeline, dict):
        # a GitLab file in an include graph: templates and top-level keys of the whole
        # pipeline (see scan/_gitlab.py)
        return pipeline
    doc = parsed.documents[0] if parsed.documents else None
    return doc if isinstance(doc, dict) else {}


def jobs(parsed: Parsed) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """(job id, job body, key path) for GitHub Actions and GitLab CI."""
    doc = parsed.documents[0] if parsed.documents else None
    if not isinstance(doc, dict):
        return []
    if parsed.kind is Kind.GITHUB_ACTIONS:
        found = doc.get("jobs")
        if not isinstance(found, dict):
            return []
        return [(k, v, ("jobs", k)) for k, v in found.items() if isinstance(v, dict)]
    pipeline = workflow(parsed) or doc
    return [
        (k, _extended(pipeline, v, 0), (k,))
        for k, v in doc.items()
        if isinstance(v, dict) and k not in _GITLAB_RESERVED and not k.startswith(".")
    ]


def _extended(doc: dict[str, Any], job: dict[str, Any], depth: int) -> dict[str, Any]:
    """A GitLab job with its ``extends:`` templates merged in (the job's keys win)."""
    parents = job.get("extends")
    names = [parents] if isinstance(parents, str) else parents if isinstance(parents, list) else []
    if not names or depth > 10:
        return job
    merged: dict[str, Any] = {}
    for name in names:
        parent = doc.get(name) if isinstance(name, str) else None
        if isinstance(parent, dict):
            merged.update(_extended(doc, parent, depth + 1))
    merged.update({k: v for k, v in job.items() if k != "extends"})
    return merged


def _triggers(doc: dict[str, Any]) -> set[str]:
    on = doc.get("on", doc.get("true"))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(x) for x in on}
    if isinstance(on, dict):
        return {str(x) for x in on}
    return set()


def shared_text(doc: dict[str, Any], kind: Kind) -> str:
    """What every job of a workflow also runs with: GitHub's workflow-level ``env:``,
    GitLab's top-level ``variables:``, ``default:`` and global ``before_script``/
    ``after_script`` (a secret read there is read by each job)."""
    if kind is Kind.GITHUB_ACTIONS:
        return _text(doc.get("env"))
    return "\n".join(
        _text(doc.get(k)) for k in ("variables", "default", "before_script", "after_script")
    )


# Triggers that run a workflow in the base repository's context (its secrets) for an
# event anyone can cause: a fork's pull request (pull_request_target), a comment on one
# (issue_comment), or the completion of a workflow a fork's pull request ran
# (workflow_run, whose artifacts and head commit are the fork's). Each with the job
# condition that keeps outsiders out: the trusted events of the run that triggered it
# or its own repository; the commenter's association with the repository.
_PRIVILEGED: dict[str, re.Pattern[str] | None] = {
    "pull_request_target": None,
    "workflow_run": re.compile(
        r"workflow_run\.event\s*==\s*['\"](?:push|schedule|workflow_dispatch|release)['\"]"
        r"|workflow_run\.event\s*!=\s*['\"]pull_request(?:_target)?['\"]"
        r"|workflow_run\.head_repository\.full_name\s*==\s*github\.repository\b"
        r"|workflow_run\.head_repository\.fork\s*==\s*false"
        r"|!\s*github\.event\.workflow_run\.head_repository\.fork\b"
    ),
    "issue_comment": re.compile(
        r"author_association\b[^&|]*(?:OWNER|MEMBER|COLLABORATOR)"
        r"|(?:OWNER|MEMBER|COLLABORATOR)[^&|]*author_association\b"
    ),
}


# What makes such a job run an outsider's code or input (the job's condition aside): for
# workflow_run the triggering run's artifacts or commit, for issue_comment the pull
# request's head or the comment's text. Without it the job runs the base repository's
# own code, and only a production environment (a deploy anyone can start) counts.
_UNTRUSTED = {
    "workflow_run": re.compile(
        r"workflow_run\.(?:id|head_sha|head_branch|head_commit|pull_requests)\b"
        r"|download-artifact",
    ),
    "issue_comment": re.compile(
        r"refs/pull/|pull/\$\{\{|\bgh\s+pr\s+checkout\b|\bhead\.(?:sha|ref)\b|\bhead_ref\b"
        r"|comment\.body",
    ),
}


def _privileged(doc: dict[str, Any], job: dict[str, Any]) -> str | None:
    """The fork-reachable trigger ``job`` runs for without a condition excluding
    outsiders (None: none)."""
    triggers = _triggers(doc)
    condition = job.get("if")
    text = condition if isinstance(condition, str) else ""
    # a guard reads its own event's payload, so it also keeps the job from running for
    # the other trigger (where that payload is absent) unless an `||` offers another way
    guarded = "||" not in text and any(
        g is not None and g.search(text) for g in _PRIVILEGED.values()
    )
    for trigger, guard in _PRIVILEGED.items():
        if trigger in triggers and (guard is None or not guarded):
            return trigger
    return None


def _stage_tier(ctx: FileContext, name: str) -> Tier | None:
    """The tier of the stage ``gate check --to NAME`` checks (its environment's), if known."""
    if ctx.estate is not None:
        for stage in ctx.estate.stages:
            if stage.name == name:
                return ctx.env.tier_of(stage.environment)
    att = _named(ctx.env, name, f"stage {name}")
    return att.tier if att is not None else None


_INPUT = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")
_ENV_INPUTS = ("environment", "env", "environment_name", "target_environment", "deploy_env",
               "target_env", "stage", "target")  # fmt: skip


def _called_environments(
    model: EnvModel, job: dict[str, Any], uses: str, called: dict[Any, Any] | None
) -> list[Attribution]:
    """The environments a caller job (``uses:`` a reusable workflow) deploys to: each
    called job's ``environment:`` with ``${{ inputs.X }}`` taken from the caller's
    ``with:`` (or the input's default); for a workflow that was not scanned (another
    repository, or outside the scanned tree) the caller's environment-named input."""
    given: dict[Any, Any] = job["with"] if isinstance(job.get("with"), dict) else {}
    out: list[Attribution] = []
    if called is None:
        for key in _ENV_INPUTS:
            value = given.get(key)
            if isinstance(value, str) and "${{" not in value:
                att = _named(model, value, f"{uses} with {key}: {value}")
                if att is not None:
                    out.append(att)
        return out
    on = called.get("on", called.get(True))
    spec = on.get("workflow_call") if isinstance(on, dict) else None
    inputs = spec.get("inputs") if isinstance(spec, dict) else None
    defaults = {
        k: v.get("default")
        for k, v in (inputs.items() if isinstance(inputs, dict) else ())
        if isinstance(v, dict)
    }
    called_jobs = called.get("jobs")
    for body in called_jobs.values() if isinstance(called_jobs, dict) else ():
        env = body.get("environment") if isinstance(body, dict) else None
        name = env.get("name") if isinstance(env, dict) else env
        if not isinstance(name, str) or not name:
            continue

        def value_of(match: re.Match[str]) -> str:
            value = given.get(match.group(1), defaults.get(match.group(1)))
            return str(value) if isinstance(value, (str, int)) else match.group(0)

        expanded = _INPUT.sub(value_of, name)
        if "${{" in expanded:
            continue
        att = _named(model, expanded, f"{uses} job environment {name}={expanded}")
        if att is not None:
            out.append(att)
    return out


def _gated_inside(ctx: FileContext, called: dict[Any, Any]) -> bool:
    """Whether every job of a called workflow that has an environment is gated there."""
    called_jobs = called.get("jobs")
    if not isinstance(called_jobs, dict):
        return False
    bodies = {k: v for k, v in called_jobs.items() if isinstance(v, dict)}
    deploying = [k for k, v in bodies.items() if v.get("environment")]
    return bool(deploying) and all(
        gated(k, bodies, lambda name: _stage_tier(ctx, name)) for k in deploying
    )


class UngatedProductionDeploy(Rule):
    id = "SW-SCAN-008"
    title = "Production deploy without a promotion gate"
    severity = Severity.HIGH
    description = (
        "A GitHub Actions or GitLab CI job deploys to production (its `environment:` is a "
        "production environment — GitLab `name: $DEPLOY_TO` counts each value the job's, "
        "its `rules:` or the pipeline's `variables` give it — or its name says "
        "deploy/release to prod, or it calls a "
        "reusable workflow — `uses: ./.github/workflows/deploy.yml` — whose jobs' "
        "environment is production with the caller's `with:` inputs) but neither the "
        "job, a job it `needs`, nor the called workflow runs `stagewall gate check` "
        "(a workflow in another repository cannot be read: only the caller's gate "
        "counts), so changes can reach "
        "production without an independent internal approval. A gate that cannot stop the "
        "deploy counts as none: its failure tolerated (`|| true`, `set +e`, "
        "`continue-on-error`, GitLab `allow_failure`), its step never run (`if: false`), "
        "another stage checked (`--to staging`), only its words (`echo stagewall gate "
        "check`, `if stagewall gate check`), or a deploy job that runs whatever its gate job "
        "did (`if: always()`, `!cancelled()`, GitLab `when: always`)."
    )
    remediation = (
        "Add a step `stagewall gate check --change $SHA --artifact $DIGEST --to production` "
        "(the commit's full SHA) before the deploy (or in a job the deploy job needs)."
    )
    controls = ("A.8.32", "A.8.31", "A.5.3")
    tags = ("ci", "change")

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        parsed = ctx.parsed
        doc = workflow(parsed)
        if parsed is None or doc is None:
            return
        all_jobs = {job_id: job for job_id, job, _ in jobs(parsed)}
        reusable = parsed.extra.get(REUSABLE) or {}
        for job_id, job, path in jobs(parsed):
            uses = job.get("uses") if parsed.kind is Kind.GITHUB_ACTIONS else None
            called = callee(ctx.rel, uses, reusable) if isinstance(uses, str) else None
            found = (
                _called_environments(ctx.env, job, uses, called)
                if isinstance(uses, str)
                else job_environments(ctx.env, job, job_id, doc)
            )
            prods = [a for a in found if a.tier is Tier.PRODUCTION]
            if not prods:
                continue
            att = prods[0]
            if gated(job_id, all_jobs, lambda name: _stage_tier(ctx, name)):
                continue
            if called is not None and _gated_inside(ctx, called):
                continue
            through = f" through {uses}" if isinstance(uses, str) else ""
            yield ctx.finding(
                UngatedProductionDeploy,
                f"job {job_id} deploys to {att.label}{through} without `stagewall gate check`",
                parsed.line_of(0, *path),
                f"{job_id}: environment {att.label} ({att.reason})",
                anchor=job_id,
                environment=att.label,
                environment_reason=att.reason,
            )


class SecretsForExternalContributors(Rule):
    id = "SW-SCAN-009"
    title = "Production secrets exposed to external contributors' pipelines"
    severity = Severity.HIGH
    description = (
        "A workflow runs for code from outside contributors with access to secrets: a GitHub "
        "workflow triggered by `pull_request_target`, or by `workflow_run` (the run of a "
        "fork's pull request completed) or `issue_comment` (anyone commented on a pull "
        "request) where the job runs the outsider's code or input (the triggering run's "
        "artifacts or commit; the pull request's head or the comment's text) or deploys to "
        "production, without a job condition that keeps outsiders out "
        "(`github.event.workflow_run.event == 'push'`, `head_repository.full_name == "
        "github.repository`; `author_association` OWNER/MEMBER/COLLABORATOR), whose jobs read "
        "`secrets.*` or a name built at run time, `secrets[env.TARGET]`, "
        "`secrets[format(...)]` (other than GITHUB_TOKEN; the workflow-level `env:` counts "
        "for every "
        "job), inherit secrets or use a production environment; a GitLab job that runs for "
        "merge request pipelines and uses a production environment or production-named "
        "variables."
    )
    remediation = (
        "Run untrusted pull requests with `pull_request` (no secrets), keep production "
        "secrets in a protected environment with required internal reviewers, and never "
        "check out and run PR code in a job that holds secrets."
    )
    controls = ("A.8.31", "A.5.17", "A.8.32")
    tags = ("ci", "secrets")

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        parsed = ctx.parsed
        if parsed is None or parsed.kind not in (Kind.GITHUB_ACTIONS, Kind.GITLAB_CI):
            return
        doc = workflow(parsed)
        if not isinstance(doc, dict):
            return
        if parsed.kind is Kind.GITHUB_ACTIONS and not _triggers(doc) & set(_PRIVILEGED):
            return
        shared = shared_text(doc, parsed.kind)
        for job_id, job, path in jobs(parsed):
            att = job_environment(ctx.env, job, job_id, doc)
            body = _text(job) + "\n" + shared
            if parsed.kind is Kind.GITHUB_ACTIONS:
                trigger = _privileged(doc, job)
                if trigger is None:
                    continue
                secrets = sorted({s for s in _SECRET_REF.findall(body) if s != "GITHUB_TOKEN"})
                # a name built at run time (``secrets[env.TARGET]``) is a secret read too
                built = {b.name for b in github_built_names(body, doc, job)}
                secrets += sorted(built - set(secrets)) if built else has_built_index(body)
                inherit = job.get("secrets") == "inherit"
                prod = att is not None and att.tier is Tier.PRODUCTION
                untrusted = _UNTRUSTED.get(trigger)
                steps = _text({k: v for k, v in job.items() if k != "if"})
                if untrusted is not None and not prod and not untrusted.search(steps):
                    continue  # the base repository's own code, its own inputs
                if not (secrets or inherit or prod):
                    continue
                what = ", ".join(secrets) or (
                    "inherited secrets" if inherit else f"environment {att.label if att else ''}"
                )
                who = "any commenter" if trigger == "issue_comment" else "forks"
                message = f"{trigger} job {job_id} runs for {who} with {what}"
            else:
                rules = _text({k: job.get(k) for k in ("rules", "only")})
                if "merge_request" not in rules:
                    continue
                prod_vars = sorted(set(re.findall(r"\$\{?([A-Z0-9_]*PROD[A-Z0-9_]*)", body)))
                prod = att is not None and att.tier is Tier.PRODUCTION
                if not (prod or prod_vars):
                    continue
                what = ", ".join(prod_vars) or f"environment {att.label if att else ''}"
                message = f"merge-request job {job_id} (forks included) uses {what}"
            yield ctx.finding(
                SecretsForExternalContributors,
                message,
                parsed.line_of(0, *path),
                what,
                anchor=job_id,
            )
