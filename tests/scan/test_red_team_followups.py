"""What the round-3 red team left open: Spring profile documents, placeholder hosts
in examples and docs, password hashes in fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.scan import Severity
from tests.scan.test_written_forms import _hits, _scan

SPRING_YAML = """\
spring:
  application:
    name: billing
---
spring:
  config:
    activate:
      on-profile: staging
  datasource:
    url: jdbc:postgresql://pg-main.acme.internal:5432/billing
---
spring.profiles: prod
spring.datasource.url: jdbc:postgresql://pg-main.acme.internal:5432/billing
---
spring.config.activate.on-profile: "!prod"
spring.datasource.url: jdbc:postgresql://pg-main.acme.internal:5432/billing
"""

SPRING_PROPERTIES = """\
spring.application.name=billing
#---
spring.config.activate.on-profile=stg
spring.datasource.url=jdbc:postgresql://pg-main.acme.internal:5432/billing
#---
spring.config.activate.on-profile=prod
spring.datasource.url=jdbc:postgresql://pg-main.acme.internal:5432/billing
"""


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [("application.yml", SPRING_YAML, 10), ("application.properties", SPRING_PROPERTIES, 4)],
)
def test_a_staging_spring_profile_document_reaching_production_is_reported(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    rel = f"billing/src/main/resources/{name}"
    result = _scan(tmp_path, {rel: text})
    found = [f for f in result.active if f.rule_id == "SW-SCAN-001"]
    assert [(f.file, f.line, f.severity) for f in found] == [(rel, line, Severity.HIGH)]
    assert found[0].environment == "staging"
    assert "Spring profile document" in found[0].environment_reason
    # the production document does not make the file production (it holds every profile)
    assert {f.environment for f in result.active if f.line != line} <= {"unknown"}


def test_spring_profile_files_and_single_profile_files(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            # the production document alone: no crossing, and the file is not production
            "a/application.yml": SPRING_YAML.split("---\n", 2)[0]
            + "---\n"
            + (
                "spring.profiles: prod\n"
                "spring.datasource.url: jdbc:postgresql://pg-main.acme.internal/billing\n"
                "spring.redis.url: redis://cache.acme.internal:6379\n"
            ),
            # application-<profile>.yml is that profile's file
            "b/application-staging.yml": (
                "spring.datasource.url: jdbc:postgresql://pg-main.acme.internal/billing\n"
            ),
        },
    )
    assert _hits(result, "SW-SCAN-001") == [("b/application-staging.yml", 1)]
    redis = [f for f in result.active if f.rule_id == "SW-SCAN-005"]
    assert [(f.file, f.environment, f.severity) for f in redis] == [
        ("a/application.yml", "unknown", Severity.MEDIUM)
    ]


PLACEHOLDER_URLS = """\
API_URL=http://api.example.com/v1
WEBHOOK=http://hooks.example.org/in
MIRROR=http://example.net/
CALLBACK=http://shop.example/cb
BROKER=amqp://mq.test:5672
NOWHERE=http://host.invalid/
REAL=http://api.acme-partner.io/v1
"""


def test_placeholder_hosts_in_examples_and_docs_are_not_connections(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "docs/examples/staging.env": PLACEHOLDER_URLS,
            "deploy/.env.production.example": PLACEHOLDER_URLS,
            "tests/fixtures/app.env": PLACEHOLDER_URLS,
            # configuration that is deployed: a reserved name there is still reported
            "deploy/app.env": PLACEHOLDER_URLS,
        },
    )
    assert _hits(result, "SW-SCAN-005") == [
        ("deploy/.env.production.example", 7),
        ("deploy/app.env", 1),
        ("deploy/app.env", 2),
        ("deploy/app.env", 3),
        ("deploy/app.env", 4),
        ("deploy/app.env", 5),
        ("deploy/app.env", 6),
        ("deploy/app.env", 7),
        ("docs/examples/staging.env", 7),
        ("tests/fixtures/app.env", 7),
    ]


PBKDF2 = "pbkdf2_sha256$600000$Qm9Xc2FsdHNhbHQ$Yk3Vq8tP2nZr7LwXh5Jc9sFg1DmRb4KeTy6Ua0NoWiE="
ARGON2 = "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHRzYWx0$Hq7Lm2Xr9TbKw4ZpVn8JcA"
BCRYPT = "bcrypt_sha256$$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
FIXTURE = f"""\
[
  {{"model": "auth.user", "pk": 1, "fields": {{
    "username": "admin",
    "password": "{PBKDF2}"
  }}}},
  {{"model": "auth.user", "pk": 2, "fields": {{
    "username": "alice",
    "password": "{ARGON2}"
  }}}},
  {{"model": "auth.user", "pk": 3, "fields": {{
    "username": "bob",
    "password": "{BCRYPT}"
  }}}},
  {{"model": "shop.apiclient", "pk": 1, "fields": {{"api_token": "9fQ2xLr7TzK1mW8pVb3N"}}}}
]
"""


def test_password_hashes_in_fixtures_are_not_credentials(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "shop/fixtures/users.json": FIXTURE,
            # outside fixtures a hash is still reported as before: low, high in production
            "deploy/admin.env": f"ADMIN_PASSWORD={PBKDF2}\n",
            "envs/prod/admin.env": f"ADMIN_PASSWORD={PBKDF2}\n",
        },
    )
    found = sorted(
        (f.file, f.line, f.severity) for f in result.active if f.rule_id == "SW-SCAN-004"
    )
    assert found == [
        ("deploy/admin.env", 1, Severity.LOW),
        ("envs/prod/admin.env", 1, Severity.HIGH),
        # a plaintext token in a fixture is still a secret
        ("shop/fixtures/users.json", 14, Severity.LOW),
    ]
