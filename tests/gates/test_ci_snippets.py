"""The CI snippets in docs/ci/ run, as written, against a real temporary git repository
and a live ``stagewall serve``.

The gate steps of each snippet (GitHub: steps named ``gate: …``; GitLab: the
``stagewall`` lines of the gate and deploy jobs) are executed with bash and the
installed ``stagewall`` command, with the variables CI would provide: the server URL,
and a CI OIDC ID token from a local issuer (GitHub: through a fake runner token
endpoint, as ``ACTIONS_ID_TOKEN_REQUEST_URL``; GitLab: in the ``id_tokens`` variable).
CI gets no store URL, no signing key and no estate file. Build, test, clone and deploy
lines (``make``, ``git clone``, ``your-deploy-tool``) are the user's own and skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci_issuer import AUDIENCE, RUNNER_SECRET, CiPlatform, ci_estate, ci_platform
from tests.gates.conftest import ESTATE, World, approve, digest, make_world

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci"
STAGEWALL = Path(sys.executable).with_name("stagewall")
ART = digest("dist/app.tar.gz")


def _world(tmp_path: Path, platform: str) -> Iterator[tuple[World, CiPlatform]]:
    with ci_platform() as ci:
        w = make_world(tmp_path, ci_estate(ESTATE, ci.url, platform))
        with w.stack:
            yield w, ci


@pytest.fixture
def github(tmp_path: Path) -> Iterator[tuple[World, CiPlatform]]:
    yield from _world(tmp_path, "github")


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[tuple[World, CiPlatform]]:
    yield from _world(tmp_path, "gitlab")


def _env(w: World, ci_home: Path, change: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "STAGEWALL_"))}
    src = Path(__file__).resolve().parents[2] / "src"
    env.update(
        {
            "PATH": f"{STAGEWALL.parent}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": str(src),  # this tree's stagewall, not another checkout's
            "STAGEWALL_SERVER": w.server(),
            "STAGEWALL_HOME": str(ci_home),  # empty: CI holds no key
            "CHANGE": change,
            "DIGEST": ART,
            "GITHUB_STEP_SUMMARY": str(w.root / "summary.md"),
            "BUILD_RESULT": "success",
        }
    )
    env.update(extra)
    return env


def _github_env(
    w: World, ci: CiPlatform, ci_home: Path, change: str, environment: str, **extra: str
) -> dict[str, str]:
    return _env(
        w,
        ci_home,
        change,
        STAGEWALL_OIDC_AUDIENCE=AUDIENCE,
        ACTIONS_ID_TOKEN_REQUEST_URL=f"{ci.url}/runner-token?environment={environment}",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN=RUNNER_SECRET,
        **extra,
    )


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


def test_github_actions_snippet_end_to_end(
    github: tuple[World, CiPlatform], tmp_path: Path
) -> None:
    world, ci = github
    _prepare(world)
    world.commit("dana@devshop.example")
    change = world.commit("dana@devshop.example", message="feature")
    env = _github_env(world, ci, tmp_path / "ci-home", change, "staging")
    prod_env = _github_env(world, ci, tmp_path / "ci-home", change, "production")

    r = _run_github(world, "gate-staging", env)
    assert r.returncode == 0, r.stderr
    assert "submitted" in (world.root / "summary.md").read_text()
    pid = _production_promotion(world, change)

    deploy = "deploy-production"
    refused = _run_github(world, deploy, prod_env)
    assert refused.returncode == 1
    assert "needs 1 approval(s) from sre" in refused.stderr

    ok = approve(world, pid, "bob")
    assert ok.exit_code == 0, ok.stderr
    r = _run_github(world, deploy, prod_env)
    assert r.returncode == 0, r.stderr
    assert "verified: signed by key" in r.stdout and "approved by bob" in r.stdout
    att = json.loads((world.repo / "attestation.json").read_text())
    assert att["payloadType"] == "application/vnd.in-toto+json"
    # The server recorded who acted and how: the staging job as ci-bot, by CI OIDC.
    events = [e for e in _events(world) if e.code == "gate.check.reported"]
    assert events and all(e.actor == "ci-bot" for e in events)

    # A failed check reported after the approval blocks the next deployment.
    fail_env = {**env, "BUILD_RESULT": "failure"}
    only = "gate: report the test result"
    assert _run_github(world, "gate-staging", fail_env, only=only).returncode == 1  # fails the job
    r = _run_github(world, deploy, prod_env)
    assert r.returncode == 1 and "check 'tests' failed" in r.stderr


def _events(world: World) -> list[Any]:
    from stagewall.audit import AuditLog
    from stagewall.store import open_store

    store = open_store(world.db)
    try:
        return AuditLog(store).events()
    finally:
        store.dispose()


def test_github_snippet_refusals(github: tuple[World, CiPlatform], tmp_path: Path) -> None:
    world, ci = github
    _prepare(world)
    world.commit("carol@example.com", message="internal groundwork")
    change = world.commit("dana@devshop.example")
    env = _github_env(world, ci, tmp_path / "ci-home", change, "staging")
    prod_env = _github_env(world, ci, tmp_path / "ci-home", change, "production")
    assert _run_github(world, "gate-staging", env).returncode == 0
    pid = _production_promotion(world, change)

    r = approve(world, pid, "carol")
    assert r.exit_code == 1 and "author (carol@example.com)" in r.stderr
    r = approve(world, pid, "dana")
    assert r.exit_code == 1 and "'dana' (external) may not call gate.approve" in r.stderr
    assert approve(world, pid, "bob").exit_code == 0

    # The staging job's token is ci-bot's, which may not deploy to production.
    r = _run_github(world, "deploy-production", env)
    assert r.returncode == 1 and "'ci-bot' may not deploy to production" in r.stderr

    # Artifact mismatch.
    r = _run_github(world, "deploy-production", {**prod_env, "DIGEST": digest("other build")})
    assert r.returncode == 1 and "artifact mismatch" in r.stderr

    # Push after approval: the new commit is not covered.
    pushed = world.commit("dana@devshop.example", message="after approval")
    r = _run_github(world, "deploy-production", {**prod_env, "CHANGE": pushed})
    assert r.returncode == 1 and f"covers commit {change[:12]}, not {pushed[:12]}" in r.stderr

    # Skipping staging: submitting the new commit straight for production is refused.
    only = "gate: submit for production"
    r = _run_github(world, "gate-staging", {**env, "CHANGE": pushed}, only=only)
    assert r.returncode == 1 and "skipping a stage is refused" in r.stderr

    # Not a GitHub job that may mint tokens: a clear usage error, nothing sent.
    bare = {k: v for k, v in env.items() if not k.startswith("ACTIONS_ID_TOKEN")}
    r = _run_github(world, "gate-staging", bare, only=only)
    assert r.returncode == 2 and "id-token: write" in r.stderr


def _gitlab_script(job: str) -> str:
    doc = yaml.safe_load((DOCS / "gitlab-ci.yml").read_text())
    lines = [str(x) for x in doc[job]["script"]]
    skip = ("your-deploy-tool", "make ", "git clone")
    return "\n".join(x for x in lines if not x.startswith(skip))


def test_gitlab_ci_snippet_end_to_end(gitlab: tuple[World, CiPlatform], tmp_path: Path) -> None:
    world, ci = gitlab
    doc = yaml.safe_load((DOCS / "gitlab-ci.yml").read_text())
    assert doc[".stagewall"]["id_tokens"]["STAGEWALL_ID_TOKEN"]["aud"] == "$STAGEWALL_AUDIENCE"
    _prepare(world)
    change = world.commit("dana@devshop.example")
    staging = ci.sign(ci.gitlab("staging"))
    env = _env(world, tmp_path / "ci-home", change, STAGEWALL_ID_TOKEN=staging)
    for job in ("gate-submit", "deploy-staging"):
        r = _bash(_gitlab_script(job), world.repo, env)
        assert r.returncode == 0, (job, r.stderr)
    pid = _production_promotion(world, change)
    prod = {**env, "STAGEWALL_ID_TOKEN": ci.sign(ci.gitlab("production"))}
    r = _bash(_gitlab_script("deploy-production"), world.repo, prod)
    assert r.returncode == 1 and "needs 1 approval(s)" in r.stderr
    assert approve(world, pid, "alice").exit_code == 0
    r = _bash(_gitlab_script("deploy-production"), world.repo, prod)
    assert r.returncode == 0, r.stderr
    assert "approved by alice" in r.stdout
    assert "stagewall gate report" in _gitlab_script("gate-report-failure")
    # A merge-request pipeline's token maps to no service principal.
    mr = {
        **env,
        "STAGEWALL_ID_TOKEN": ci.sign(ci.gitlab("staging", pipeline_source="merge_request_event")),
    }
    r = _bash(_gitlab_script("gate-submit"), world.repo, mr)
    assert r.returncode == 2 and "matches no service principal's ci binding" in r.stderr


def test_snippets_install_a_pinned_stagewall() -> None:
    """Not `pip install stagewall` (nothing by that name is published): a pinned git ref."""
    for name in ("github-actions.yml", "gitlab-ci.yml"):
        text = (DOCS / name).read_text()
        assert "pip install stagewall\n" not in text and "pip install stagewall " not in text
        assert "git+" in text and "STAGEWALL_REF" in text
        assert "STAGEWALL_DB" not in text and "SIGNING_KEY" not in text  # CI holds no secret
    gh = yaml.safe_load((DOCS / "github-actions.yml").read_text())
    for job in ("gate-staging", "deploy-production"):
        assert gh["jobs"][job]["permissions"]["id-token"] == "write"
    assert "id-token" not in gh["jobs"]["build"].get("permissions", {})


def test_github_staging_deploys_only_the_artifact_the_gate_checked() -> None:
    """Attack (redteamgate): in the GitHub snippet the build job takes the digest, then
    runs ``make test`` (the change's code) before uploading dist/, so the change could
    swap dist/app.tar.gz: staging would run another artifact than the one the gate
    recorded as deployed there, and production would get one staging never ran."""
    doc = yaml.safe_load((DOCS / "github-actions.yml").read_text())
    [step] = [
        s for s in doc["jobs"]["gate-staging"]["steps"] if s.get("name") == "deploy to staging"
    ]
    lines = [
        x.strip() for x in step["run"].splitlines() if x.strip() and not x.strip().startswith("#")
    ]
    check = next(i for i, x in enumerate(lines) if "sha256sum --check" in x)
    deploy = next(i for i, x in enumerate(lines) if x.startswith("your-deploy-tool staging"))
    assert check < deploy
    assert '"${DIGEST#sha256:}  dist/app.tar.gz"' in lines[check]
