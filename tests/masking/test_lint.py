"""Lint rules on hand-built schemas: every rule can fire, and a good plan is clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import ConfigError, MaskingError, UnmaskedColumn
from stagewall.masking.lint import Rule, Severity, ensure_plan_ok, lint_plan
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan, dump_plan, load_plan
from stagewall.masking.schema import Column, ForeignKey, Schema, Table
from stagewall.masking.types import ColumnKind as K


def _schema() -> Schema:
    customers = Table(
        schema=None,
        name="customers",
        columns=(
            Column("id", K.INTEGER, "integer", nullable=False),
            Column("email", K.TEXT, "text", nullable=False),
            Column("name", K.TEXT, "text"),
            Column("status", K.TEXT, "varchar(10)", max_length=10),
        ),
        primary_key=("id",),
        unique_constraints=(("email",),),
    )
    orders = Table(
        schema=None,
        name="orders",
        columns=(
            Column("id", K.INTEGER, "integer", nullable=False),
            Column("customer_id", K.INTEGER, "integer"),
            Column("customer_email", K.TEXT, "text"),
            Column("placed", K.DATE, "date"),
        ),
        primary_key=("id",),
        foreign_keys=(
            ForeignKey(
                "fk1", ("customer_id", "customer_email"), None, "customers", ("id", "email")
            ),
        ),
    )
    return Schema("sqlite", (customers, orders))


def _cols(**cols: Any) -> TablePlan:
    return TablePlan(
        columns={
            k: ColumnPlan(transformer=v[0], params=v[1] if len(v) > 1 else {}, reason="test")
            for k, v in cols.items()
        }
    )


def _good() -> dict[str, TablePlan]:
    return {
        "customers": _cols(
            id=("fpe_integer",), email=("email",), name=("full_name",), status=("keep",)
        ),
        "orders": _cols(
            id=("keep",), customer_id=("fpe_integer",), customer_email=("email",), placed=("keep",)
        ),
    }


def _rules(plan: Plan) -> set[tuple[Rule, str, str | None]]:
    return {
        (p.rule, p.table, p.column)
        for p in lint_plan(plan, _schema())
        if p.severity is Severity.ERROR
    }


def test_good_plan_has_no_errors() -> None:
    assert _rules(Plan(tables=_good())) == set()
    ensure_plan_ok(Plan(tables=_good()), _schema())


def test_column_missing_from_plan_is_schema_drift() -> None:
    tables = _good()
    cols = dict(tables["customers"].columns)
    del cols["status"]
    tables["customers"] = TablePlan(columns=cols)
    plan = Plan(tables=tables)
    assert _rules(plan) == {(Rule.UNPLANNED_COLUMN, "customers", "status")}
    with pytest.raises(UnmaskedColumn, match=r"customers\.status: the source has this column"):
        ensure_plan_ok(plan, _schema())


def test_missing_table_and_column_named_by_plan() -> None:
    tables = _good()
    tables["ghosts"] = _cols(id=("keep",))
    cols = dict(tables["orders"].columns)
    cols["vanished"] = ColumnPlan(transformer="keep")
    tables["orders"] = TablePlan(columns=cols)
    problems = lint_plan(Plan(tables=tables), _schema())
    msgs = {(p.rule, p.table, p.column): p.message for p in problems}
    assert "no such table" in msgs[(Rule.UNKNOWN_TABLE, "ghosts", None)]
    assert "no such column" in msgs[(Rule.UNKNOWN_COLUMN, "orders", "vanished")]
    with pytest.raises(MaskingError, match=r"orders\.vanished"):
        ensure_plan_ok(Plan(tables=tables), _schema())


def test_unknown_transformer_and_bad_params() -> None:
    tables = _good()
    tables["customers"] = _cols(
        id=("fpe_integer",),
        email=("email",),
        name=("no_such_thing",),
        status=("redact", {"char": 7}),
    )
    problems = {(p.rule, p.column): p.message for p in lint_plan(Plan(tables=tables), _schema())}
    assert "unknown transformer 'no_such_thing'" in problems[(Rule.UNKNOWN_TRANSFORMER, "name")]
    assert "char" in problems[(Rule.BAD_PARAMS, "status")]


def test_non_unique_safe_and_lossy_on_keys() -> None:
    tables = _good()
    tables["customers"] = _cols(
        id=("fpe_integer",), email=("hash",), name=("full_name",), status=("keep",)
    )
    tables["orders"] = _cols(
        id=("null",), customer_id=("fpe_integer",), customer_email=("hash",), placed=("keep",)
    )
    rules = _rules(Plan(tables=tables))
    assert (Rule.NOT_UNIQUE_SAFE, "customers", "email") in rules
    assert (Rule.LOSSY_ON_KEY, "orders", "id") in rules


def test_foreign_key_transformed_differently_column_by_column() -> None:
    tables = _good()
    tables["orders"] = _cols(
        id=("keep",),
        customer_id=("fpe_integer",),
        customer_email=("email", {"domain": "other.example"}),
        placed=("keep",),
    )
    problems = [p for p in lint_plan(Plan(tables=tables), _schema()) if p.rule is Rule.FK_MISMATCH]
    assert [(p.table, p.column) for p in problems] == [("orders", "customer_email")]
    assert "customers.email" in problems[0].message


def test_kind_and_length_and_not_null() -> None:
    tables = _good()
    tables["customers"] = _cols(
        id=("fpe_integer",),
        email=("email",),
        name=("full_name",),
        status=("constant", {"value": "a much longer constant"}),
    )
    tables["orders"] = _cols(
        id=("keep",), customer_id=("fpe_integer",), customer_email=("email",), placed=("email",)
    )
    rules = _rules(Plan(tables=tables))
    assert (Rule.TOO_LONG, "customers", "status") in rules
    assert (Rule.KIND_NOT_ACCEPTED, "orders", "placed") in rules
    tables["customers"] = _cols(
        id=("fpe_integer",), email=("email",), name=("full_name",), status=("keep",)
    )
    schema = _schema()
    strict = Table(
        None,
        "customers",
        tuple(
            Column(c.name, c.kind, c.db_type, nullable=False, max_length=c.max_length)
            for c in schema.tables[0].columns
        ),
        primary_key=("id",),
        unique_constraints=(("email",),),
    )
    tables["customers"] = _cols(
        id=("fpe_integer",), email=("email",), name=("null",), status=("keep",)
    )
    tables["orders"] = _good()["orders"]
    problems = lint_plan(Plan(tables=tables), Schema("sqlite", (strict, schema.tables[1])))
    assert [(p.rule, p.column) for p in problems if p.severity is Severity.ERROR] == [
        (Rule.NULL_NOT_NULLABLE, "name")
    ]


def test_keep_on_sensitive_column_is_a_warning() -> None:
    tables = _good()
    tables["customers"] = _cols(
        id=("fpe_integer",), email=("keep",), name=("full_name",), status=("keep",)
    )
    tables["orders"] = _cols(
        id=("keep",), customer_id=("fpe_integer",), customer_email=("keep",), placed=("keep",)
    )
    samples = {("customers", "email"): [f"user{i}@corp.example" for i in range(20)]}
    problems = lint_plan(Plan(tables=tables), _schema(), samples=samples)
    warn = [p for p in problems if p.rule is Rule.KEEP_SENSITIVE and p.column == "email"]
    assert warn and warn[0].severity is Severity.WARNING
    assert "email" in warn[0].message


def test_plan_schemas_scope_limits_drift_check() -> None:
    pg_orders = Table("sales", "orders", (Column("id", K.INTEGER, "integer"),), primary_key=("id",))
    other = Table("hr", "people", (Column("ssn", K.TEXT, "text"),))
    schema = Schema("postgresql", (pg_orders, other))
    plan = Plan(schemas=("sales",), tables={"sales.orders": _cols(id=("keep",))})
    assert lint_plan(plan, schema) == []
    unscoped = Plan(tables={"sales.orders": _cols(id=("keep",))})
    assert [(p.rule, p.table) for p in lint_plan(unscoped, schema)] == [
        (Rule.UNPLANNED_COLUMN, "hr.people")
    ]


def test_load_plan_validates_transformers_and_params(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    plan = Plan(tables=_good())
    path.write_text(dump_plan(plan))
    assert load_plan(path) == plan
    bad = dump_plan(plan).replace("transformer: full_name", "transformer: fulname")
    path.write_text(bad)
    with pytest.raises(
        ConfigError, match=r"tables\.customers\.columns\.name: unknown transformer 'fulname'"
    ):
        load_plan(path)
    wrong_type = dump_plan(plan).replace(
        "status:\n        transformer: keep",
        "status:\n        transformer: redact\n        params: {preserve_length: notabool}",
    )
    assert "notabool" in wrong_type
    path.write_text(wrong_type)
    with pytest.raises(
        ConfigError,
        match=r"customers\.columns\.status: transformer 'redact': params\.preserve_length",
    ):
        load_plan(path)


def test_consistency_domain_members_must_agree() -> None:
    from stagewall.masking.lint import Rule, lint_plan
    from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
    from stagewall.masking.schema import Column, Schema, Table
    from stagewall.masking.types import ColumnKind

    schema = Schema(
        "sqlite",
        (
            Table(None, "customers", (Column("address", ColumnKind.TEXT, "TEXT"),)),
            Table(None, "orders", (Column("ship_address", ColumnKind.TEXT, "TEXT"),)),
        ),
    )

    def plan(other: dict[str, object]) -> Plan:
        return Plan(
            tables={
                "customers": TablePlan(
                    columns={
                        "address": ColumnPlan(
                            transformer="street_address", params={"consistency": "addr"}
                        )
                    }
                ),
                "orders": TablePlan(
                    columns={"ship_address": ColumnPlan(transformer="street_address", params=other)}
                ),
            }
        )

    assert lint_plan(plan({"consistency": "addr"}), schema) == []
    bad = lint_plan(plan({"consistency": "addr", "max_length": 30}), schema)
    assert [(p.rule, p.table, p.column) for p in bad] == [
        (Rule.CONSISTENCY_MISMATCH, "orders", "ship_address")
    ]
    assert "equal values would not stay equal" in bad[0].message


def test_text_scrub_without_a_bound_on_a_varchar_is_refused() -> None:
    """Chinook composer varchar(220): a scrubbed text grew to 233 characters and the
    run failed part-way; lint now catches it before any row moves."""
    from stagewall.masking.lint import Rule, lint_plan
    from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
    from stagewall.masking.schema import Column, Schema, Table
    from stagewall.masking.types import ColumnKind

    schema = Schema(
        "sqlite",
        (
            Table(
                None,
                "track",
                (Column("composer", ColumnKind.TEXT, "VARCHAR(220)", max_length=220),),
            ),
        ),
    )

    def plan(params: dict[str, object]) -> Plan:
        cp = ColumnPlan(transformer="text_scrub", params=params)
        return Plan(tables={"track": TablePlan(columns={"composer": cp})})

    bad = lint_plan(plan({}), schema)
    assert [(p.rule, p.column) for p in bad] == [(Rule.TOO_LONG, "composer")]
    assert "set params.max_length: 220" in bad[0].hint
    assert lint_plan(plan({"max_length": 220}), schema) == []


@pytest.mark.mysql
def test_mariadb_json_column_check_is_no_warning_for_json_mask(mysql_url_factory: Any) -> None:
    # MariaDB's JSON type is longtext with CHECK (json_valid(col)): every plan with
    # json_mask warned that the masked values must pass it (json_mask writes JSON)
    import pymysql

    from stagewall.masking.db import open_database

    url = mysql_url_factory()
    conn = pymysql.connect(host="127.0.0.1", user="root", database=url.rsplit("/", 1)[1])
    with conn:
        conn.cursor().execute(
            "CREATE TABLE t (id int PRIMARY KEY, doc json, other json, "
            "CONSTRAINT other_short CHECK (char_length(other) < 500))"
        )
    with open_database(url) as db:
        schema = db.introspect()
    mask = ColumnPlan(transformer="json_mask", params={"unknown_keys": "scrub"})
    plan = Plan(
        tables={"t": TablePlan(columns={"id": ColumnPlan(transformer="keep"), "doc": mask,
                                        "other": mask})}
    )  # fmt: skip
    warned = {p.column for p in lint_plan(plan, schema) if p.rule is Rule.CHECK_CONSTRAINT}
    assert warned == {"other"}  # a check of its own still warns


def test_check_constraint_warning_names_constraints_never_their_text() -> None:
    # a CHECK's text may hold a production literal; lint output reaches CI logs and run
    # records, so the warning named the check's text (the literal) before
    table = Table(
        schema=None,
        name="staff",
        columns=(
            Column("id", K.INTEGER, "integer", nullable=False),
            Column("email", K.TEXT, "text"),
        ),
        primary_key=("id",),
        check_constraints=(
            "CONSTRAINT \"no_ceo\" CHECK ((email <> 'ceo.jane.roe@corp.example'::text))",
            "CHECK (email <> 'cfo.john.doe@corp.example')",
        ),
    )
    plan = Plan(tables={"staff": _cols(id=("keep",), email=("email",))})
    warned = [p for p in lint_plan(plan, Schema("postgres", (table,)))
              if p.rule is Rule.CHECK_CONSTRAINT]  # fmt: skip
    assert len(warned) == 1
    text = warned[0].message + warned[0].hint
    assert '"no_ceo"' in text and "unnamed check 2" in text
    assert "corp.example" not in text and "jane" not in text and "john" not in text
