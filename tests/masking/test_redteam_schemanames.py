"""Red-team findings on personal data in the schema itself (not in cells, not in a
source value of a definition): each test failed before its fix.

- Names: a table, column, partition, index, constraint or schema named after a
  person or an e-mail address (``export_hannelore_ganthriv_2024``, a column
  ``anna.k@example.com``, a partition per customer) was copied under that name and
  never looked at, by lint, run or verify. Now ``mask plan``/``mask lint`` report
  it (``schema-personal-data``), ``mask run`` refuses it (SW520) unless the plan
  acknowledges it, and verify flags it in the target; the messages name the
  object by kind and place, never the name.
- Definitions: an e-mail, phone or IBAN literal in a CHECK, a DEFAULT or an index
  predicate that is no source value was copied silently (verify looked only for
  source values). Now it is refused and verify flags it.
- Documents across engines: an ``hstore``/``xml`` column kept from PostgreSQL into
  SQLite or MariaDB arrived as plain text, verify read it whole and passed with
  the surnames inside. Now the run refuses it (SW521) and verify reads such a
  column as a document by its source type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import DocumentTypeLost, SchemaPersonalData
from stagewall.masking._schemanames import Named, judge_names
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.lint import Rule
from stagewall.masking.plan import ColumnPlan, Plan, load_plan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import (
    BACKENDS,
    KEY,
    SERVER_BACKENDS,
    url_maker,
    with_column,
)
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_redteam_schema import SURNAMES, _execute

FIRST = ["Hannelore", "Bartholomew", "Ottoline", "Wenceslas"]
ADDRESS = "anna.k@example.com"
PERSONAL = ["hannelore", "ganthriv", ADDRESS]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _q(table: str, url: str) -> str:
    return f"public.{table}" if url.startswith("postgresql") else table


def _customers(url: str) -> None:
    text = "VARCHAR(100)" if url.startswith("mysql") else "TEXT"
    _execute(
        url,
        [
            f"CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name {text}, "
            f"last_name {text}, customer_email {text}, phone_number {text})",
            "CREATE INDEX ix_customers_customer_email ON customers (customer_email)",
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
        ],
        [
            (i, FIRST[i % 4], SURNAMES[i % 4], f"user{i}@mail-example.com", f"+31 6 1234 {i:04d}")
            for i in range(1, 41)
        ],
    )


def _clean(text: str) -> None:
    low = text.lower()
    assert not [p for p in PERSONAL if p in low], text


def _ours(problems: Any) -> list[Any]:
    return [p for p in problems if p.rule is Rule.SCHEMA_PERSONAL_DATA]


def _acknowledge(plan: Plan, labels: list[str]) -> Plan:
    return plan.model_copy(update={"acknowledged": dict.fromkeys(labels, "test: not a person")})


# ---- names --------------------------------------------------------------------------------


def test_a_table_and_a_column_named_after_people_are_refused(make: Callable[[], str]) -> None:
    """``export_hannelore_ganthriv_2024`` (a customer's first and last name, each a
    value of a masked column) and a column named by an e-mail address: reported by
    plan, refused by run with nothing written, and flagged by verify, never shown;
    ``customer_email``, ``phone_number`` and their index are not reported."""
    src, tgt = make(), make()
    _customers(src)
    col = f'"{ADDRESS}"' if not src.startswith("mysql") else f"`{ADDRESS}`"
    _execute(
        src,
        [
            f"CREATE TABLE export_hannelore_ganthriv_2024 (id INTEGER PRIMARY KEY, {col} INTEGER)",
            "INSERT INTO export_hannelore_ganthriv_2024 VALUES (?, ?)",
        ],
        [(1, 2)],
    )
    result = build_plan(src)
    found = _ours(result.problems)
    # on PostgreSQL, the primary key's index is named after the table too
    want = 3 if src.startswith("postgresql") else 2
    assert len(found) == want, [p.render() for p in result.problems]
    assert {p.severity.value for p in found} == {"error"}
    shown = "\n".join(p.render() for p in found)
    _clean(shown)
    assert "table #" in shown and "column #" in shown
    assert not [p for p in result.problems if "customer_email" in p.render()]

    with pytest.raises(SchemaPersonalData) as info:
        run(result.plan, src, tgt, KEY, RunOptions())
    assert info.value.code == "SW520"
    _clean(info.value.message)
    assert not rows_of(tgt, _tables_sql(tgt))

    # acknowledged, object by object: copied, and verify honours the acknowledgement
    table = _q("export_hannelore_ganthriv_2024", src)
    labels = [f"table {table}", f"column {table}.{ADDRESS}", f"index {table}_pkey"]
    acked = _acknowledge(result.plan, labels)
    run(acked, src, tgt, KEY, RunOptions())
    assert verify(acked, src, tgt, KEY).passed
    # without it, verify flags both names in the target, without showing them
    report = verify(result.plan, src, tgt, KEY)
    assert not report.passed
    names = [h.column for h in report.hits if h.table == "(schema)"]
    assert len(names) == want and all(n.startswith("name of ") for n in names), names
    _clean(json.dumps(report.to_json()))


def _tables_sql(url: str) -> str:
    if url.startswith("sqlite"):
        return "SELECT name FROM sqlite_master WHERE type = 'table'"
    if url.startswith("postgresql"):
        return "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"


_PARTITIONS = {
    "postgresql": [
        "CREATE TABLE orders (id int, customer_id int NOT NULL, total int) "
        "PARTITION BY LIST (customer_id)",
        "CREATE TABLE orders_p_hannelore_ganthriv PARTITION OF orders FOR VALUES IN (1)",
        "CREATE TABLE orders_rest PARTITION OF orders DEFAULT",
        'CREATE SCHEMA "tenant_anna.k@example.com"',
        'CREATE TABLE "tenant_anna.k@example.com".notes (id int)',
    ],
    "mysql": [
        "CREATE TABLE orders (id int, customer_id int NOT NULL, total int) "
        "PARTITION BY LIST (customer_id) (PARTITION p_hannelore_ganthriv VALUES IN (1), "
        "PARTITION p_rest DEFAULT)",
    ],
}


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_partition_per_customer_and_a_tenant_schema_are_refused(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """A partition named after a customer (PostgreSQL, MariaDB) and a schema per
    tenant named by an e-mail address (PostgreSQL)."""
    make = url_maker(request, tmp_path, backend)
    src, tgt = make(), make()
    _customers(src)
    _execute(src, _PARTITIONS[backend])
    result = build_plan(src)
    kinds = sorted(p.table.split(" #")[0] for p in _ours(result.problems))
    want = ["partition", "schema"] if backend == "postgresql" else ["partition"]
    assert kinds == want, [p.render() for p in result.problems]
    _clean("\n".join(p.render() for p in result.problems))
    with pytest.raises(SchemaPersonalData):
        run(result.plan, src, tgt, KEY, RunOptions())


def test_lint_cli_reports_names_without_showing_them(tmp_path: Path) -> None:
    """``mask lint`` (exit 1, the rule in its JSON) on a plan ``mask plan`` wrote;
    on SQLite the table's definition is its CREATE TABLE, acknowledged with it."""
    from click.testing import CliRunner

    from stagewall.cli import root as main

    src = f"sqlite:///{tmp_path / 'src.db'}"
    _customers(src)
    _execute(
        src,
        [
            "CREATE TABLE orders_bartholomew_oyelaran (id INTEGER PRIMARY KEY, "
            "contact TEXT DEFAULT '+31 6 9876 5432')"
        ],
    )
    out = tmp_path / "plan.yaml"
    runner = CliRunner()
    got = runner.invoke(main, ["mask", "plan", "--source", src, "--out", str(out)])
    assert got.exit_code == 1, got.output
    got = runner.invoke(
        main, ["mask", "lint", "--plan", str(out), "--source", src, "--format", "json"]
    )
    assert got.exit_code == 1, got.output
    rules = [p["rule"] for p in json.loads(got.stdout)["problems"]]
    # its name, and its definition's phone literal: the definition's problem does
    # not name the table either
    assert rules.count("schema-personal-data") == 2, got.stdout
    assert "oyelaran" not in got.output.lower() and "9876" not in got.output
    # the acknowledgement round-trips through the plan file
    text = out.read_text() + "acknowledged:\n  table orders_bartholomew_oyelaran: a supplier\n"
    out.write_text(text)
    assert load_plan(out).acknowledged == {"table orders_bartholomew_oyelaran": "a supplier"}
    got = runner.invoke(main, ["mask", "lint", "--plan", str(out), "--source", src])
    assert got.exit_code == 0, got.output


