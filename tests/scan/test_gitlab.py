"""GitLab ``include:``: included files are read as CI, templates resolve across files."""

from __future__ import annotations

from pathlib import Path

from stagewall.scan import scan_paths
from stagewall.scan._gitlab import MAX_INCLUDES, find_pipelines
from stagewall.scan.rules.meta import ParseError


def _tree(root: Path, files: dict[str, str]) -> list[tuple[Path, str]]:
    out = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.append((path, rel))
    return out


def test_local_includes_in_every_spelling_and_wildcards(tmp_path: Path) -> None:
    walked = _tree(
        tmp_path,
        {
            "repo/.gitlab-ci.yml": (
                "include:\n"
                "  - local: /ci/a.yml\n"
                "  - ci/jobs/*.yml\n"
                "  - {project: group/other, file: /x.yml}\n"
                "  - template: Auto-DevOps.gitlab-ci.yml\n"
                "build: {script: [make]}\n"
            ),
            "repo/ci/a.yml": "include: 'ci/nested/**/*.yml'\n.t: {environment: production}\n",
            "repo/ci/jobs/one.yml": "one: {script: [x]}\n",
            "repo/ci/jobs/deeper/two.yml": "two: {script: [x]}\n",
            "repo/ci/nested/x/y/three.yml": "three: {extends: .t}\n",
            "repo/docs/unrelated.yml": "a: 1\n",
        },
    )
    found = find_pipelines(walked)
    members = set(found.context)
    assert members == {
        "repo/.gitlab-ci.yml",
        "repo/ci/a.yml",
        "repo/ci/jobs/one.yml",
        "repo/ci/nested/x/y/three.yml",
    }  # `*` does not cross directories: ci/jobs/deeper/two.yml is not included
    merged = found.merged_for("repo/ci/jobs/one.yml")
    assert merged is not None and {"build", "one", ".t", "three"} <= set(merged)
    assert "include" not in merged
    assert found.not_followed["repo/.gitlab-ci.yml"] == [
        "project: group/other",
        "template: Auto-DevOps.gitlab-ci.yml",
    ]


def test_the_including_file_wins_and_cycles_end(tmp_path: Path) -> None:
    walked = _tree(
        tmp_path,
        {
            ".gitlab-ci.yml": (
                "include: {local: a.yml}\nvariables: {ENVIRONMENT: staging}\n.t: {stage: deploy}\n"
            ),
            "a.yml": "include: [.gitlab-ci.yml, a.yml]\nvariables: {ENVIRONMENT: production}\n"
            ".t: {environment: production}\n",
        },
    )
    merged = find_pipelines(walked).merged_for("a.yml")
    assert merged is not None
    assert merged["variables"] == {"ENVIRONMENT": "staging"}
    assert merged[".t"] == {"environment": "production", "stage": "deploy"}  # deep merge


def test_include_graph_is_bounded(tmp_path: Path) -> None:
    files = {".gitlab-ci.yml": "include: c0.yml\n"}
    for i in range(MAX_INCLUDES + 20):
        files[f"c{i}.yml"] = f"include: c{i + 1}.yml\njob{i}: {{script: [x]}}\n"
    found = find_pipelines(_tree(tmp_path, files))
    assert len(found.context) == MAX_INCLUDES


def test_unreadable_and_missing_includes_do_not_stop_the_scan(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            ".gitlab-ci.yml": "include: [missing.yml, bad.yml, ref.yml]\n",
            "bad.yml": "a: [unclosed\n",
            "ref.yml": (
                ".base: {environment: production, script: [./release.sh]}\n"
                "release:\n  extends: .base\n  script: !reference [.base, script]\n"
            ),
        },
    )
    result = scan_paths([tmp_path])
    ungated = [f for f in result.active if f.rule_id == "SW-SCAN-008"]
    assert [(f.file, f.environment) for f in ungated] == [("ref.yml", "production")]
    # the broken included file is reported as what it is, a parse error
    assert [f.rule_id for f in result.active if f.file == "bad.yml"] == [ParseError.id]


def test_gitlab_variables_name_the_environment(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            ".gitlab-ci.yml": (
                "variables:\n  DEPLOY_ENV: {value: production, description: where}\n"
                "ship: {script: [./deploy.sh]}\n"
            )
        },
    )
    result = scan_paths([tmp_path])
    ungated = [f for f in result.active if f.rule_id == "SW-SCAN-008"]
    assert len(ungated) == 1
    assert ungated[0].environment_reason == "pipeline variables DEPLOY_ENV=production"
