"""Round 9: env files a compose command reads through a variable, and secret names any
expression builds.

Recall: ``--env-file "$ENV_FILE"`` (a shell, Make or CI variable set in the same file),
``COMPOSE_ENV_FILES`` (a prefix, ``export``, a CI ``env:``), the ``.env`` of
``--project-directory``/``COMPOSE_PROJECT_DIRECTORY``; GitHub ``secrets[...]`` built with
``join``/``fromJSON``/``&&``-``||`` and other functions. Precision: a variable assigned
after its use, in another step's shell, as a prefix of the same command, or only with a
default (``${X:-...}``); an unexported variable compose cannot see; a ``--env-file`` that
replaces the project directory's ``.env``; a name that follows the job's environment; a
computed name that is static and staging's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.test_red_team_round8 import _DISPATCH
from tests.scan.test_written_forms import _hits, _scan

_UP = "docker compose -f docker-compose.staging.yml --env-file {ref} up -d\n"


@pytest.mark.parametrize(
    ("script", "found"),
    [
        ("ENV_FILE=.env.production\n" + _UP.format(ref='"$ENV_FILE"'), True),
        ("export ENV_FILE='.env.production'\n" + _UP.format(ref="${ENV_FILE}"), True),
        ("if true; then ENV_FILE=.env.production; fi\n" + _UP.format(ref="$ENV_FILE"), True),
        ("ENV=production\n" + _UP.format(ref=".env.${ENV}"), True),
        ("export ENV_FILE=.env.production && " + _UP.format(ref="$ENV_FILE"), True),
        ("cd app; ENV_FILE=.env.production; " + _UP.format(ref="$ENV_FILE"), True),
        # assigned after the command, a prefix of the command itself, a default only
        (_UP.format(ref="$ENV_FILE") + "ENV_FILE=.env.production\n", False),
        ("ENV_FILE=.env.production " + _UP.format(ref="$ENV_FILE"), False),
        (_UP.format(ref="$ENV_FILE").rstrip() + "; ENV_FILE=.env.production\n", False),
        ("true\n" + _UP.format(ref='"${ENV_FILE:-.env.production}"'), False),
        ("ENV_FILE=$(ls .env.*)\n" + _UP.format(ref="$ENV_FILE"), False),
        ("ENV_FILE=.env.staging\n" + _UP.format(ref="$ENV_FILE"), False),
    ],
)
def test_env_file_from_a_shell_variable(tmp_path: Path, script: str, found: bool) -> None:
    result = _scan(tmp_path, {"bin/up.sh": "#!/bin/sh\n" + script})
    hits = _hits(result, "SW-SCAN-001")
    assert hits == ([("bin/up.sh", script.splitlines().index(_line(script)) + 2)] if found else [])


def _line(script: str) -> str:
    return next(line for line in script.splitlines() if "docker compose" in line)


def test_make_variable_and_shell_variable_of_a_recipe(tmp_path: Path) -> None:
    makefile = (
        "ENV_FILE ?= .env.production\nexport COMPOSE_ENV_FILES := .env.production\n"
        "staging-up:\n\tdocker compose -f docker-compose.staging.yml --env-file $(ENV_FILE) up\n"
        "staging-shell:\n\tdocker compose -f docker-compose.staging.yml --env-file $$ENV_FILE up\n"
        "staging-env:\n\tdocker compose -p shop-staging up\n"
    )
    result = _scan(tmp_path, {"Makefile": makefile})
    # $$ENV_FILE is the recipe shell's own variable, not make's: unknown
    assert _hits(result, "SW-SCAN-001") == [("Makefile", 4), ("Makefile", 8)]


def test_compose_env_files_needs_to_reach_compose(tmp_path: Path) -> None:
    script = (
        "#!/bin/sh\nCOMPOSE_ENV_FILES=.env.production\ndocker compose -p shop-staging up\n"
        "export COMPOSE_ENV_FILES\ndocker compose -p shop-staging up\n"
        "docker compose -p shop-staging --env-file .env.staging up\n"
    )
    result = _scan(tmp_path, {"bin/up.sh": script})
    # unexported (line 3): compose does not see it; a --env-file replaces it (line 6)
    assert _hits(result, "SW-SCAN-001") == [("bin/up.sh", 5)]


def test_project_directory_env(tmp_path: Path) -> None:
    script = (
        "#!/bin/sh\n"
        "docker compose -p shop-staging --project-directory ../envs/prod up\n"
        "COMPOSE_ENV_FILES=../envs/staging/.env docker compose -p shop-staging "
        "--project-directory ../envs/prod up\n"
        "docker compose -p shop-prod --project-directory ../envs/prod up\n"
    )
    result = _scan(tmp_path, {"bin/up.sh": script})
    [finding] = [f for f in result.active if f.rule_id == "SW-SCAN-001"]
    assert (finding.file, finding.line) == ("bin/up.sh", 2)
    assert "--project-directory ../envs/prod, whose .env is ../envs/prod/.env" in finding.message


_STEPS = """\
on: push
jobs:
  stack:
    environment: staging
    runs-on: ubuntu-latest
    steps:
      - run: export ENV_FILE=.env.production
      - run: docker compose -f docker-compose.staging.yml --env-file "$ENV_FILE" up
      - run: |
          ENV_FILE=.env.production
          docker compose -f docker-compose.staging.yml --env-file "$ENV_FILE" up
      - run: docker compose -f docker-compose.staging.yml up
        env:
          COMPOSE_ENV_FILES: .env.production