def test_ordinary_identifiers_are_not_judged_personal() -> None:
    """No false positives on what schemas are made of, even when the source's name
    columns hold words such identifiers use (``Grace``, ``Price``, ``Mary``)."""
    found = {"grace", "price", "mary", "smith", "young", "last", "email", "phone"}
    ordinary = [
        "customer_email", "phone_number", "payment_p2022_01", "ix_customer_last_name",
        "last_update", "grace_period", "price_list", "events_20240101", "fk_rental_customer",
        "mpaa_rating", "sales_by_store", "idx_title", "Customer", "InvoiceLine", "young_adult",
    ]  # fmt: skip
    objects = [Named("table", ("public",), n) for n in ordinary]
    assert judge_names(objects, found) == []
    bad = [
        Named("table", ("public",), n) for n in ("mary_smith_export", "MarySmith", "t_0612345678")
    ]
    got = judge_names(objects + bad, found)
    assert sorted(f.label for f in got) == [
        f"table public.{n}" for n in sorted(b.name for b in bad)
    ]
    assert all("mary" not in f.shown.lower() and "0612" not in f.shown for f in got)


def test_acknowledgements_need_a_reason() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="reason"):
        Plan.model_validate({"tables": {}, "acknowledged": {"table t": " "}})
    # a plan acknowledging nothing hashes as before the field existed
    assert Plan(tables={}).sha256() == Plan.model_validate({"tables": {}}).sha256()
    assert "acknowledged" not in Plan(tables={}).canonical_bytes().decode()


