"""Round 8: what a staging compose project loads and which secrets a CI job can name.

Recall: a staging compose service's ``env_file`` chosen by a variable (its default, the
project's ``.env``); ``docker compose --env-file .env.production`` written in a Makefile,
a script, a ``package.json`` script or a CI job for a staging project; secret names
built at run time (GitHub ``secrets[format(...)]``, ``secrets[matrix.x]``,
``secrets[env.X]``; GitLab ``\\$${VAR}_NAME`` and ``${!NAME}``). Precision: each has its
near miss that stays quiet (the value follows the job's own environment, a production
project, prose, an absolute path that says nothing, a name the written part already
makes staging's); an env_file nothing resolves is low (SW-SCAN-011), never a crossing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagewall.scan._model import Severity
from tests.scan.test_written_forms import _hits, _scan

_PROD_DB = "DATABASE_URL=postgres://app@db.prod.example.internal:5432/shop\n"


def _compose(env_file: str) -> str:
    return f"services:\n  web:\n    image: acme/web:1\n    env_file: {env_file}\n"


@pytest.mark.parametrize(
    "env_file",
    [
        "${ENV_FILE:-.env.production}",
        "${ENV_FILE-.env.production}",
        "'${CONFIG_DIR:-config}/${STAGE:-production}.env'",
        "[.env.common, '${WEB_ENV:-.env.production}']",
    ],
)
def test_env_file_variable_default_that_is_production(tmp_path: Path, env_file: str) -> None:
    result = _scan(
        tmp_path,
        {
            "docker-compose.staging.yml": _compose(env_file),
            ".env.common": "TZ=UTC\n",
            ".env.production": "LOG_LEVEL=warn\n",
            "config/production.env": "LOG_LEVEL=warn\n",
        },
    )
    assert _hits(result, "SW-SCAN-001") == [("docker-compose.staging.yml", 4)]


def test_env_file_variable_default_file_holding_production_values(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {"docker-compose.staging.yml": _compose("${WEB_ENV:-web.env}"), "web.env": _PROD_DB},
    )
    assert _hits(result, "SW-SCAN-001") == [("docker-compose.staging.yml", 4)]


def test_project_dotenv_wins_over_the_default(tmp_path: Path) -> None:
    files = {
        "docker-compose.staging.yml": _compose("${ENV_FILE:-.env.production}"),
        ".env": "ENV_FILE=.env.staging\n",
        ".env.staging": "LOG_LEVEL=debug\n",
    }
    result = _scan(tmp_path, files)
    assert _hits(result, "SW-SCAN-001") == []
    assert _hits(result, "SW-SCAN-011") == []


@pytest.mark.parametrize(
    "env_file", ["${ENV_FILE}", "./config/${STAGE}.env", "${ENV_FILE:?set it}"]
)
def test_env_file_nothing_resolves_is_low_in_staging(tmp_path: Path, env_file: str) -> None:
    result = _scan(tmp_path, {"docker-compose.staging.yml": _compose(env_file)})
    assert _hits(result, "SW-SCAN-001") == []
    [finding] = [f for f in result.active if f.rule_id == "SW-SCAN-011"]
    assert (finding.line, finding.severity) == (4, Severity.LOW)
    assert result.failing(Severity.MEDIUM) == []  # reported, not failing the default build


@pytest.mark.parametrize(
    ("name", "env_file"),
    [
        ("docker-compose.staging.yml", "./config/staging-${REGION}.env"),  # staging's anyway
        ("docker-compose.prod.yml", "${ENV_FILE}"),  # production's own project
        ("docker-compose.staging.yml", "/etc/acme/app.env"),  # the host's file, names nothing
        ("docker-compose.staging.yml", "../shared/app.env"),
    ],
)
def test_env_file_near_misses_are_quiet(tmp_path: Path, name: str, env_file: str) -> None:
    result = _scan(tmp_path / "repo", {name: _compose(env_file)})
    assert [f.rule_id for f in result.active] == []


def test_env_file_absolute_production_path(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"docker-compose.staging.yml": _compose("/etc/acme/prod.env")})
    assert _hits(result, "SW-SCAN-001") == [("docker-compose.staging.yml", 4)]


_MAKEFILE = """\
.PHONY: staging-up
staging-up:
\tdocker compose -f docker-compose.staging.yml --env-file .env.production up -d
staging-logs:
\tdocker compose -f docker-compose.staging.yml --env-file .env.staging logs -f
prod-up:
\tdocker compose -f docker-compose.yml -f docker-compose.prod.yml --env-file .env.production up
staging-restart:
\tdocker compose --env-file=.env.production restart
\t# docker compose -f docker-compose.staging.yml --env-file .env.production up
run-staging:
\tdocker compose run -p 8080:80 --env-file .env.production web
"""


def test_compose_env_file_flag_in_a_makefile(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"Makefile": _MAKEFILE})
    # -f staging compose file (line 3); the staging-restart target's own name (line 9);
    # run's own --env-file loads the file into the staging container (line 12); not the
    # commented line
    assert _hits(result, "SW-SCAN-001") == [("Makefile", 3), ("Makefile", 9), ("Makefile", 12)]


def test_only_global_options_name_the_project() -> None:
    from stagewall.scan.rules._composecmd import parse  # new in round 8 (here: old code runs)

    [command] = parse("docker compose run -p shop-staging:80 --env-file .env.production web", 1)
    assert (command.project, command.files, command.env_files) == (
        "",
        (),
        ((".env.production", 1),),
    )
    # up has no --env-file of its own: nothing is loaded by it
    assert list(parse("docker compose -p shop-staging up --env-file ignored.env -d", 1)) == []


def test_make_variable_after_a_staging_target_is_not_that_target(tmp_path: Path) -> None:
    makefile = (
        "staging-up:\n\t$(COMPOSE) up -d\nCOMPOSE = docker compose --env-file .env.production\n"
    )
    assert _hits(_scan(tmp_path, {"Makefile": makefile}), "SW-SCAN-001") == []


def test_compose_env_file_flag_in_a_script_over_continued_lines(tmp_path: Path) -> None:
    script = (
        "#!/bin/sh\nset -eu\nCOMPOSE_FILE=docker-compose.staging.yml docker compose \\\n"
        "  --env-file ./.env.production \\\n  up -d\n"
        "docker-compose --project-name shop-staging \\\n  --env-file .env.prod up -d\n"
        "docker-compose --project-name shop-prod --env-file .env.prod up -d\n"
    )
    result = _scan(tmp_path, {"bin/up.sh": script})
    assert _hits(result, "SW-SCAN-001") == [("bin/up.sh", 4), ("bin/up.sh", 7)]


def test_compose_env_file_flag_in_package_json_scripts(tmp_path: Path) -> None:
    package = {
        "name": "shop",
        "description": "docker compose -f docker-compose.staging.yml --env-file .env.production",
        "scripts": {
            "stack:up": "docker compose -f docker-compose.staging.yml --env-file .env.production up",
            "stack:staging": "docker compose --env-file .env.production up",
            "stack:prod": "docker compose --env-file .env.production up",
        },
    }
    result = _scan(tmp_path, {"package.json": json.dumps(package, indent=2)})
    assert _hits(result, "SW-SCAN-001") == [("package.json", 5), ("package.json", 6)]


def test_compose_env_file_flag_in_the_staging_job_of_a_mixed_workflow(tmp_path: Path) -> None:
    workflow = (
        "on:\n  push:\n    branches: [main]\njobs:\n  staging:\n    environment: staging\n"
        "    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: docker compose --env-file .env.production up -d\n"
        "  production:\n    needs: staging\n    environment: production\n"
        "    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: stagewall gate check --to production --commit $GITHUB_SHA\n"
        "      - run: docker compose --env-file .env.production up -d\n"
    )
    result = _scan(tmp_path, {".github/workflows/stacks.yml": workflow})
    assert _hits(result, "SW-SCAN-001") == [(".github/workflows/stacks.yml", 9)]


def test_compose_command_in_prose_is_not_a_crossing(tmp_path: Path) -> None:
    line = "docker compose -f docker-compose.staging.yml --env-file .env.production up\n"
    result = _scan(tmp_path, {"README.md": line, "docs/run.sh": line})
    assert _hits(result, "SW-SCAN-001") == []


_DISPATCH = """\
on:
  workflow_dispatch:
    inputs:
      env:
        type: choice
        options: [staging, production]
