"""Red-team round 3: crossings in the forms people write them (base64 Secrets, encoded
URLs, per-environment sections, Ansible INI inventories, settings modules, reusable
workflows) are found; examples, fixtures, lockfiles and README placeholders are not
findings."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from stagewall.estate import parse_estate
from stagewall.scan import Severity, scan_paths

ESTATE = """\
version: 1
environments:
  production: {tier: production, aliases: [prod]}
  staging: {tier: non-production, aliases: [stg]}
resources:
  main-db:
    environment: production
    kind: postgresql
    host: pg-main.acme.internal
  stg-db:
    environment: staging
    kind: postgresql
    host: pg-stg.acme.internal
"""


def _scan(root: Path, files: dict[str, str], *, estate: bool = True):  # type: ignore[no-untyped-def]
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return scan_paths([root], parse_estate(ESTATE, "stagewall.yaml").estate if estate else None)


def _hits(result, rule: str) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return sorted((f.file, f.line) for f in result.active if f.rule_id == rule)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_kubernetes_secret_data_is_read_decoded(tmp_path: Path) -> None:
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop-staging\n"
        "type: Opaque\ndata:\n"
        f"  DATABASE_URL: {_b64('postgresql://app@pg-main.acme.internal:5432/shop')}\n"
        f"  DB_HOST: {_b64('pg-stg.acme.internal')}\n"
        "  BROKEN: '!!not base64!!'\n"
        f"  BINARY: {base64.b64encode(bytes(range(256))).decode()}\n"
    )
    result = _scan(tmp_path, {"k8s/secret.yaml": secret})
    found = [f for f in result.active if f.rule_id == "SW-SCAN-001"]
    assert [(f.file, f.line, f.severity) for f in found] == [("k8s/secret.yaml", 8, Severity.HIGH)]
    assert "data.DATABASE_URL: pg-main.acme.internal" in found[0].evidence
    assert all(f.rule_id != "SW-SCAN-012" for f in result.active)


def test_a_secret_data_value_is_only_decoded_in_a_secret(tmp_path: Path) -> None:
    # a ConfigMap's data is plain text; its base64-looking values are not decoded
    config = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n  namespace: shop-staging\n"
        f"data:\n  BLOB: {_b64('pg-main.acme.internal')}\n"
    )
    assert _hits(_scan(tmp_path, {"k8s/cm.yaml": config}), "SW-SCAN-001") == []


@pytest.mark.parametrize(
    "value",
    [
        "postgresql://app@pg-main%2Eacme%2Einternal:5432/shop",
        "postgresql://app@%70g-main.acme.internal/shop",
        "https://proxy.stg.acme.io/connect?to=postgres%3A%2F%2Fapp%40pg-main.acme.internal%2Fshop",
        "https://proxy.stg.acme.io/connect?to=postgres://app@pg-main.acme.internal/shop",
    ],
)
def test_percent_encoded_hosts_are_references(tmp_path: Path, value: str) -> None:
    result = _scan(tmp_path, {".env.staging": f"DATABASE_URL={value}\n"})
    assert _hits(result, "SW-SCAN-001") == [(".env.staging", 1)]


RAILS = """\
default: &default
  adapter: postgresql
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>

production: &production
  <<: *default
  host: pg-main.acme.internal

staging:
  <<: *production
  database: shop_staging

development:
  <<: *default
  host: localhost
"""


def test_a_staging_section_of_a_shared_file_is_staging(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"config/database.yml": RAILS})
    found = [f for f in result.active if f.rule_id == "SW-SCAN-001"]
    assert [(f.file, f.line) for f in found] == [("config/database.yml", 10)]
    assert found[0].environment == "staging"
    assert "section staging:" in found[0].environment_reason
    assert "staging.host" in found[0].evidence


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        (
            "config/settings.toml",
            '[production]\nhost = "pg-main.acme.internal"\n\n'
            '[staging]\nhost = "pg-main.acme.internal"\n',
            5,
        ),
        (
            "config/app.ini",
            "[production]\nhost = pg-main.acme.internal\n[stg]\nhost = pg-main.acme.internal\n",
            4,
        ),
        (
            "config/app.json",
            '{"production": {"host": "pg-main.acme.internal"},\n'
            ' "staging": {"host": "pg-stg.acme.internal",\n'
            '             "replica": "pg-main.acme.internal"}}\n',
            3,
        ),
    ],
)
def test_sections_in_other_formats(tmp_path: Path, name: str, text: str, line: int) -> None:
    assert _hits(_scan(tmp_path, {name: text}), "SW-SCAN-001") == [(name, line)]


def test_sections_do_not_apply_to_a_file_the_path_attributes(tmp_path: Path) -> None:
    # a staging file is staging throughout; a production section in a production file
    # is production (no finding), and a key that merely names an environment is no section
    result = _scan(
        tmp_path,
        {
            "envs/prod/app.yaml": "staging:\n  enabled: false\nhost: pg-main.acme.internal\n",
            "config/flags.yaml": "staging: pg-main.acme.internal\n",
        },
    )
    assert _hits(result, "SW-SCAN-001") == []


INVENTORY = """\
[web]
web-1.stg.acme.internal
web-2.stg.acme.internal ansible_port=2222 ansible_ssh_common_args='-o ProxyJump="bastion"'

