"""The demo's stagewall.yaml: a shop with production, staging and one vendor."""

from __future__ import annotations

from pathlib import Path

DEMO_ESTATE = """\
# Demo estate written by `stagewall demo`. Edit freely; `stagewall check` validates it.
version: 1
organisation: Demo Shop Ltd
environments:
  production:
    tier: production
    aliases: [prod, prd]
    paths: ["infra/envs/prod/**", "**/.env.production"]
    namespaces: [shop-prod]
  staging:
    tier: non-production
    aliases: [stage, stg]
    paths: ["infra/envs/staging/**", "**/.env.staging"]
    namespaces: [shop-staging]
resources:
  shop-db-prod:
    environment: production
    kind: sqlite
    path: {prod_db}
  shop-db-staging:
    environment: staging
    kind: sqlite
    path: {staging_db}
  orders-pg-prod:
    environment: production
    kind: postgresql
    host: {pg_host}
    port: {pg_port}
    database: {pg_database}
    identifiers: [10.20.0.5, db.prod.demo-shop.internal]
    admin_connection_env: STAGEWALL_DEMO_PG_ADMIN_URL
  orders-pg-staging:
    environment: staging
    kind: postgresql
    host: db.staging.demo-shop.internal
    port: 5432
    database: orders
vendors:
  devshop:
    contract_start: 2026-01-01
    contract_end: 2030-12-31
    nda_signed: 2025-12-15
    dpa_signed: 2025-12-15
principals:
  alice: {{name: Alice Lead, affiliation: internal, emails: [alice@demo-shop.example]}}
  bob: {{name: Bob SRE, affiliation: internal, emails: [bob@demo-shop.example]}}
  carol: {{name: Carol SRE, affiliation: internal, emails: [carol@demo-shop.example]}}
  erin: {{name: Erin Security, affiliation: internal, emails: [erin@demo-shop.example]}}
  dana: {{name: Dana Contractor, affiliation: external, vendor: devshop,
          emails: [dana@devshop.example], identities: {{github: [dana-dev]}}}}
  deploy-bot: {{kind: service, affiliation: internal, name: CI deployer}}
  ci-bot: {{kind: service, affiliation: internal, name: CI test runner}}
groups:
  sre: {{members: [alice, bob, carol]}}
  devshop-devs: {{members: [dana]}}
approval_rules:
  one-sre: {{approvals: 1, from_groups: [sre]}}
roles:
  prod-pg-read:
    environment: production
    resources: [orders-pg-prod]
    access: read
    eligible: [group:sre]
    approval: one-sre
    max_duration: 2h
    break_glass: true
  staging-db-write:
    environment: staging
    resources: [shop-db-staging]
    access: write
    eligible: [group:sre, group:devshop-devs]
    approval: one-sre
standing_grants:
  - principal: dana
    role: staging-db-write
    expires: {grant_expires}
    reason: devshop builds the checkout rewrite against staging
stages:
  - name: staging
    environment: staging
    checks: [tests]
  - name: production
    environment: production
    checks: [tests]
    approval: one-sre
    deployers: [deploy-bot]
    # The demo's commits are unsigned; a real production stage keeps the default
    # (signed commits required, verified against the keys declared per principal).
    require_signed_commits: false
alerts:
  - type: file
    path: {alerts_file}
"""


def write_demo_estate(
    path: Path,
    *,
    prod_db: Path,
    staging_db: Path,
    pg_host: str,
    pg_port: int,
    pg_database: str,
    alerts_file: Path,
    grant_expires: str,
) -> None:
    path.write_text(
        DEMO_ESTATE.format(
            prod_db=prod_db,
            staging_db=staging_db,
            pg_host=pg_host,
            pg_port=pg_port,
            pg_database=pg_database,
            alerts_file=alerts_file,
            grant_expires=grant_expires,
        ),
        encoding="utf-8",
    )
