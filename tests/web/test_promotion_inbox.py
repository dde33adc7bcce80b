"""A promotion a pipeline submits is approved from an internal approver's inbox."""

from __future__ import annotations

import html
import os
import subprocess
from pathlib import Path
from typing import Any

from stagewall.gates._git import Repo
from stagewall.gates._trees import Recorder
from stagewall.identity.pipeline import create_pipeline_token
from tests.server.conftest import Person, World
from tests.web.conftest import Browser

STAGES = """stages:
  - name: production
    environment: production
    checks: [tests]
    approval: one-sre
    deployers: [deploybot]
    require_signed_commits: false
"""
ART = "sha256:" + "ab" * 32


def _git(repo: Path, *args: str, author: str = "alice@example.com") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Alice",
        GIT_AUTHOR_EMAIL=author,
        GIT_COMMITTER_NAME="Alice",
        GIT_COMMITTER_EMAIL=author,
    )
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def submitted_promotion(world: World, tmp_path: Path) -> tuple[str, str]:
    """deploybot (a pipeline, with its pipeline token) submits alice's commit to production
    and reports its check; the promotion id and the commit."""
    world.config.write_text(world.config.read_text(encoding="utf-8") + STAGES, encoding="utf-8")
    world.state.refresh()
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "app.txt").write_text("v1\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "the change")
    sha = _git(repo, "rev-parse", "HEAD")
    # what `stagewall gate submit` sends: the commit objects and the trees that show
    # what they change (the server repeats the walk and checks every object's hash)
    git = Repo(repo)
    recorder = Recorder(git, git.raw_commits([sha]))
    recorder.changes([sha])
    token = create_pipeline_token(
        world.state.ctx.store, world.state.estate, world.state.ctx.audit, "deploybot",
        now=world.clock(),
    ).secret  # fmt: skip
    pipeline = {"Authorization": f"Bearer {token}"}
    res = world.client.post(
        "/api/v1/promotions",
        json={
            "stage": "production",
            "change": sha,
            "artifact": ART,
            **recorder.payload(),
        },
        headers=pipeline,
    )
    assert res.status_code == 200, res.text
    pid = str(res.json()["id"])
    res = world.client.post(
        "/api/v1/checks",
        json={"change": sha, "stage": "production", "check": "tests", "status": "pass"},
        headers=pipeline,
    )
    assert res.status_code == 200, res.text
    return pid, sha


def _approvals(world: World) -> list[Any]:
    return [
        e
        for e in world.events()
        if e.code == "gate.promotion.approved" and e.status.value == "Success"
    ]


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def test_a_pipelines_promotion_is_approved_from_the_inbox_with_step_up(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    pid, sha = submitted_promotion(world, tmp_path)
    bob = _browser(world, people["bob"])
    inbox = html.unescape(bob.get("/").text)
    assert f'value="promotion:{pid}"' in inbox
    # the facts to decide: who submitted, the authors, the commits, the checks
    assert "deploybot" in inbox and "alice@example.com" in inbox
    assert sha[:12] in inbox and "1 commit" in inbox
    assert "tests: pass" in inbox
    # no step-up, no approval
    res = bob.post("/decide", {"item": f"promotion:{pid}", "decision": "approve"})
    assert res.status_code == 400, res.text
    assert not _approvals(world)
    res = bob.post(
        "/decide",
        {"item": f"promotion:{pid}", "decision": "approve", "otp": people["bob"].otp()},
    )
    assert res.status_code == 200, res.text
    assert f"promotion {pid} of {sha[:12]}: approved" in res.text
    approved = _approvals(world)
    assert len(approved) == 1 and approved[0].actor == "bob"
    assert approved[0].details["mfa"]["method"] == "totp"
    assert f"promotion:{pid}" not in bob.get("/").text


def test_the_author_and_an_external_cannot_approve_a_promotion(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    pid, _sha = submitted_promotion(world, tmp_path)
    alice = _browser(world, people["alice"])
    # the author does not see it as hers to approve, and posting it anyway is refused
    assert f'value="promotion:{pid}"' not in alice.get("/").text
    res = alice.post(
        "/decide",
        {"item": f"promotion:{pid}", "decision": "approve", "otp": people["alice"].otp()},
    )
    assert res.status_code in (400, 403), res.text
    assert "author" in html.unescape(res.text)
    dana = _browser(world, people["dana"])
    res = dana.post(
        "/decide",
        {"item": f"promotion:{pid}", "decision": "approve", "otp": people["dana"].otp()},
    )
    assert res.status_code == 403 and "may not call web.decide" in res.text
    assert not _approvals(world)
