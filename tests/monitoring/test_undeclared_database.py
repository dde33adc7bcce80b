"""A database the estate does not declare, on a server it does: the server's resource.

The production source's server holds databases the estate never names (``postgres``,
``template1``, a new one): a login there is a login to the production server. It was
mapped to no resource (tier ``unknown``), so an external identity connecting to
``postgres`` on the production server raised no alert at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.monitoring.log import MonitorLog
from stagewall.store import Store
from tests.monitoring.conftest import make_estate

T = "2026-12-01 09:00:00.000 UTC"


def ingest(tmp_path: Path, source: str, database: str) -> tuple[list[str], dict[str, object]]:
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    lines = [
        f"{T} [1] LOG:  connection received: host=10.0.0.5 port=5000",
        f"{T} [1] LOG:  connection authorized: user=bob database={database}",
    ]
    with IngestContext(make_estate(), store, grants=GrantIndex(())) as ctx:
        report = ingest_lines(source, lines, ctx, final=True)
    (doc,) = MonitorLog(store).documents()
    return sorted({f.rule for f in report.findings}), doc["unmapped"]


@pytest.mark.parametrize("database", ["app", "postgres", "template1", "other_app"])
def test_an_external_login_to_any_database_of_the_production_server_alerts(
    tmp_path: Path, database: str
) -> None:
    rules, unmapped = ingest(tmp_path, "pg", database)
    assert (unmapped["resource"], unmapped["tier"]) == ("db-prod", "production")
    assert "external_production_access" in rules
    assert "production_login_without_grant" in rules


def test_an_undeclared_database_of_a_staging_server_stays_staging(tmp_path: Path) -> None:
    rules, unmapped = ingest(tmp_path, "pg-stg", "postgres")
    assert (unmapped["resource"], unmapped["tier"]) == ("db-staging", "non-production")
    assert rules == []