jobs:
  JOB:
    environment: ENVIRONMENT
    runs-on: ubuntu-latest
    steps:
      - run: ./smoke.sh
        env:
          DB: ${{ INDEX }}
"""


@pytest.mark.parametrize(
    ("environment", "index", "found"),
    [
        ("staging", "secrets[format('{0}_DB_URL', inputs.env)]", True),
        ("staging", "secrets[format('{0}_{1}', inputs.env, 'DB_URL')]", True),
        ("staging", "secrets[github.event.inputs.env]", True),
        ("${{ inputs.env }}", "secrets[format('{0}_DB_URL', inputs.env)]", False),
        ("${{ github.event.inputs.env }}", "secrets[format('KUBECONFIG_{0}', inputs.env)]", False),
        ("staging", "secrets[format('{0}_DB_URL', inputs.other)]", False),  # no such input
        ("staging", "secrets['STAGING_DB_URL']", False),
    ],
)
def test_secret_name_built_from_a_dispatch_input(
    tmp_path: Path, environment: str, index: str, found: bool
) -> None:
    text = _DISPATCH.replace("JOB", "smoke").replace("ENVIRONMENT", environment)
    text = text.replace("INDEX", index)
    result = _scan(tmp_path, {".github/workflows/smoke.yml": text})
    assert _hits(result, "SW-SCAN-015") == ([(".github/workflows/smoke.yml", 9)] if found else [])


def test_secret_name_built_from_a_matrix_and_from_env(tmp_path: Path) -> None:
    workflow = (
        "on: push\njobs:\n  e2e:\n    environment: staging\n    runs-on: ubuntu-latest\n"
        "    strategy:\n      matrix:\n        target: [STAGING, PRODUCTION]\n    steps:\n"
        "      - run: ./e2e.sh\n        env:\n"
        "          T: ${{ secrets[format('E2E_{0}_TOKEN', matrix.target)] }}\n"
        "  report:\n    environment: staging\n    runs-on: ubuntu-latest\n"
        "    env:\n      TARGET: PROD_REPORT_TOKEN\n    steps:\n"
        "      - run: ./report.sh\n        env:\n          T: ${{ secrets[env.TARGET] }}\n"
    )
    result = _scan(tmp_path, {".github/workflows/e2e.yml": workflow})
    assert _hits(result, "SW-SCAN-015") == [
        (".github/workflows/e2e.yml", 4),
        (".github/workflows/e2e.yml", 14),
    ]


def test_matrix_secret_that_follows_the_job_environment_is_quiet(tmp_path: Path) -> None:
    workflow = (
        "on: push\njobs:\n  deploy:\n    environment: ${{ matrix.env }}\n"
        "    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
        "        env: [staging, production]\n    steps:\n"
        "      - run: stagewall gate check --to production --commit $GITHUB_SHA\n"
        "      - run: ./deploy.sh\n        env:\n"
        "          KEY: ${{ secrets[format('{0}_DEPLOY_KEY', matrix.env)] }}\n"
    )
    result = _scan(tmp_path, {".github/workflows/deploy.yml": workflow})
    assert _hits(result, "SW-SCAN-015") == []


def test_built_secret_name_in_a_fork_reachable_job(tmp_path: Path) -> None:
    workflow = (
        "on: pull_request_target\njobs:\n  preview:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n"
        "      - run: npm run preview\n        env:\n"
        "          DB: ${{ secrets[vars.PREVIEW_SECRET] }}\n"
    )
    result = _scan(tmp_path, {".github/workflows/preview.yml": workflow})
    [finding] = [f for f in result.active if f.rule_id == "SW-SCAN-009"]
    assert "secrets[vars.PREVIEW_SECRET]" in finding.message  # unknown name, still a secret


@pytest.mark.parametrize(
    ("script", "environment", "found"),
    [
        ('eval "export DB_PASSWORD=\\$${READ_FROM}_DB_PASSWORD"', "staging", True),
        ('NAME="${READ_FROM}_DB_PASSWORD"; export P="${!NAME}"', "staging", True),
        ("export REF=$${READ_FROM}_DB_PASSWORD", "staging", True),
        ('echo "$PREFIX${READ_FROM}_DB_PASSWORD"', "staging", False),  # two variables
        ('eval "export DB_PASSWORD=\\$${READ_FROM}_DB_PASSWORD"', "$READ_FROM", False),
        ('echo "${READ_FROM}_DB_PASSWORD"', "staging", False),  # a name, not a read
    ],
)
def test_gitlab_variable_name_built_in_a_script(
    tmp_path: Path, script: str, environment: str, found: bool
) -> None:
    pipeline = (
        "verify:\n  stage: test\n"
        f"  environment: {environment}\n"
        "  rules:\n    - if: $CI_COMMIT_BRANCH == 'main'\n      variables:\n"
        "        READ_FROM: PRODUCTION\n    - when: always\n      variables:\n"
        "        READ_FROM: STAGING\n"
        f"  script:\n    - '{script}'\n"
    )
    result = _scan(tmp_path, {".gitlab-ci.yml": pipeline})
    assert _hits(result, "SW-SCAN-015") == ([(".gitlab-ci.yml", 2)] if found else [])