"""


def test_github_steps_are_separate_shells(tmp_path: Path) -> None:
    result = _scan(tmp_path, {".github/workflows/stack.yml": _STEPS})
    # line 8: the export was in another step's shell; line 11: a block scalar's line
    assert _hits(result, "SW-SCAN-001") == [
        (".github/workflows/stack.yml", 11),
        (".github/workflows/stack.yml", 12),
    ]


def test_gitlab_script_items_share_a_shell(tmp_path: Path) -> None:
    pipeline = (
        "up:staging:\n  environment: staging\n  script:\n"
        "    - export ENV_FILE=.env.production\n"
        '    - docker compose -p shop-staging --env-file "$ENV_FILE" up -d\n'
        "up:production:\n  environment: production\n  variables:\n"
        "    COMPOSE_ENV_FILES: .env.production\n  script:\n    - docker compose up -d\n"
    )
    result = _scan(tmp_path, {".gitlab-ci.yml": pipeline})
    assert _hits(result, "SW-SCAN-001") == [(".gitlab-ci.yml", 5)]


def test_a_file_named_after_compose_is_not_a_command(tmp_path: Path) -> None:
    script = (
        "#!/bin/sh\nexport COMPOSE_ENV_FILES=.env.production\ncat docker-compose.yml\n"
        "/usr/local/bin/docker-compose -f docker-compose.yml up\n"
    )
    result = _scan(tmp_path, {"scripts/staging/show.sh": script})
    assert _hits(result, "SW-SCAN-001") == [("scripts/staging/show.sh", 4)]


def _values(expr: str, refs: dict[str, list[str]] | None = None) -> list[object]:
    from stagewall.scan.rules._expressions import UNKNOWN, Parser, evaluate_with  # round 9

    values = refs or {}
    found = evaluate_with(Parser(expr).parse(), lambda r: [(v, r) for v in values.get(r, [])])
    return [v if v is not UNKNOWN else "UNKNOWN" for v in dict.fromkeys(v for v, _ in found)]


@pytest.mark.parametrize(
    ("expr", "refs", "values"),
    [
        ("join(fromJSON('[\"PROD\", \"DB\"]'), '_')", None, ["PROD_DB"]),
        ("join(fromJSON('[\"A\", 1, true]'))", None, ["A,1,true"]),
        ("format('{0}_{{x}}', toUpper(inputs.env))", {"inputs.env": ["prod"]}, ["PROD_{x}"]),
        ("fromJSON(matrix.t)", {"matrix.t": ['"X"', "[1", "{}"]}, ["X", "UNKNOWN"]),
        ("a == 'P' && 'PROD_X' || 'STG_X'", {"a": ["p", "s"]}, ["PROD_X", "STG_X"]),
        ("vars.x == 'P' && 'PROD_X' || 'STG_X'", None, ["PROD_X", "STG_X"]),
        ("!(a != 'x')", {"a": ["x"]}, [True]),
        ("contains(a, 'RO') && a", {"a": ["PROD", "STAGE"]}, ["PROD", False]),
        ("vars.secret_name", None, ["UNKNOWN"]),
    ],
)
def test_expression_values(
    expr: str, refs: dict[str, list[str]] | None, values: list[object]
) -> None:
    assert _values(expr, refs) == values


@pytest.mark.parametrize("expr", ["format(", "'a' 'b'", "a[0]", "a +", ")"])
def test_unreadable_expression_is_refused(expr: str) -> None:
    from stagewall.scan.rules._expressions import Parser  # round 9

    with pytest.raises(ValueError):
        Parser(expr).parse()


@pytest.mark.parametrize(
    ("environment", "index", "found"),
    [
        ("staging", "secrets[format('{0}_DB_URL', toUpper(inputs.env))]", True),
        ("staging", "secrets[join(fromJSON('[\"PROD\",\"DB_URL\"]'), '_')]", True),
        ("staging", "secrets[vars.WHICH == 'p' && 'PROD_DB_URL' || 'STAGING_DB_URL']", True),
        ("${{ inputs.env }}", "secrets[format('{0}_DB_URL', toUpper(inputs.env))]", False),
        ("staging", "secrets[join(fromJSON('[\"STAGING\",\"DB_URL\"]'), '_')]", False),
        ("staging", "secrets[hashFiles('prod/**')]", False),
        ("staging", "secrets[format('{0}_DB_URL', vars.ENV)]", False),
    ],
)
def test_built_secret_names(tmp_path: Path, environment: str, index: str, found: bool) -> None:
    text = _DISPATCH.replace("JOB", "read").replace("ENVIRONMENT", environment)
    result = _scan(tmp_path, {".github/workflows/read.yml": text.replace("INDEX", index)})
    assert _hits(result, "SW-SCAN-015") == ([(".github/workflows/read.yml", 9)] if found else [])
