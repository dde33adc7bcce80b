"""Fixtures: a small estate with every source type, a migrated SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.estate import Estate
from stagewall.estate.loader import parse_estate
from stagewall.store import Store

ESTATE = """
version: 1
environments:
  production: {tier: production}
  staging: {tier: non-production}
resources:
  db-prod: {environment: production, kind: postgresql, host: db.prod, database: app}
  db-staging: {environment: staging, kind: postgresql, host: db.stg, database: app}
  bastion: {environment: production, kind: host, identifiers: [bastion]}
  exports: {environment: production, kind: bucket, identifiers: [nw-exports]}
vendors:
  acme: {contract_start: 2026-01-01, contract_end: 2027-12-31}
principals:
  alice: {affiliation: internal, timezone: Europe/Berlin, working_hours: 'Mon-Fri 08:00-18:00',
          identities: {logins: [alice, alice_ro], github: [alice-gh]}}
  bob: {affiliation: external, vendor: acme, identities: {logins: [bob]}}
  app: {kind: service, affiliation: internal, identities: {logins: [app_user]}}
approval_rules:
  one: {approvals: 1}
roles:
  prod-read: {environment: production, resources: [db-prod], approval: one}
monitoring:
  sources:
    pg: {type: postgresql, resource: db-prod, max_gap: 1h}
    pg-stg: {type: postgresql, resource: db-staging}
    ssh: {type: sshd, resource: bastion, trust_program_names: true}
    gh: {type: github}
    s3: {type: cloudtrail}
"""


def make_estate(extra: str = "") -> Estate:
    return parse_estate(ESTATE + extra).estate


@pytest.fixture
def estate() -> Estate:
    return make_estate()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    s.migrate()
    return s
