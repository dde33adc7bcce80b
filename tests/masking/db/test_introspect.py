"""Introspection on real SQLite, PostgreSQL and MariaDB: kinds, keys, constraints, sampling."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.errors import BackendError
from stagewall.masking.db import open_database
from stagewall.masking.types import ColumnKind
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.integration.schemas import N_CUSTOMERS, build


@pytest.mark.parametrize("backend", BACKENDS)
def test_introspection_of_the_fixture_schema(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = url_maker(request, tmp_path, backend)()
    build(url)
    with open_database(url) as db:
        schema = db.introspect()
        prefix = "public." if backend == "postgresql" else ""
        names = {t.qualified for t in schema.tables}
        assert {
            f"{prefix}{n}" for n in ("customers", "order", "User Profile", "audit_trail")
        } <= names
        assert "stagewall_masking_run" not in {t.name for t in schema.tables}
        customers = schema.table(f"{prefix}customers")
        assert customers is not None
        assert customers.primary_key == ("id",)
        assert ("email",) in customers.unique_constraints and customers.is_unique("email")
        kinds = {c.name: c.kind for c in customers.columns}
        assert kinds["id"] is ColumnKind.INTEGER and kinds["email"] is ColumnKind.TEXT
        assert kinds["profile"] is ColumnKind.JSON
        assert kinds["created_at"] is ColumnKind.TIMESTAMP
        if backend == "postgresql":
            assert kinds["tags"] is ColumnKind.ARRAY
        assert customers.column("id").is_identity  # type: ignore[union-attr]
        assert customers.column("email").nullable is False  # type: ignore[union-attr]
        assert any(ix.columns == ("country",) for ix in customers.indexes)
        order = schema.table(f"{prefix}order")
        assert order is not None
        fks = {fk.columns: fk for fk in order.foreign_keys}
        assert fks[("ship_customer", "ship_seq")].ref_columns == ("customer_id", "seq")
        assert fks[("ship_customer", "ship_seq")].ref_table == "addresses"
        assert len(order.check_constraints) == 1 and "total" in order.check_constraints[0]
        employees = schema.table(f"{prefix}employees")
        assert employees is not None
        assert any(fk.ref_table == "employees" for fk in employees.foreign_keys)  # self reference
        departments = schema.table(f"{prefix}departments")
        assert departments is not None
        assert any(fk.ref_table == "employees" for fk in departments.foreign_keys)  # cycle
        odd = schema.table(f"{prefix}User Profile")
        assert odd is not None and [c.name for c in odd.columns] == [
            "Mixed Case",
            'quote"d',
            "straße",
            "select",
        ]
        sample = db.sample(customers, ["email", "country"], 10)
        assert len(sample["email"]) == 10 and all("@" in e for e in sample["email"])
        assert len(db.sample(odd, ['quote"d'], 1000)['quote"d']) == 3
        assert customers.row_estimate is None or customers.row_estimate <= N_CUSTOMERS


@pytest.mark.postgres
def test_postgres_schemas_enums_and_cross_schema_keys(
    pg_url_factory: object, request: pytest.FixtureRequest
) -> None:
    import psycopg

    make = request.getfixturevalue("pg_url_factory")
    url = make()
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE SCHEMA sales")
        c.execute("CREATE TYPE sales.mood AS ENUM ('ok', 'sad')")
        c.execute("CREATE TABLE public.people (id uuid PRIMARY KEY, ok boolean, m sales.mood)")
        c.execute(
            "CREATE TABLE sales.deals (id serial PRIMARY KEY, person uuid REFERENCES public.people, "
            "amount numeric(8,2), at date, doc json, gen int GENERATED ALWAYS AS (id * 2) STORED)"
        )
    with open_database(url) as db:
        everything = db.introspect()
        only_sales = db.introspect(["sales"])
    assert {t.qualified for t in everything.tables} == {"public.people", "sales.deals"}
    assert [t.qualified for t in only_sales.tables] == ["sales.deals"]
    deals = everything.table("sales.deals")
    assert deals is not None
    fk = deals.foreign_keys[0]
    assert (fk.ref_schema, fk.ref_table, fk.ref_columns) == ("public", "people", ("id",))
    kinds = {c.name: c.kind for c in deals.columns}
    assert kinds == {
        "id": ColumnKind.INTEGER,
        "person": ColumnKind.UUID,
        "amount": ColumnKind.DECIMAL,
        "at": ColumnKind.DATE,
        "doc": ColumnKind.JSON,
        "gen": ColumnKind.INTEGER,
    }
    assert deals.column("id").is_identity  # type: ignore[union-attr]
    assert deals.column("gen").default.startswith("GENERATED ALWAYS AS")  # type: ignore[union-attr]
    people = everything.table("public.people")
    assert people is not None
    assert {c.name: c.kind for c in people.columns}["ok"] is ColumnKind.BOOLEAN
    assert {c.name: c.db_type for c in people.columns}["m"] == "sales.mood"


@pytest.mark.mysql
def test_mysql_tinyint_one_is_boolean(
    mysql_url_factory: object, request: pytest.FixtureRequest
) -> None:
    import pymysql

    url = request.getfixturevalue("mysql_url_factory")()
    db_name = url.rsplit("/", 1)[1]
    conn = pymysql.connect(
        host="127.0.0.1", user="root", password="", database=db_name, autocommit=True
    )
    with conn:
        conn.cursor().execute(
            "CREATE TABLE flags (id int PRIMARY KEY, on_off tinyint(1), n tinyint, doc json)"
        )
    with open_database(url) as db:
        t = db.introspect().tables[0]
    kinds = {c.name: c.kind for c in t.columns}
    assert kinds == {
        "id": ColumnKind.INTEGER,
        "on_off": ColumnKind.BOOLEAN,
        "n": ColumnKind.INTEGER,
        "doc": ColumnKind.JSON,
    }


def test_missing_sqlite_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as err:
        open_database(f"sqlite:///{tmp_path / 'nope.db'}")
    assert "does not exist" in err.value.message and "nope.db" in err.value.message
    assert not (tmp_path / "nope.db").exists()
