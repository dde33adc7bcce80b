"""Whether a CI job's `stagewall gate check` can stop its deploy (SW-SCAN-008).

A gate counts only when its failure fails the deploy: the command runs (not an
argument of ``echo``, not a condition of ``if``), its failure is not tolerated
(``|| true``, ``set +e``, ``continue-on-error``, GitLab ``allow_failure``), its step
can run (not ``if: false``), it checks a production stage (not ``--to staging``), and
a deploy job that relies on a gate job it ``needs`` does not run whatever that job did
(``if: always()`` / ``!cancelled()`` / ``failure()``, GitLab ``when: always``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from stagewall.scan._model import Tier

GATE = re.compile(r"\bstagewall\s+gate\s+check\b")
_TO = re.compile(r"--to(?:=|\s+)['\"]?([^\s'\";|&)]+)")
_FATAL_OR = re.compile(r"^\|\|\s*(?:exit\s+[1-9]\d*|false)\s*(?:$|[;&|)])")
_ASSIGNMENTS = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*$")
_RUNNERS = ("exec", "time", "sudo", "env", "command")
_STARTS = ("&&", ";", "then", "do", "{", "(", "else")
_ERREXIT_OFF = re.compile(r"^set\s+(?:[-+][a-zA-Z]*\s+)*(?:\+[a-zA-Z]*e|\+o\s+errexit)")
_ERREXIT_ON = re.compile(r"^set\s+(?:[-+][a-zA-Z]*\s+)*(?:-[a-zA-Z]*e|-o\s+errexit)")
_RUNS_ANYWAY = re.compile(r"\b(?:always|failure|cancelled)\s*\(\s*\)")
_FALSE = re.compile(r"^\s*(?:\$\{\{\s*)?false\s*(?:\}\})?\s*$", re.IGNORECASE)

# The tier a stage name (``--to NAME``) deploys to, None when unknown.
StageTier = Callable[[str], Tier | None]


def _tolerated(flag: Any) -> bool:
    """``continue-on-error`` / ``allow_failure``: anything but an explicit false."""
    if flag is None or flag is False:
        return False
    return not (isinstance(flag, str) and flag.strip().lower() in ("", "false", "0"))


def _command_start(prefix: str) -> bool:
    """Whether a command starts right after ``prefix`` (the text before it on its line)."""
    prefix = prefix.rstrip()
    if not prefix or prefix.endswith(_STARTS):
        return True
    words = prefix.split()
    while words and words[-1] in _RUNNERS:
        words.pop()
    rest = " ".join(words)
    return not rest or rest.endswith(_STARTS) or bool(_ASSIGNMENTS.match(rest + " "))


def script_gates(text: str, stage_tier: StageTier) -> bool:
    """Whether a shell script runs a `stagewall gate check` whose failure fails it."""
    joined = re.sub(r"\\\n\s*", " ", text)
    errexit_off = False
    for raw in joined.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if _ERREXIT_OFF.match(line):
            errexit_off = True
            continue
        if _ERREXIT_ON.match(line):
            errexit_off = False
            continue
        for match in GATE.finditer(line):
            if not _command_start(line[: match.start()]):
                continue  # echo ..., if ..., ! ...: the words, not a gate
            rest = line[match.end() :]
            alternative = rest.find("||")
            fatal = alternative >= 0 and _FATAL_OR.match(rest[alternative:]) is not None
            if alternative >= 0 and not fatal:
                continue  # || true, || echo: the failure is swallowed
            if errexit_off and not fatal:
                continue
            target = _TO.search(rest)
            if (
                target is not None
                and "$" not in target.group(1)
                and stage_tier(target.group(1)) is Tier.NON_PRODUCTION
            ):
                continue  # checks another stage than the one deployed
            return True
    return False


def _job_gates(job: dict[str, Any], stage_tier: StageTier) -> bool:
    """Whether the job itself runs a gate that fails it."""
    if _tolerated(job.get("continue-on-error")) or _tolerated(job.get("allow_failure")):
        return False
    steps = job.get("steps")
    if isinstance(steps, list):  # GitHub Actions
        for step in steps:
            if not isinstance(step, dict) or _tolerated(step.get("continue-on-error")):
                continue
            condition = step.get("if")
            if condition is False or (isinstance(condition, str) and _FALSE.match(condition)):
                continue
            run = step.get("run")
            if isinstance(run, str):
                if script_gates(run, stage_tier):
                    return True
            elif GATE.search(text_of(step.get("with"))):
                return True  # an action runs it (its arguments): it cannot be read further
    # GitLab: after_script never fails a job
    scripts = [job.get(k) for k in ("before_script", "script")]
    lines = [s for part in scripts for s in (part if isinstance(part, list) else [part])]
    text = "\n".join(s for s in lines if isinstance(s, str))
    return bool(text) and script_gates(text, stage_tier)


def text_of(value: Any) -> str:
    """A CI document's value as text (lists as lines, mappings as ``key: value``)."""
    if isinstance(value, list):
        return "\n".join(text_of(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(f"{k}: {text_of(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _runs_anyway(job: dict[str, Any]) -> bool:
    """Whether a job runs even when a job it needs failed."""
    condition = job.get("if")
    if isinstance(condition, str) and _RUNS_ANYWAY.search(condition):
        return True
    return job.get("when") == "always"


def gated(
    job_id: str,
    all_jobs: dict[str, dict[str, Any]],
    stage_tier: StageTier,
    seen: set[str] | None = None,
) -> bool:
    """Whether ``job_id``, or a job it needs (transitively), runs an effective gate."""
    seen = set() if seen is None else seen
    if job_id in seen or job_id not in all_jobs:
        return False
    seen.add(job_id)
    job = all_jobs[job_id]
    if _job_gates(job, stage_tier):
        return True
    if _runs_anyway(job):
        return False
    needs = job.get("needs")
    names = [needs] if isinstance(needs, str) else needs if isinstance(needs, list) else []
    for need in names:
        name = need.get("job") if isinstance(need, dict) else need
        if isinstance(name, str) and gated(name, all_jobs, stage_tier, seen):
            return True
    return False


__all__ = ["GATE", "gated", "script_gates", "text_of"]