# ---- definitions --------------------------------------------------------------------------

_DEFINITIONS = {
    "sqlite": [
        "CREATE TABLE members (id INTEGER PRIMARY KEY, contact TEXT "
        "DEFAULT '+31 6 9876 5432' CHECK (contact <> 'ceo.private@corp-example.org'))",
    ],
    "postgresql": [
        "CREATE TABLE members (id int PRIMARY KEY, contact text DEFAULT '+31 6 9876 5432', "
        "CONSTRAINT ck_contact CHECK (contact <> 'ceo.private@corp-example.org'))",
        "CREATE INDEX ix_members_contact ON members (contact) "
        "WHERE contact <> 'blocked.person@mail-example.org'",
    ],
    "mysql": [
        "CREATE TABLE members (id int PRIMARY KEY, contact varchar(100) "
        "DEFAULT '+31 6 9876 5432', CONSTRAINT ck_contact CHECK "
        "(contact <> 'ceo.private@corp-example.org'))",
    ],
}


def test_personal_literals_in_definitions_are_refused(make: Callable[[], str]) -> None:
    """An e-mail in a CHECK (and, on PostgreSQL, an index predicate) and a phone as a
    column DEFAULT, none of them a source value: reported, refused, flagged by
    verify; the messages name the object, never the literal."""
    src, tgt = make(), make()
    _customers(src)
    backend = src.split(":", 1)[0]
    _execute(src, _DEFINITIONS[backend])
    result = build_plan(src)
    found = _ours(result.problems)
    want = {"sqlite": 1, "postgresql": 3, "mysql": 2}[backend]
    assert len(found) == want, [p.render() for p in result.problems]
    shown = "\n".join(p.render() for p in found)
    assert "ceo.private" not in shown and "9876" not in shown and "blocked" not in shown
    with pytest.raises(SchemaPersonalData):
        run(result.plan, src, tgt, KEY, RunOptions())
    labels = [p.table for p in found]
    acked = _acknowledge(result.plan, labels)
    run(acked, src, tgt, KEY, RunOptions())
    assert verify(acked, src, tgt, KEY).passed
    report = verify(result.plan, src, tgt, KEY)
    assert not report.passed
    assert {h.table for h in report.hits} == {"(schema)"}, report.to_json()