[db]
pg-main.acme.internal ansible_user=deploy

[db:vars]
backup_host=pg-main.acme.internal

[staging:children]
web
db
"""


def test_ansible_ini_inventory_is_read(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"inventories/staging/hosts.ini": INVENTORY})
    assert _hits(result, "SW-SCAN-012") == []
    assert _hits(result, "SW-SCAN-001") == [
        ("inventories/staging/hosts.ini", 6),
        ("inventories/staging/hosts.ini", 9),
    ]


def test_an_ini_file_that_is_no_inventory_is_still_a_parse_error(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"envs/staging/app.ini": "key = value\n[broken\n"})
    assert _hits(result, "SW-SCAN-012") == [("envs/staging/app.ini", 1)]


SETTINGS = """\
from .base import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "pg-main.acme.internal",
        # "HOST": "pg-main.acme.internal",
        "NAME": "checkout",
    }
}
REPLICA_HOST = os.environ.get("REPLICA_HOST", "pg-main.acme.internal")
"""


def test_settings_modules_are_attributed_and_their_host_literals_read(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "checkout/settings/staging.py": SETTINGS,
            "checkout/config/environments/staging.rb": (
                'Rails.application.configure do\n  config.x.db_host = "pg-main.acme.internal"\nend\n'
            ),
            # a program that is not a settings module, and is not attributed
            "checkout/app/client.py": 'HOST = "pg-main.acme.internal"\n',
            "checkout/app/staging.py": 'def run():\n    connect("pg-main.acme.internal")\n',
        },
    )
    assert _hits(result, "SW-SCAN-001") == [
        ("checkout/config/environments/staging.rb", 2),
        ("checkout/settings/staging.py", 6),
        ("checkout/settings/staging.py", 11),
    ]


RELEASE = """\
on:
  push:
    tags: ["v*"]
jobs:
  production:
    uses: ./.github/workflows/_deploy.yml
    with:
      environment: production
    secrets: inherit
  staging:
    uses: ./.github/workflows/_deploy.yml
    with:
      environment: staging
"""

REUSABLE = """\
on:
  workflow_call:
    inputs:
      environment:
        type: string
        required: true
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: ${{ inputs.environment }}
    steps:
      - run: ./deploy.sh
