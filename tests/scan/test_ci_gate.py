"""SW-SCAN-008: a `stagewall gate check` that cannot stop the deploy is no gate.

A failure tolerated (`|| true`, `continue-on-error`, `set +e`, GitLab `allow_failure`),
a step that never runs (`if: false`), a deploy that runs whatever its gate job did
(`if: always()`, GitLab `when: always`), a check of another stage (`--to staging` in a
production job) or the words only (`echo stagewall gate check`) leave the production
deploy ungated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.estate import parse_estate
from stagewall.scan import scan_paths

ESTATE = """\
version: 1
environments:
  production: {tier: production}
  staging: {tier: non-production}
principals:
  alice: {affiliation: internal}
groups:
  sre: {members: [alice]}
approval_rules:
  one-sre: {approvals: 1, from_groups: [sre]}
stages:
  - {name: staging, environment: staging}
  - {name: production, environment: production, approval: one-sre}
"""

CHECK = "stagewall gate check --change $SHA --artifact $DIGEST --to production --out a.json"


def _github(gate_step: str, deploy_if: str = "", gate_job: str | None = None) -> str:
    if gate_job is not None:
        return (
            "name: d\non: workflow_dispatch\njobs:\n"
            f"  gate:\n    runs-on: ubuntu-latest\n{gate_job}"
            f"    steps:\n      - run: {CHECK}\n"
            f"  ship:\n    needs: gate\n{deploy_if}    runs-on: ubuntu-latest\n"
            "    environment: production\n    steps:\n      - run: ./deploy.sh\n"
        )
    return (
        "name: d\non: workflow_dispatch\njobs:\n  ship:\n    runs-on: ubuntu-latest\n"
        f"    environment: production\n    steps:\n{gate_step}      - run: ./deploy.sh\n"
    )


UNGATED = {
    "or-true": _github(f"      - run: {CHECK} || true\n"),
    "or-echo": _github(f"      - run: {CHECK} || echo 'gate unavailable'\n"),
    "other-stage": _github(
        "      - run: stagewall gate check --change $SHA --artifact $DIGEST --to staging\n"
    ),
    "continue-on-error": _github(f"      - run: {CHECK}\n        continue-on-error: true\n"),
    "if-false": _github(f"      - run: {CHECK}\n        if: false\n"),
    "if-false-expression": _github(f"      - run: {CHECK}\n        if: ${{{{ false }}}}\n"),
    "set-plus-e": _github(f"      - run: |\n          set +e\n          {CHECK}\n"),
    "echo": _github(f"      - run: echo {CHECK}\n"),
    "if-then": _github(f"      - run: |\n          if {CHECK}; then echo ok; fi\n"),
    "needs-always": _github("", deploy_if="    if: always()\n", gate_job=""),
    "needs-failure": _github("", deploy_if="    if: ${{ !cancelled() }}\n", gate_job=""),
    "needs-tolerant-job": _github("", gate_job="    continue-on-error: true\n"),
}

GATED = {
    "plain": _github(f"      - run: {CHECK}\n"),
    "env-prefix": _github(f"      - run: STAGEWALL_SERVER=https://sw.example {CHECK}\n"),
    "cd-and": _github(
        "      - run: cd app && stagewall gate check --change $SHA --artifact $D --to $STAGE\n"
    ),
    "or-exit": _github(f"      - run: {CHECK} || exit 1\n"),
    "continued-line": _github(
        "      - run: |\n          stagewall gate check \\\\\n"
        "            --change $SHA --artifact $DIGEST --to production\n"
    ),
    "step-condition": _github(
        f"      - run: {CHECK}\n        if: github.ref == 'refs/heads/main'\n"
    ),
    "needs-condition": _github(
        "", deploy_if="    if: github.ref == 'refs/heads/main'\n", gate_job=""
    ),
}

GITLAB_UNGATED = {
    "allow-failure": (
        "gate:\n  stage: test\n  allow_failure: true\n  script:\n    - " + CHECK + "\n"
        "deploy:\n  stage: deploy\n  needs: [gate]\n  environment: production\n"
        "  script:\n    - ./deploy.sh\n"
    ),
    "when-always": (
        "gate:\n  stage: test\n  script:\n    - " + CHECK + "\n"
        "deploy:\n  stage: deploy\n  needs: [gate]\n  when: always\n  environment: production\n"
        "  script:\n    - ./deploy.sh\n"
    ),
    "or-echo": (
        "deploy:\n  stage: deploy\n  environment: production\n  script:\n"
        "    - " + CHECK + " || echo skipped\n    - ./deploy.sh\n"
    ),
}

GITLAB_GATED = {
    "plain": (
        "gate:\n  stage: test\n  script:\n    - " + CHECK + "\n"
        "deploy:\n  stage: deploy\n  needs: [gate]\n  environment: production\n"
        "  script:\n    - ./deploy.sh\n"
    ),
}


def _found(tmp_path: Path, rel: str, text: str) -> list[str]:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    estate = parse_estate(ESTATE, "stagewall.yaml").estate
    return [f.rule_id for f in scan_paths([tmp_path], estate).active]


@pytest.mark.parametrize("name", sorted(UNGATED))
def test_a_gate_that_cannot_stop_the_deploy_is_reported(tmp_path: Path, name: str) -> None:
    found = _found(tmp_path, ".github/workflows/deploy.yml", UNGATED[name])
    assert "SW-SCAN-008" in found, (name, found)


@pytest.mark.parametrize("name", sorted(GATED))
def test_a_gate_that_stops_the_deploy_is_accepted(tmp_path: Path, name: str) -> None:
    found = _found(tmp_path, ".github/workflows/deploy.yml", GATED[name])
    assert "SW-SCAN-008" not in found, (name, found)


@pytest.mark.parametrize("name", sorted(GITLAB_UNGATED))
def test_gitlab_gate_that_cannot_stop_the_deploy(tmp_path: Path, name: str) -> None:
    assert "SW-SCAN-008" in _found(tmp_path, ".gitlab-ci.yml", GITLAB_UNGATED[name]), name


def test_gitlab_gate_that_stops_the_deploy(tmp_path: Path) -> None:
    assert "SW-SCAN-008" not in _found(tmp_path, ".gitlab-ci.yml", GITLAB_GATED["plain"])
