"""The CI snippets in docs/ci/ run, as written, against a real temporary git repository.

The gate steps of each snippet (GitHub: steps named ``gate: …``; GitLab: the
``stagewall``/key-restore lines of the gate and deploy jobs) are executed with bash
and the installed ``stagewall`` command, with the variables CI would provide. Build,
test and deploy lines (``make``, ``your-deploy-tool``) are the user's own and skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.gates.conftest import World, approve, digest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci"
STAGEWALL = Path(sys.executable).with_name("stagewall")
ART = digest("dist/app.tar.gz")


def _env(w: World, ci_home: Path, change: str, **extra: str) -> dict[str, str]:
    home = Path(os.environ["STAGEWALL_HOME"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "STAGEWALL_"))}
    env.update(
        {
            "PATH": f"{STAGEWALL.parent}{os.pathsep}{env.get('PATH', '')}",
            "STAGEWALL_CONFIG": str(w.config),
            "STAGEWALL_DB": w.db,
            "STAGEWALL_HOME": str(ci_home),
            "STAGEWALL_SIGNING_KEY": (home / "audit_signing.key").read_text().strip(),
            "CHANGE": change,
            "DIGEST": ART,
            "GITHUB_STEP_SUMMARY": str(w.root / "summary.md"),
            "BUILD_RESULT": "success",
        }
    )
    env.update(extra)
    return env


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _github_steps(job: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load((DOCS / "github-actions.yml").read_text())
    assert doc["defaults"]["run"]["shell"] == "bash"
    return [s for s in doc["jobs"][job]["steps"] if str(s.get("name", "")).startswith("gate:")]


def _run_github(
    w: World, job: str, env: dict[str, str], only: str | None = None
) -> subprocess.CompletedProcess[str]:
    last: subprocess.CompletedProcess[str] | None = None
    for step in _github_steps(job):
        if only is not None and step["name"] != only:
            continue
        last = _bash(step["run"], w.repo, env)
        if last.returncode != 0:
            return last
    assert last is not None, f"no gate step {only!r} in job {job}"
    return last


def _prepare(w: World) -> None:
    (w.repo / "estate").mkdir()
    pub = Path(os.environ["STAGEWALL_HOME"]) / "audit_signing.pub"
    (w.repo / "estate" / "stagewall.pub").write_text(pub.read_text())


def _production_promotion(w: World, change: str) -> str:
    rows = json.loads(w.gate("list", "--format", "json").stdout)
    return next(r["id"] for r in rows if r["stage"] == "production" and r["sha"] == change)


def test_github_actions_snippet_end_to_end(world: World, tmp_path: Path) -> None:
    _prepare(world)
    world.commit("dana@devshop.example")
    change = world.commit("dana@devshop.example", message="feature")
    env = _env(world, tmp_path / "ci-home", change)

    r = _run_github(world, "gate-staging", env)
    assert r.returncode == 0, r.stderr
    assert "submitted" in (world.root / "summary.md").read_text()
    pid = _production_promotion(world, change)

    deploy = "deploy-production"
    refused = _run_github(world, deploy, env)
    assert refused.returncode == 1
    assert "needs 1 approval(s) from sre" in refused.stderr

    ok = approve(world, pid, "bob")
    assert ok.exit_code == 0, ok.stderr
    r = _run_github(world, deploy, env)
    assert r.returncode == 0, r.stderr
    assert "verified: signed by key" in r.stdout and "approved by bob" in r.stdout
    att = json.loads((world.repo / "attestation.json").read_text())
    assert att["payloadType"] == "application/vnd.in-toto+json"

    # A failed check reported after the approval blocks the next deployment.
    fail_env = {**env, "BUILD_RESULT": "failure"}
    only = "gate: report the test result"
    assert _run_github(world, "gate-staging", fail_env, only=only).returncode == 1  # fails the job
    r = _run_github(world, deploy, env)
    assert r.returncode == 1 and "check 'tests' failed" in r.stderr


def test_github_snippet_refusals(world: World, tmp_path: Path) -> None:
    _prepare(world)
    world.commit("carol@example.com", message="internal groundwork")
    change = world.commit("dana@devshop.example")
    env = _env(world, tmp_path / "ci-home", change)
    assert _run_github(world, "gate-staging", env).returncode == 0
    pid = _production_promotion(world, change)

    r = approve(world, pid, "carol")
    assert r.exit_code == 1 and "author (carol@example.com)" in r.stderr
    r = approve(world, pid, "dana")
    assert r.exit_code == 1 and "'dana' (external) may not call gate.approve" in r.stderr
    assert approve(world, pid, "bob").exit_code == 0

    # Artifact mismatch.
    r = _run_github(world, "deploy-production", {**env, "DIGEST": digest("other build")})
    assert r.returncode == 1 and "artifact mismatch" in r.stderr

    # Push after approval: the new commit is not covered.
    pushed = world.commit("dana@devshop.example", message="after approval")
    r = _run_github(world, "deploy-production", {**env, "CHANGE": pushed})
    assert r.returncode == 1 and f"covers commit {change[:12]}, not {pushed[:12]}" in r.stderr

    # Skipping staging: submitting the new commit straight for production is refused.
    only = "gate: submit for production"
    r = _run_github(world, "gate-staging", {**env, "CHANGE": pushed}, only=only)
    assert r.returncode == 1 and "skipping a stage is refused" in r.stderr


def _gitlab_script(job: str) -> str:
    doc = yaml.safe_load((DOCS / "gitlab-ci.yml").read_text())
    lines = [str(x) for x in doc[job]["script"]]
    return "\n".join(x for x in lines if not x.startswith(("your-deploy-tool", "make ")))


def test_gitlab_ci_snippet_end_to_end(world: World, tmp_path: Path) -> None:
    _prepare(world)
    change = world.commit("dana@devshop.example")
    env = _env(world, tmp_path / "ci-home", change)
    for job in ("gate-submit", "deploy-staging"):
        r = _bash(_gitlab_script(job), world.repo, env)
        assert r.returncode == 0, (job, r.stderr)
    pid = _production_promotion(world, change)
    r = _bash(_gitlab_script("deploy-production"), world.repo, env)
    assert r.returncode == 1 and "needs 1 approval(s)" in r.stderr
    assert approve(world, pid, "alice").exit_code == 0
    r = _bash(_gitlab_script("deploy-production"), world.repo, env)
    assert r.returncode == 0, r.stderr
    assert "approved by alice" in r.stdout
    assert "stagewall gate report" in _gitlab_script("gate-report-failure")
