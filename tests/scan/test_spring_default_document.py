"""A Spring file's default document (no profile) applies to every profile: a
production value in it reaches the non-production profiles the file declares unless
their own document overrides that property after it."""

from __future__ import annotations

from pathlib import Path

from stagewall.scan import Severity
from tests.scan.test_written_forms import _scan

DEFAULT_YAML = """\
spring:
  application:
    name: billing
  datasource:
    url: jdbc:postgresql://pg-main.acme.internal:5432/billing
  redis:
    host: pg-main.acme.internal
---
spring:
  config:
    activate:
      on-profile: staging
  redis:
    host: pg-stg.acme.internal
---
spring:
  config:
    activate:
      on-profile: prod
"""

DEFAULT_PROPERTIES = """\
spring.application.name=billing
spring.datasource.url=jdbc:postgresql://pg-main.acme.internal:5432/billing
#---
spring.config.activate.on-profile=stg
spring.datasource.username=billing_stg
#---
spring.config.activate.on-profile=prod
spring.datasource.username=billing
"""


def test_a_production_value_in_the_default_document_reaches_the_staging_profile(
    tmp_path: Path,
) -> None:
    files = {
        "yml/src/main/resources/application.yml": DEFAULT_YAML,
        "props/src/main/resources/application.properties": DEFAULT_PROPERTIES,
    }
    result = _scan(tmp_path, files)
    crossings = {
        (f.file, f.line, f.severity, f.environment, "default document" in f.environment_reason)
        for f in result.active
        if f.rule_id == "SW-SCAN-001"
    }
    # the datasource URL is inherited; the redis host is overridden by the staging document
    assert crossings == {
        ("yml/src/main/resources/application.yml", 5, Severity.HIGH, "staging", True),
        ("props/src/main/resources/application.properties", 2, Severity.HIGH, "staging", True),
    }


def test_an_override_in_the_profile_document_is_not_a_crossing(tmp_path: Path) -> None:
    text = DEFAULT_YAML.replace(
        "  redis:\n    host: pg-stg.acme.internal\n",
        "  redis:\n    host: pg-stg.acme.internal\n  data-source:\n"
        "    URL: jdbc:postgresql://pg-stg.acme.internal:5432/billing\n",
    )
    result = _scan(tmp_path, {"svc/application.yml": text})
    assert [f for f in result.active if f.rule_id == "SW-SCAN-001"] == []


def test_an_override_before_the_default_document_does_not_count(tmp_path: Path) -> None:
    # Spring Boot 2.4+ processes the documents in order: a staging document written
    # before the default one is overridden by it
    text = (
        "spring.config.activate.on-profile: staging\n"
        "spring.datasource.url: jdbc:postgresql://pg-stg.acme.internal/billing\n"
        "---\n"
        "spring.datasource.url: jdbc:postgresql://pg-main.acme.internal/billing\n"
    )
    result = _scan(tmp_path, {"svc/application.yml": text})
    found = [f for f in result.active if f.rule_id == "SW-SCAN-001"]
    assert [(f.line, f.environment) for f in found] == [(4, "staging")]
    # ... but a legacy ``spring.profiles`` document always wins over the default
    legacy = text.replace("spring.config.activate.on-profile", "spring.profiles")
    result = _scan(tmp_path / "legacy", {"svc/application.yml": legacy})
    assert [f for f in result.active if f.rule_id == "SW-SCAN-001"] == []


def test_a_not_prod_document_overrides_for_every_non_production_profile(tmp_path: Path) -> None:
    text = (
        "spring.datasource.url: jdbc:postgresql://pg-main.acme.internal/billing\n"
        "---\n"
        "spring.config.activate.on-profile: staging\n"
        "spring.jpa.open-in-view: false\n"
        "---\n"
        'spring.config.activate.on-profile: "!prod"\n'
        "spring.datasource.url: jdbc:postgresql://pg-stg.acme.internal/billing\n"
    )
    result = _scan(tmp_path, {"svc/application.yml": text})
    assert [f for f in result.active if f.rule_id == "SW-SCAN-001"] == []


def test_a_file_with_only_production_profiles_reports_nothing(tmp_path: Path) -> None:
    text = (
        "spring.datasource.url: jdbc:postgresql://pg-main.acme.internal/billing\n"
        "---\n"
        "spring.config.activate.on-profile: prod\n"
        "spring.jpa.open-in-view: false\n"
    )
    result = _scan(tmp_path, {"svc/application.yml": text})
    assert [f for f in result.active if f.rule_id == "SW-SCAN-001"] == []
