"""Production images in non-production deployments: an image from a registry (or a
repository prefix of one) the estate declares as production, or carrying a tag that
production's declared ``image_tags`` convention says only production builds carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.errors import ConfigError
from stagewall.estate import parse_estate
from stagewall.scan import Severity, scan_paths

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ESTATE = f"""\
version: 1
environments:
  production: {{tier: production, aliases: [prod], image_tags: [prod, "prod-*", "v*-release"]}}
  staging: {{tier: non-production, aliases: [stg], image_tags: [staging, "*-rc"]}}
resources:
  images-prod: {{environment: production, kind: registry, identifiers: ["{ECR}/shop-prod"]}}
  images-staging: {{environment: staging, kind: registry, identifiers: ["{ECR}/shop-staging"]}}
  registry-live: {{environment: production, kind: registry, identifiers: [cr.acme-live.io]}}
"""

K8S = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop-staging}}
spec:
  template:
    spec:
      containers:
        - name: api
          image: {ECR}/shop-prod/api:1.4.2
        - name: sidecar
          image: {ECR}/shop-staging/envoy:1.30
        - name: tagged
          image: {ECR}/shop-staging/worker:prod@sha256:0123456789abcdef
        - name: other
          image: cr.acme-live.io/tools/migrate:2
        - name: prefix-lookalike
          image: {ECR}/shop-production/api:1.4.2
"""

COMPOSE = """\
services:
  api: {image: "acme/api:v2.1-release"}
  web: {image: "acme/web:staging"}
  both: {image: "acme/both:prod-rc"}
  hub: {image: "nginx:1.27"}
  templated: {image: "acme/api:${TAG:-latest}"}
"""

HELM = f"""\
image:
  repository: {ECR}/shop-prod/checkout
  tag: "3.1"
worker:
  image:
    repository: {ECR}/shop-staging/worker
    tag: prod-2026.11
"""

GITLAB = """\
deploy:
  stage: deploy
  environment: staging
  image:
    name: acme/deployer:prod
  script: [./deploy.sh]
"""


def _scan(root: Path, files: dict[str, str], estate: str | None = ESTATE):  # type: ignore[no-untyped-def]
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return scan_paths([root], parse_estate(estate, "stagewall.yaml").estate if estate else None)


def _crossings(result) -> list[tuple[str, int, Severity]]:  # type: ignore[no-untyped-def]
    return sorted((f.file, f.line, f.severity) for f in result.active if f.rule_id == "SW-SCAN-001")


def test_production_registry_and_production_tags_in_staging_deployments(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "k8s/api.yaml": K8S,
            "docker-compose.staging.yml": COMPOSE,
            "chart/values-staging.yaml": HELM,
            ".gitlab-ci.yml": GITLAB,
        },
    )
    high = Severity.HIGH
    assert _crossings(result) == [
        (".gitlab-ci.yml", 5, high),  # image: {name: ...:prod}
        ("chart/values-staging.yaml", 2, high),  # repository in the production prefix
        ("chart/values-staging.yaml", 7, high),  # tag prod-2026.11
        ("docker-compose.staging.yml", 2, high),  # v2.1-release: production's convention
        ("k8s/api.yaml", 9, high),  # the production repository prefix
        ("k8s/api.yaml", 13, high),  # :prod tag (pinned by digest too)
        ("k8s/api.yaml", 15, high),  # a registry host declared production
    ]
    messages = [f.message for f in result.active if f.rule_id == "SW-SCAN-001"]
    assert any("estate image tag convention 'prod-*' of production" in m for m in messages)
    assert any("production resource images-prod" in m for m in messages)


def test_images_in_production_deployments_and_unmatched_tags_are_not_crossings(
    tmp_path: Path,
) -> None:
    result = _scan(
        tmp_path,
        {
            "k8s/prod.yaml": K8S.replace("shop-staging}", "shop-prod}"),
            # a tag both tiers' conventions match (prod-rc) says nothing
            "docker-compose.staging.yml": COMPOSE.replace("v2.1-release", "v2.1"),
        },
    )
    assert _crossings(result) == []


def test_without_the_estate_a_registry_named_production_is_reported_at_medium(
    tmp_path: Path,
) -> None:
    result = _scan(
        tmp_path,
        {"k8s/api.yaml": K8S.replace(f"{ECR}/shop-prod/api", "registry.prod.acme.io/shop/api")},
        estate=None,
    )
    # no tag convention and no declared registry without an estate: names only
    # (registry.prod.acme.io, cr.acme-live.io)
    assert _crossings(result) == [
        ("k8s/api.yaml", 9, Severity.MEDIUM),
        ("k8s/api.yaml", 15, Severity.MEDIUM),
    ]


@pytest.mark.parametrize("glob", ["*", "pr od", "prod:1", "**"])
def test_an_image_tag_glob_that_is_not_a_tag_pattern_is_refused(glob: str) -> None:
    text = (
        f'version: 1\nenvironments:\n  production: {{tier: production, image_tags: ["{glob}"]}}\n'
    )
    with pytest.raises(ConfigError, match="image tag glob"):
        parse_estate(text, "stagewall.yaml")
