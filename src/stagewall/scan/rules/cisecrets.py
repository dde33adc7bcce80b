"""A non-production CI job that can read a production secret."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stagewall.scan._env import EnvModel
from stagewall.scan._model import Attribution, Finding, Severity, Tier
from stagewall.scan.readers import Kind
from stagewall.scan.rules._base import FileContext, Rule
from stagewall.scan.rules._dynsecrets import BuiltName, github_built_names, gitlab_built_names
from stagewall.scan.rules._gate import text_of as _text
from stagewall.scan.rules.ci import _named, job_environments, jobs, shared_text, workflow

_GH_SECRET = re.compile(r"\bsecrets(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")
_STORE_PATH = re.compile(
    r"\bvault\s+(?:kv\s+(?:get|read)|read)\s+(?:-[a-z-]+(?:=\S+)?\s+)*['\"]?([^\s'\";|]+)"
    r"|\bsecretsmanager\s+get-secret-value\s+(?:--\S+\s+\S+\s+)*--secret-id[=\s]+['\"]?"
    r"([^\s'\";|]+)"
    r"|\bgcloud\s+secrets\s+versions\s+access\s+\S+\s+(?:--\S+\s+)*--secret[=\s]+['\"]?"
    r"([^\s'\";|]+)"
    r"|\bssm\s+get-parameters?\s+(?:--\S+\s+\S+\s+)*--names?[=\s]+['\"]?([^\s'\";|]+)",
    re.I,
)
_GITLAB_VAR = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")
_SECRETISH = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL|DATABASE_URL|DSN", re.I)


class ProductionSecretInNonProductionJob(Rule):
    id = "SW-SCAN-015"
    title = "Non-production CI job can read a production secret"
    severity = Severity.HIGH
    description = (
        "A GitHub Actions or GitLab CI job that runs for a non-production environment "
        "(its `environment:`, each value of a `${{ matrix.* }}` environment, an "
        "`ENVIRONMENT`-style variable, or the file's own environment) reads a secret whose "
        "name says production: `secrets.OP_SERVICE_ACCOUNT_TOKEN_PRODUCTION`, "
        "`vault kv get secret/prod/db`, `aws secretsmanager get-secret-value --secret-id "
        "prod/...`, a GitLab `$PROD_DB_PASSWORD`. Whoever can change or run the staging "
        "job can then read production credentials. A secret read in the workflow-level "
        "`env:` (GitHub) or the top-level `variables:`/`default:` (GitLab) is read by every "
        "job. A name built when the job runs counts with each value it can take: "
        "`secrets[format('{0}_DB_URL', inputs.env)]`, `secrets[matrix.target]`, "
        "`secrets[env.TARGET]`, any expression (`join(fromJSON(...), '_')`, "
        "`inputs.env == 'production' && 'PROD_DB_URL' || 'STAGING_DB_URL'`) (matrix values, "
        "input options or default, `env` values), a "
        "GitLab script's `\\$${TARGET}_DB_PASSWORD` or `${!NAME}` (the `variables` the job, "
        "its `rules:` or the pipeline give); a job whose `environment:` is built from the "
        "same value reads each environment's own secret and is not reported."
    )
    remediation = (
        "Store production secrets as environment secrets of the protected production "
        "environment (GitHub) or as protected, environment-scoped variables (GitLab), and "
        "give the non-production job its own credentials."
    )
    controls = ("A.8.31", "A.5.17", "A.8.2")
    tags = ("ci", "secrets", "separation")

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        parsed = ctx.parsed
        doc = workflow(parsed)
        if parsed is None or doc is None:
            return
        shared = shared_text(doc, parsed.kind)
        for job_id, job, path in jobs(parsed):
            envs = job_environments(ctx.env, job, job_id, doc) or [ctx.attribution]
            nonprod = [a for a in envs if a.tier is Tier.NON_PRODUCTION]
            if not nonprod:
                continue
            body = _text(job) + "\n" + shared
            for name, runner, written, how in self._reads(ctx, doc, job, body, envs, nonprod[0]):
                yield ctx.finding(
                    ProductionSecretInNonProductionJob,
                    f"{runner.label} job {job_id} can read production secret {name}"
                    + (f" ({written}{' with ' + how if how else ''})" if written else ""),
                    parsed.line_of(0, *path),
                    f"{job_id}: {written + ' -> ' if written else ''}{name}",
                    anchor=f"{job_id}|{name}",
                    environment=runner.label,
                    environment_reason=runner.reason,
                )

    def _reads(
        self,
        ctx: FileContext,
        doc: dict[str, Any],
        job: dict[str, Any],
        body: str,
        envs: list[Attribution],
        runs: Attribution,
    ) -> Iterable[tuple[str, Attribution, str, str]]:
        """(production secret name, the non-production environment the job reads it in,
        the built name as written and the values it was built with, or ``""``) of each
        production secret the job reads."""
        kind = ctx.parsed.kind if ctx.parsed is not None else Kind.YAML
        seen: set[str] = set()
        for name in self._secrets(body, kind):
            att = ctx.env.from_words(name, f"secret name {name}")
            if att is not None and att.tier is Tier.PRODUCTION:
                seen.add(name)
                yield name, runs, "", ""
        built = (
            github_built_names(body, doc, job)
            if kind is Kind.GITHUB_ACTIONS
            else gitlab_built_names(body, doc, job)
        )
        for item in built:
            att = ctx.env.from_words(item.name, f"secret name {item.name}")
            if att is None or att.tier is not Tier.PRODUCTION or item.name in seen:
                continue
            runs_as = _environments_for(ctx.env, job, item, envs)
            runner = next((a for a in runs_as if a.tier is Tier.NON_PRODUCTION), None)
            if runner is not None:
                seen.add(item.name)
                how = ", ".join(f"{ref}={value}" for ref, value in item.values)
                yield item.name, runner, item.written, how

    @staticmethod
    def _secrets(body: str, kind: Kind) -> list[str]:
        found: list[str] = []
        for match in _GH_SECRET.finditer(body):
            found.append(match.group(1) or match.group(2))
        for match in _STORE_PATH.finditer(body):
            found.append(next(g for g in match.groups() if g))
        if kind is Kind.GITLAB_CI:
            found += [v for v in _GITLAB_VAR.findall(body) if _SECRETISH.search(v)]
        return sorted(set(found))


def _environments_for(
    model: EnvModel, job: dict[str, Any], item: BuiltName, envs: list[Attribution]
) -> list[Attribution]:
    """The environment the job runs in when ``item``'s name is built: when the job's
    ``environment:`` is written with one of the same references (``${{ inputs.env }}``,
    GitLab ``$TARGET``), the environment that value gives; else the job's (``envs``)."""
    env = job.get("environment")
    name = env.get("name") if isinstance(env, dict) else env
    if not isinstance(name, str):
        return envs
    for ref, value in item.values:
        if ref.startswith("$"):
            written = re.compile(r"\$\{?" + re.escape(ref[1:]) + r"\}?(?![A-Za-z0-9_])")
        else:
            written = re.compile(r"\$\{\{\s*(?:github\.event\.)?" + re.escape(ref) + r"\s*\}\}")
        if written.search(name):
            reason = f"job environment {name} with {ref}={value}"
            att = _named(model, written.sub(value.replace("\\", "\\\\"), name), reason)
            return [att] if att is not None else []
    return envs


__all__ = ["ProductionSecretInNonProductionJob"]
