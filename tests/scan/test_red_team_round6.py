"""Round 6 of the red team: crossings as people write them that the scanner missed.

Fork-reachable GitHub triggers other than ``pull_request_target``; a production secret
read in the workflow-level ``env:`` (or GitLab's top-level ``variables:``) of a staging
job; dotenv's per-mode ``.env.staging.local``; environment directories named by more
than one word (``envs/staging-eu/``); a kustomize overlay or Terraform module built on
production's directory. Each case has its near miss that must stay quiet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.test_written_forms import _hits, _scan

COMMENT_DEPLOY = """\
name: preview
on:
  issue_comment:
    types: [created]
jobs:
  deploy:
    if: github.event.issue.pull_request
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: refs/pull/${{ github.event.issue.number }}/head
      - run: ./deploy.sh
        env:
          KUBECONFIG_B64: ${{ secrets.KUBECONFIG_B64 }}
  members:
    if: contains(fromJSON('["OWNER", "MEMBER"]'), github.event.comment.author_association)
    runs-on: ubuntu-latest
    steps:
      - run: gh pr checkout ${{ github.event.issue.number }} && ./bench.sh
        env:
          TOKEN: ${{ secrets.BENCH_TOKEN }}
  either:
    if: github.event.comment.author_association == 'OWNER' || github.event.issue.pull_request
    runs-on: ubuntu-latest
    steps:
      - run: gh pr checkout ${{ github.event.issue.number }} && ./bench.sh
        env:
          TOKEN: ${{ secrets.BENCH_TOKEN }}
  label:
    if: startsWith(github.event.comment.body, '/label')
    runs-on: ubuntu-latest
    steps:
      - run: gh issue edit ${{ github.event.issue.number }} --add-label triage
        env:
          GH_TOKEN: ${{ secrets.TRIAGE_TOKEN }}
  nosecrets:
    runs-on: ubuntu-latest
    steps:
      - run: echo thanks
"""

WORKFLOW_RUN = """\
name: after-ci
on:
  workflow_run:
    workflows: [ci]
    types: [completed]
env:
  NPM_TOKEN: ${{ secrets.NPM_PUBLISH_TOKEN }}
jobs:
  publish:
    if: github.event.workflow_run.conclusion == 'success'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with:
          run-id: ${{ github.event.workflow_run.id }}
      - run: ./publish.sh
  pushes:
    if: github.event.workflow_run.event == 'push'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with:
          run-id: ${{ github.event.workflow_run.id }}
      - run: ./publish.sh
  ours:
    if: github.event.workflow_run.head_repository.full_name == github.repository
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.workflow_run.head_sha }}
      - run: ./publish.sh
  own-code:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: ./notify.sh
"""


def test_fork_reachable_triggers_with_secrets_are_reported(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            ".github/workflows/preview.yml": COMMENT_DEPLOY,
            ".github/workflows/after-ci.yml": WORKFLOW_RUN,
        },
    )
    # deploy (its first line, 7) and the `||` job (24) run the pull request's code with a
    # secret; the members-only job, the label job (its own code; the comment only in its
    # condition) and the secretless one stay quiet; of the workflow_run jobs only the one
    # guarded by nothing but its conclusion (10) takes the fork run's artifact unguarded
    # (own-code has the workflow's secret but runs the base repository's code)
    assert _hits(result, "SW-SCAN-009") == [
        (".github/workflows/after-ci.yml", 10),
        (".github/workflows/preview.yml", 7),
        (".github/workflows/preview.yml", 24),
    ]
    messages = {f.message for f in result.active if f.rule_id == "SW-SCAN-009"}
    assert "issue_comment job deploy runs for any commenter with KUBECONFIG_B64" in messages
    assert "workflow_run job publish runs for forks with NPM_PUBLISH_TOKEN" in messages


def test_a_pull_request_target_job_is_reported_whatever_its_condition(tmp_path: Path) -> None:
    text = WORKFLOW_RUN.replace(
        "  workflow_run:\n    workflows: [ci]\n    types: [completed]\n", "  pull_request_target:\n"
    )
    result = _scan(tmp_path, {".github/workflows/prt.yml": text})
    assert len(_hits(result, "SW-SCAN-009")) == 4  # no condition or input excuses it


STAGING_WORKFLOW = """\
name: nightly
on: push
env:
  SENTRY_AUTH_TOKEN: ${{ secrets.SENTRY_AUTH_TOKEN_PRODUCTION }}
  OWN_KEY: ${{ secrets.STAGING_API_KEY }}
jobs:
  smoke:
    environment: staging
    runs-on: ubuntu-latest
    steps:
      - run: ./smoke.sh
  release:
    environment: production
    runs-on: ubuntu-latest
    steps:
      - run: stagewall gate check --to production --commit $GITHUB_SHA && ./release.sh
"""

GITLAB = """\
variables:
  DB_PASSWORD: $PROD_DB_PASSWORD
default:
  before_script:
    - export TOKEN=$STAGING_DEPLOY_TOKEN
e2e-staging:
  environment: staging
  script:
    - ./e2e.sh
