"""Plan generation: every column planned, sensitive ones masked, FKs consistent, stable output."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from stagewall.errors import BackendError, ConfigError, UsageError
from stagewall.masking.lint import Severity
from stagewall.masking.plan import dump_plan, load_plan
from stagewall.masking.planner import build_plan

DDL = """
CREATE TABLE customers (
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT, phone TEXT,
  iban TEXT, country TEXT, referrer_id INTEGER REFERENCES customers(id), notes TEXT);
CREATE TABLE accounts (
  customer_email TEXT NOT NULL REFERENCES customers(email), region TEXT NOT NULL,
  number INTEGER NOT NULL, PRIMARY KEY (customer_email, region, number));
CREATE TABLE ledger (
  id INTEGER PRIMARY KEY, acct_email TEXT, acct_region TEXT, acct_number INTEGER, amount REAL,
  FOREIGN KEY (acct_email, acct_region, acct_number)
    REFERENCES accounts(customer_email, region, number));
"""
IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"]


def make_source(path: Path, n: int = 40) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    first = ["Anna", "Jan", "Maria", "Lukas", "Elena", "Peter", "Sofia", "David"]
    last = ["Schmidt", "Novak", "Rossi", "Dubois", "Jensen", "Miller", "Garcia", "Brown"]
    for i in range(n):
        name = f"{first[i % 8]} {last[(i * 3) % 8]}"
        email = f"{first[i % 8].lower()}.{i}@mailhost.example"
        conn.execute(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                i + 1,
                email,
                name,
                f"+49 30 {1000000 + i * 7919}",
                IBANS[i % 3],
                "DE",
                None if i == 0 else i,
                f"Customer asked to mail {email} about the order",
            ),
        )
        conn.execute("INSERT INTO accounts VALUES (?, ?, ?)", (email, "eu", i))
        conn.execute("INSERT INTO ledger VALUES (?, ?, ?, ?, ?)", (i + 1, email, "eu", i, 9.5 * i))
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_every_column_is_planned_with_a_reason(tmp_path: Path) -> None:
    result = build_plan(make_source(tmp_path / "s.db"), sample=100)
    plan = result.plan
    assert sorted(plan.tables) == ["accounts", "customers", "ledger"]
    assert sorted(plan.tables["customers"].columns) == sorted(
        ["id", "email", "full_name", "phone", "iban", "country", "referrer_id", "notes"]
    )
    for t in plan.tables.values():
        for c in t.columns.values():
            assert c.transformer and c.reason
    cust = plan.tables["customers"].columns
    assert cust["email"].transformer == "email"
    assert cust["phone"].transformer == "phone"
    assert cust["iban"].transformer == "iban"
    assert cust["full_name"].transformer != "keep"
    assert cust["notes"].transformer != "keep"
    assert result.sampled_rows == 120  # 40 rows in each of 3 tables
    assert [p for p in result.problems if p.severity is Severity.ERROR] == []


def test_foreign_keys_take_the_root_keys_transformer(tmp_path: Path) -> None:
    plan = build_plan(make_source(tmp_path / "s.db")).plan
    cust = plan.tables["customers"].columns
    acct = plan.tables["accounts"].columns
    ledger = plan.tables["ledger"].columns
    assert (acct["customer_email"].transformer, acct["customer_email"].params) == (
        cust["email"].transformer,
        cust["email"].params,
    )
    # composite FK, column by column, through two hops for the e-mail
    assert ledger["acct_email"].transformer == cust["email"].transformer
    assert ledger["acct_email"].params == cust["email"].params
    assert (ledger["acct_number"].transformer, ledger["acct_number"].params) == (
        acct["number"].transformer,
        acct["number"].params,
    )
    assert (cust["referrer_id"].transformer, cust["referrer_id"].params) == (
        cust["id"].transformer,
        cust["id"].params,
    )
    assert "foreign key to customers.email" in ledger["acct_email"].reason


def test_output_is_stable_and_round_trips(tmp_path: Path) -> None:
    url = make_source(tmp_path / "s.db")
    a = dump_plan(build_plan(url).plan)
    b = dump_plan(build_plan(url).plan)
    assert a == b
    path = tmp_path / "plan.yaml"
    path.write_text(a)
    assert dump_plan(load_plan(path)) == a
    lines = [ln.strip() for ln in a.splitlines()]
    assert lines.index("accounts:") < lines.index("customers:") < lines.index("ledger:")


def test_sample_zero_classifies_by_name_only(tmp_path: Path) -> None:
    result = build_plan(make_source(tmp_path / "s.db"), sample=0)
    assert result.sampled_rows == 0
    assert result.plan.tables["customers"].columns["email"].transformer == "email"


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--sample must be 0 or more"):
        build_plan(make_source(tmp_path / "s.db"), sample=-1)
    with pytest.raises(ConfigError, match="scheme 'oracle' is not supported"):
        build_plan("oracle://x@y/z")
    with pytest.raises(
        BackendError, match=re.escape("source database postgresql://nobody@127.0.0.1:1/nope")
    ):
        build_plan("postgresql://nobody:sekret@127.0.0.1:1/nope")


def test_one_line_marks_a_table_as_reference_data(tmp_path: Path) -> None:
    from stagewall.masking.lint import lint_plan
    from stagewall.masking.plan import REFERENCE_REASON, ColumnPlan, Plan, TablePlan
    from stagewall.masking.schema import Column, Schema, Table
    from stagewall.masking.types import ColumnKind

    path = tmp_path / "plan.yaml"
    path.write_text(
        "version: 1\n"
        "tables:\n"
        "  category:\n"
        "    reference: true\n"
        "    columns:\n"
        "      id: {transformer: keep}\n"
        "      name: {transformer: full_name}\n"
    )
    plan = load_plan(path)
    cols = plan.tables["category"].columns
    assert {c.transformer for c in cols.values()} == {"keep"}
    assert cols["name"].reason == REFERENCE_REASON
    assert "reference: true" in dump_plan(plan)
    schema = Schema(
        "sqlite",
        (
            Table(
                None,
                "category",
                (
                    Column("id", ColumnKind.INTEGER, "INTEGER"),
                    Column("name", ColumnKind.TEXT, "TEXT"),
                    Column("added", ColumnKind.TEXT, "TEXT"),
                ),
                primary_key=("id",),
            ),
        ),
    )
    problems = lint_plan(plan, schema)
    assert [(p.rule.value, p.column) for p in problems] == [("unplanned-column", "added")]
    unmarked = Plan(tables={"t": TablePlan(columns={"a": ColumnPlan(transformer="keep")})})
    assert unmarked.sha256() == Plan.model_validate(unmarked.model_dump()).sha256()
    assert "reference" not in unmarked.canonical_bytes().decode()
