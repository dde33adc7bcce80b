"""Fixtures-as-functions for the data-path tests: fresh source/target URLs per backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from tests.masking.integration.schemas import build

KEY = MaskingKey("test-key-1", b"k" * 32)
OTHER_KEY = MaskingKey("test-key-2", b"o" * 32)

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
# the backends with partitions (and schemas of their own)
SERVER_BACKENDS = BACKENDS[1:]


def url_maker(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> Callable[[], str]:
    """A function returning a fresh empty database URL of ``backend`` on each call."""
    if backend == "sqlite":
        n = iter(range(1000))
        return lambda: f"sqlite:///{tmp_path / f'db{next(n)}.sqlite'}"
    if backend == "postgresql":
        return request.getfixturevalue("pg_url_factory")  # type: ignore[no-any-return]
    return request.getfixturevalue("mysql_url_factory")  # type: ignore[no-any-return]


def source_and_target(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> tuple[str, str]:
    make = url_maker(request, tmp_path, backend)
    src, tgt = make(), make()
    build(src)
    return src, tgt


def with_column(plan: Plan, table: str, column: str, cp: ColumnPlan) -> Plan:
    """``plan`` with one column's entry replaced (e.g. a deliberately weakened keep)."""
    tp = plan.tables[table]
    tables = {**plan.tables, table: TablePlan(columns={**tp.columns, column: cp})}
    return Plan(schemas=plan.schemas, tables=tables, acknowledged=plan.acknowledged)


def acknowledging(plan: Plan, source_url: str) -> Plan:
    """``plan`` acknowledging every schema object of the source whose name or
    definition `mask run` refuses (SW520): for tests of what the run copies and
    verify then finds (an acknowledgement never hides a source value from verify)."""
    from stagewall.masking._schemanames import schema_findings
    from stagewall.masking.db import open_database
    from stagewall.masking.lint import scoped_schema

    with open_database(source_url, role="source") as db:
        found = schema_findings(db, plan, scoped_schema(plan, db.introspect()))
    acks = dict.fromkeys((f.label for f in found), "test: to see what the copy and verify do")
    return plan.model_copy(update={"acknowledged": {**plan.acknowledged, **acks}})