"""


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        (".github/workflows/nightly.yml", STAGING_WORKFLOW, [(".github/workflows/nightly.yml", 8)]),
        (".gitlab-ci.yml", GITLAB, [(".gitlab-ci.yml", 7)]),
    ],
)
def test_a_workflow_wide_production_secret_reaches_the_staging_job(
    tmp_path: Path, rel: str, text: str, expected: list[tuple[str, int]]
) -> None:
    result = _scan(tmp_path, {rel: text})
    assert _hits(result, "SW-SCAN-015") == expected
    names = {f.message.rsplit(" ", 1)[-1] for f in result.active if f.rule_id == "SW-SCAN-015"}
    assert names == ({"SENTRY_AUTH_TOKEN_PRODUCTION"} if "nightly" in rel else {"PROD_DB_PASSWORD"})


DB_LINE = "DATABASE_URL=postgres://app@pg-main.acme.internal:5432/shop?sslmode=verify-full\n"


def test_a_dotenv_mode_local_override_belongs_to_its_mode(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {"web/.env.staging.local": DB_LINE, "web/.env.production.local": DB_LINE},
    )
    assert _hits(result, "SW-SCAN-001") == [("web/.env.staging.local", 1)]
    staged = next(f for f in result.active if f.file == "web/.env.staging.local")
    assert staged.environment == "staging"


@pytest.mark.parametrize(
    "rel",
    [
        "infra/envs/staging-eu/terraform.tfvars",
        "deploy/environments/stg-canary/app.env",
        "k8s/overlays/staging-blue/values.yaml",
    ],
)
def test_an_environment_directory_named_by_several_words_is_attributed(
    tmp_path: Path, rel: str
) -> None:
    text = (
        'db_host = "pg-main.acme.internal"\n'
        if rel.endswith(".tfvars")
        else "DB_HOST=pg-main.acme.internal\n"
        if rel.endswith(".env")
        else "db:\n  host: pg-main.acme.internal\n"
    )
    result = _scan(tmp_path, {rel: text})
    assert [f for f, _ in _hits(result, "SW-SCAN-001")] == [rel]


def test_mixed_words_in_an_environment_directory_attribute_nothing(tmp_path: Path) -> None:
    rel = "infra/envs/prod-mirror-staging/terraform.tfvars"
    result = _scan(tmp_path, {rel: 'db_host = "pg-main.acme.internal"\n'})
    assert _hits(result, "SW-SCAN-001") == []  # neither staging nor production: unknown


def test_configuration_built_on_a_production_directory_is_reported(tmp_path: Path) -> None:
    kustomization = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - ../production\n  - ../../base\n  - ../prod/deployment.yaml\n"
        "  - https://github.com/acme/shop//deploy/overlays/production?ref=v1\n"
    )
    main_tf = (
        'module "stack" {\n  source = "../prod"\n}\n'
        'module "dns" {\n  source = "../../modules/dns"\n}\n'
        'module "remote" {\n  source = "git::https://example.com/prod.git"\n}\n'
    )
    result = _scan(
        tmp_path,
        {
            "k8s/overlays/staging/kustomization.yaml": kustomization,
            "tf/envs/staging/main.tf": main_tf,
        },
    )
    assert _hits(result, "SW-SCAN-001") == [
        ("k8s/overlays/staging/kustomization.yaml", 4),
        ("k8s/overlays/staging/kustomization.yaml", 6),
        ("tf/envs/staging/main.tf", 2),
    ]


COMPOSE = """\
services:
  app:
    image: acme/shop:1.2
    environment:
      DATABASE_URL: postgres://app@${DB_HOST}:5432/shop?sslmode=verify-full
      PRICE: $$5
"""


def test_a_staging_compose_file_resolves_its_project_dotenv(tmp_path: Path) -> None:
    """`docker compose -f docker-compose.staging.yml up` reads ./.env for ${DB_HOST}."""
    result = _scan(
        tmp_path,
        {"docker-compose.staging.yml": COMPOSE, ".env": "DB_HOST=pg-main.acme.internal\n"},
    )
    assert _hits(result, "SW-SCAN-001") == [("docker-compose.staging.yml", 5)]


def test_a_staging_compose_file_with_a_staging_dotenv_is_quiet(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {"docker-compose.staging.yml": COMPOSE, ".env": "DB_HOST=pg-stg.acme.internal\n"},
    )
    assert _hits(result, "SW-SCAN-001") == []


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ("${H}", "h.prod"),
        ("$H/x", "h.prod/x"),
        ("${H:-d}", "h.prod"),
        ("${E:-d}", "d"),
        ("${E-d}", ""),
        ("${H:+alt}", "alt"),
        ("${H:?set H}", "h.prod"),
        ("$$H ${NOPE}", None),  # an escaped dollar, an unset variable: reads nothing
    ],
)
def test_compose_interpolation_follows_compose(value: str, resolved: str | None) -> None:
    from stagewall.scan.readers.compose import interpolate

    assert interpolate(value, {"H": "h.prod", "E": ""}) == resolved