"""

GATED = REUSABLE.replace(
    "      - run: ./deploy.sh\n",
    "      - run: stagewall gate check --to ${{ inputs.environment }} --commit $GITHUB_SHA\n"
    "      - run: ./deploy.sh\n",
)


def test_a_production_deploy_through_a_reusable_workflow_needs_a_gate(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {".github/workflows/release.yml": RELEASE, ".github/workflows/_deploy.yml": REUSABLE},
    )
    found = [f for f in result.active if f.rule_id == "SW-SCAN-008"]
    assert [(f.file, f.line) for f in found] == [(".github/workflows/release.yml", 6)]
    assert "_deploy.yml" in found[0].message


def test_a_gate_in_the_reusable_workflow_counts(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {".github/workflows/release.yml": RELEASE, ".github/workflows/_deploy.yml": GATED},
    )
    assert _hits(result, "SW-SCAN-008") == []


def test_a_reusable_workflow_that_is_not_in_the_tree_is_not_guessed(tmp_path: Path) -> None:
    result = _scan(tmp_path, {".github/workflows/release.yml": RELEASE})
    # the called file is not there: the caller's production job is still ungated as far
    # as anything the scanner can read shows
    assert _hits(result, "SW-SCAN-008") == [(".github/workflows/release.yml", 6)]


def test_examples_fixtures_and_templates_are_not_environments(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "docs/examples/staging.env": "DATABASE_URL=postgres://app@pg-main.acme.internal/s\n",
            "tests/fixtures/staging.env": "DATABASE_URL=postgres://app@pg-main.acme.internal/s\n",
            "pkg/testdata/envs/staging/app.yaml": "db: pg-main.acme.internal\n",
            "examples/overlays/staging/cm.yaml": "db: pg-main.acme.internal\n",
            ".env.staging.sample": "DATABASE_URL=postgres://app@pg-main.acme.internal/s\n",
            "config/staging.yml.example": "db: pg-main.acme.internal\n",
            # a real staging file next to them is still read
            "envs/staging/app.env": "DATABASE_URL=postgres://app@pg-main.acme.internal/s\n",
            # and a secret in a fixture is still a secret
            "tests/fixtures/keys.env": "AWS_ACCESS_KEY_ID=AKIAQ3EGRTWEXAMPLE7Z\n",
        },
    )
    assert _hits(result, "SW-SCAN-001") == [("envs/staging/app.env", 1)]
    assert _hits(result, "SW-SCAN-004") == [("tests/fixtures/keys.env", 1)]
    example = next(f for f in result.findings if f.file == "tests/fixtures/keys.env")
    assert "example" in example.environment_reason


def test_an_estate_glob_wins_over_the_example_convention(tmp_path: Path) -> None:
    estate = ESTATE.replace(
        "staging: {tier: non-production, aliases: [stg]}",
        'staging: {tier: non-production, aliases: [stg], paths: ["deploy/examples/**"]}',
    )
    path = tmp_path / "deploy/examples/app.env"
    path.parent.mkdir(parents=True)
    path.write_text("DATABASE_URL=postgres://app@pg-main.acme.internal/s\n")
    result = scan_paths([tmp_path], parse_estate(estate, "stagewall.yaml").estate)
    assert _hits(result, "SW-SCAN-001") == [("deploy/examples/app.env", 1)]


LOCKS = {
    "web/yarn.lock": (
        'left-pad@^1.3.0:\n  version "1.3.0"\n'
        '  resolved "http://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz#5b8a3a77"\n'
        "  integrity sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQ9FyIQG5/K+ye4KGsSmIbR==\n"
    ),
    "web/package-lock.json": (
        '{"packages": {"node_modules/prod-db": {"resolved": '
        '"http://registry.npmjs.org/prod-db/-/prod-db-1.0.0.tgz"}}}\n'
    ),
    "api/poetry.lock": (
        '[[package]]\nname = "prod-tools"\nsource = {type = "legacy", url = '
        '"http://pypi.stg.acme.internal/simple"}\n'
    ),
    "infra/.terraform.lock.hcl": (
        'provider "registry.terraform.io/hashicorp/aws" {\n  version = "5.0.0"\n'
        '  hashes = ["h1:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cQ="]\n}\n'
    ),
}


def test_lockfiles_are_not_configuration(tmp_path: Path) -> None:
    files = dict(LOCKS)
    # a real credential in a lockfile is still a secret
    files["api/Pipfile.lock"] = (
        '{"_meta": {"sources": [{"url": "https://u:ghp_' + "a1B2" * 9 + '@pypi.acme.io"}]}}\n'
    )
    result = _scan(tmp_path, files)
    assert sorted((f.rule_id, f.file) for f in result.active) == [
        ("SW-SCAN-004", "api/Pipfile.lock"),
        ("SW-SCAN-004", "api/Pipfile.lock"),
    ]


def test_readme_placeholder_urls_are_not_secrets(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "README.md": (
                "    DATABASE_URL=postgres://app:s3cretpass@db.prod.example.com:5432/shop\n"
                "    redis://:hunter22x@cache.prod.example.org:6379\n"
                "    amqp://svc:Pa55word!@mq.test/\n"
                # a real host in the docs: that is a leaked password
                "    postgres://app:Xk9f2LpQ7v@pg-main.acme.internal/shop\n"
            ),
            # outside the docs a documentation host makes no password production
            "envs/dev/app.env": "DATABASE_URL=postgres://app:s3cretpass@db.prod.example.com/s\n",
        },
    )
    found = sorted(
        (f.file, f.line, f.severity) for f in result.active if f.rule_id == "SW-SCAN-004"
    )
    assert found == [
        ("README.md", 4, Severity.HIGH),
        ("envs/dev/app.env", 1, Severity.MEDIUM),
    ]


GITLAB_RULES = """\
deploy:
  stage: deploy
  script:
    - helm upgrade --install shop ./chart
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      variables:
        DEPLOY_TO: production
    - if: $CI_COMMIT_BRANCH == "develop"
      variables:
        DEPLOY_TO: staging
  environment:
    name: $DEPLOY_TO
