"""A non-production CI job that can read a production secret."""

from __future__ import annotations

import re
from collections.abc import Iterable

from stagewall.scan._model import Finding, Severity, Tier
from stagewall.scan.readers import Kind
from stagewall.scan.rules._base import FileContext, Rule
from stagewall.scan.rules._gate import text_of as _text
from stagewall.scan.rules.ci import job_environments, jobs, shared_text, workflow

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
        "job."
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
            for name in self._secrets(body, parsed.kind):
                att = ctx.env.from_words(name, f"secret name {name}")
                if att is None or att.tier is not Tier.PRODUCTION:
                    continue
                runs = nonprod[0]
                yield ctx.finding(
                    ProductionSecretInNonProductionJob,
                    f"{runs.label} job {job_id} can read production secret {name}",
                    parsed.line_of(0, *path),
                    f"{job_id}: {name}",
                    anchor=f"{job_id}|{name}",
                    environment=runs.label,
                    environment_reason=runs.reason,
                )

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


__all__ = ["ProductionSecretInNonProductionJob"]
