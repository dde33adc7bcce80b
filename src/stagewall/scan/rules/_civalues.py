"""The values a CI expression or variable can take (GitHub matrix and inputs, GitLab
``variables``): shared by the CI rules and the built secret names (_dynsecrets)."""

from __future__ import annotations

from typing import Any


def expansions(doc: dict[str, Any], job: dict[str, Any], kind: str, name: str) -> list[str]:
    """The values ``${{ matrix.NAME }}`` / ``${{ inputs.NAME }}`` can take."""
    found: list[str] = []
    if kind == "matrix":
        strategy = job.get("strategy")
        matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
        if isinstance(matrix, dict):
            values = matrix.get(name)
            if isinstance(values, list):
                found += [str(v) for v in values if isinstance(v, (str, int))]
            for extra in matrix.get("include") or []:
                if isinstance(extra, dict) and isinstance(extra.get(name), (str, int)):
                    found.append(str(extra[name]))
        return found
    on = doc.get("on", doc.get("true"))
    for trigger in ("workflow_dispatch", "workflow_call"):
        spec = on.get(trigger) if isinstance(on, dict) else None
        inputs = spec.get("inputs") if isinstance(spec, dict) else None
        item = inputs.get(name) if isinstance(inputs, dict) else None
        if isinstance(item, dict):
            options = item.get("options")
            if isinstance(options, list):
                found += [str(v) for v in options]
            elif isinstance(item.get("default"), str):
                found.append(item["default"])
    return found


def variable_values(job: dict[str, Any], doc: dict[str, Any], var: str) -> list[str]:
    """The values a GitLab variable can take in a job: the job's ``variables``, each of
    its ``rules:`` ``variables`` (a rule that matches sets them), the pipeline's."""
    scopes: list[Any] = [job.get("variables")]
    rules = job.get("rules")
    scopes += (
        [r.get("variables") for r in rules if isinstance(r, dict)]
        if isinstance(rules, list)
        else []
    )
    scopes.append(doc.get("variables"))
    out: list[str] = []
    for scope in scopes:
        value = scope.get(var) if isinstance(scope, dict) else None
        if isinstance(value, dict):  # {value: ..., description: ...}
            value = value.get("value")
        if isinstance(value, (str, int)) and str(value) not in out:
            out.append(str(value))
    return out


__all__ = ["expansions", "variable_values"]