review:
  stage: deploy
  variables:
    TARGET: staging
  script:
    - ./deploy.sh
  environment:
    name: ${TARGET}/review
"""


def test_a_gitlab_environment_named_by_a_variable_is_expanded(tmp_path: Path) -> None:
    result = _scan(tmp_path, {".gitlab-ci.yml": GITLAB_RULES})
    found = [f for f in result.active if f.rule_id == "SW-SCAN-008"]
    assert [(f.file, f.line) for f in found] == [(".gitlab-ci.yml", 2)]
    assert "DEPLOY_TO=production" in found[0].environment_reason


STATE = """\
terraform {
  backend "s3" {
    bucket = "acme-tfstate"
    key    = "prod/app.tfstate"
  }
}
data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "acme-tfstate"
    key    = "prod/network.tfstate"
  }
}
data "terraform_remote_state" "dns" {
  backend = "remote"
  config = {
    organization = "acme"
    workspaces = { name = "dns-staging" }
  }
}
"""


def test_staging_terraform_on_production_state(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "envs/staging/main.tf": STATE,
            # production reading its own state is no crossing
            "envs/prod/main.tf": STATE.replace("dns-staging", "dns-prod"),
        },
    )
    found = [f for f in result.active if f.rule_id == "SW-SCAN-001"]
    assert [(f.file, f.line, f.severity) for f in found] == [
        ("envs/staging/main.tf", 4, Severity.MEDIUM),
        ("envs/staging/main.tf", 11, Severity.MEDIUM),
    ]
    assert "production state" in found[1].message


def test_more_noise_seen_on_public_repositories(tmp_path: Path) -> None:
    """Seen scanning ansible/ansible-examples, getsentry/self-hosted and
    cookiecutter/cookiecutter-django: example copies named ``config.example.yml``,
    Nagios ``.cfg`` object files and cookiecutter template trees were findings."""
    result = _scan(
        tmp_path,
        {
            # a copy-me file in the middle of a real tree, named as an example
            "staging/config.example.yml": "db: pg-main.acme.internal\n",
            "settings/sentry.conf.example.py": 'DB = "pg-main.acme.internal"\n',
            # Nagios object definitions: not INI, not an error
            "roles/nagios/files/localhost.cfg": "define host {\n  host_name localhost\n}\n",
            # a cookiecutter template tree: not valid YAML/TOML until rendered
            "{{cookiecutter.slug}}/pyproject.toml": '[project]\n{% if x %}name = "a"{% endif %}\n',
            "{{cookiecutter.slug}}/compose.docs.yml": "services:\n  {{ name }}:\n   - bad: [\n",
        },
    )
    assert sorted((f.rule_id, f.file) for f in result.active) == []


def test_a_real_unencrypted_connection_and_a_real_ini_error_are_still_reported(
    tmp_path: Path,
) -> None:
    result = _scan(
        tmp_path,
        {
            "envs/staging/proxy.yml": "http_proxy: http://proxy.stg.acme.internal:8080\n",
            "envs/staging/setup.cfg": "[metadata\nname = x\n",
        },
    )
    assert sorted((f.rule_id, f.file) for f in result.active) == [
        ("SW-SCAN-005", "envs/staging/proxy.yml"),
        ("SW-SCAN-012", "envs/staging/setup.cfg"),
    ]


def test_environment_blocks_one_level_down_are_sections(tmp_path: Path) -> None:
    # helmfile / serverless style: environments: {staging: ..., production: ...}
    helmfile = (
        "environments:\n"
        "  production:\n    values:\n      - db: pg-main.acme.internal\n"
        "  staging:\n    values:\n      - db: pg-main.acme.internal\n"
        "releases:\n  - name: shop\n    chart: ./chart\n"
    )
    result = _scan(tmp_path, {"helmfile.yaml": helmfile})
    assert _hits(result, "SW-SCAN-001") == [("helmfile.yaml", 7)]


def test_a_namespaced_manifest_under_examples_is_still_judged(tmp_path: Path) -> None:
    # kustomize and Argo CD apply manifests from any directory: an examples/ path does
    # not make a manifest that lands in a staging namespace harmless
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n  namespace: shop-staging\n"
        "data:\n  DB_HOST: pg-main.acme.internal\n"
    )
    result = _scan(tmp_path, {"deploy/examples/db.yaml": manifest})
    assert _hits(result, "SW-SCAN-001") == [("deploy/examples/db.yaml", 7)]