def test_an_ordinary_check_and_default_are_not_refused(make: Callable[[], str]) -> None:
    """A format check on an e-mail column and a plain default are no personal data."""
    src, tgt = make(), make()
    text = "VARCHAR(100)" if src.startswith("mysql") else "TEXT"
    _execute(
        src,
        [
            f"CREATE TABLE accounts (id INTEGER PRIMARY KEY, customer_email {text} "
            f"CHECK (customer_email LIKE '%@%'), status {text} DEFAULT 'active')",
            "INSERT INTO accounts VALUES (?, ?, ?)",
        ],
        [(i, f"user{i}@mail-example.com", "active") for i in range(30)],
    )
    result = build_plan(src)
    assert _ours(result.problems) == []
    run(result.plan, src, tgt, KEY, RunOptions())
    assert verify(result.plan, src, tgt, KEY).passed


# ---- hstore and xml across engines -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def test_documents_are_not_copied_raw_into_another_engine(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pg_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    target: str,
) -> None:
    src = pg_url_factory()
    make = url_maker(request, tmp_path, target)
    _execute(src, ["CREATE EXTENSION IF NOT EXISTS hstore"])
    _customers(src)
    _execute(
        src,
        [
            "CREATE TABLE tags (id int PRIMARY KEY, data hstore, doc xml)",
            "INSERT INTO tags VALUES (?, hstore(ARRAY['owner', 'colour'], ARRAY[?, 'rose']), "
            "XMLPARSE(CONTENT '<owner>' || ? || '</owner>'))",
        ],
        [(i, SURNAMES[i % 4], SURNAMES[i % 4]) for i in range(1, 41)],
    )
    plan = build_plan(src).plan
    # the plan's default (NULL) copies across engines and verifies clean
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    kept = with_column(plan, "public.tags", "data", ColumnPlan(transformer="keep", reason="t"))
    kept = with_column(kept, "public.tags", "doc", ColumnPlan(transformer="keep", reason="t"))
    with pytest.raises(DocumentTypeLost, match=r"public\.tags\.data \(.*hstore\)"):
        run(kept, src, make(), KEY, RunOptions())
    # a target holding them anyway (made without the check): verify reads each
    # value inside as a document's, by the source column's type, and fails
    import stagewall.masking.engine as engine

    monkeypatch.setattr(engine, "check_documents", lambda *a: None)
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    assert not report.passed
    assert sorted(h.column for h in report.hits) == ["data", "doc"], report.to_json()


def test_an_acknowledgement_names_one_object() -> None:
    """As the source names it; across backends the target's object has no schema."""
    from stagewall.masking._schemanames import acknowledged

    acks = {"table public.orders_p_acme": "a company", "column public.t.c": "x"}
    assert acknowledged("table public.orders_p_acme", acks)
    assert acknowledged("table orders_p_acme", acks)  # a SQLite/MySQL target
    assert acknowledged("column t.c", acks)
    assert not acknowledged("index public.orders_p_acme", acks)
    assert not acknowledged("table p_acme", acks)
    assert not acknowledged("table public.orders_p_acme_2", acks)


def test_name_columns_with_a_percent_sign_are_looked_up(make: Callable[[], str]) -> None:
    """A ``%`` in a masked name column's name is no placeholder of the driver."""
    from stagewall.masking._schemanames import source_names
    from stagewall.masking.db import open_database
    from stagewall.masking.plan import TablePlan

    src = make()
    quote = "`" if src.startswith("mysql") else '"'
    _execute(
        src,
        [
            f"CREATE TABLE people (id INTEGER PRIMARY KEY, {quote}surname%{quote} "
            f"{'VARCHAR(50)' if quote == '`' else 'TEXT'})",
            "INSERT INTO people VALUES (?, ?)",
        ],
        [(1, "Ganthriv"), (2, "Oyelaran")],
    )
    plan = Plan(
        tables={
            _q("people", src): TablePlan(
                columns={
                    "id": ColumnPlan(transformer="keep"),
                    "surname%": ColumnPlan(transformer="last_name"),
                }
            )
        }
    )
    with open_database(src, role="source") as db:
        got = source_names(db, plan, db.introspect(), {"ganthriv", "smith"})
    assert got == {"ganthriv"}
