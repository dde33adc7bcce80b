"""The name side of the undeclared-reference rule (``masking/_references.py``): which
columns are taken by their name, which are candidates whose values decide, and which
are neither (no database: the value check is in test_redteam_references.py)."""

from __future__ import annotations

import pytest

from stagewall.masking._references import by_name, candidates
from stagewall.masking.schema import Column, ColumnKind, Schema, Table

INT, TEXT = ColumnKind.INTEGER, ColumnKind.TEXT


def _table(name: str, *cols: tuple[str, ColumnKind], key: str = "id") -> Table:
    columns = (Column(key, INT, "integer"), *(Column(c, k, k.value) for c, k in cols))
    return Table(None, name, columns, (key,))


PEOPLE = (("first_name", TEXT), ("last_name", TEXT), ("email", TEXT))


def _guesses(parent: str, column: str, kind: ColumnKind = INT) -> tuple[list[str], list[str]]:
    """(tables taken by name, candidates) for ``child.column`` beside ``parent``."""
    schema = Schema(
        "sqlite", (_table(parent, *PEOPLE), _table("child", (column, kind), ("body", TEXT)))
    )
    named = [p.name for _, c, p in by_name(schema) if c.name == column]
    maybe = [u.name for _, c, _, us in candidates(schema) if c.name == column for u in us]
    return named, maybe


@pytest.mark.parametrize(
    ("parent", "column"),
    [
        ("customers", "customer_id"),  # as before
        ("customers", "CustomerID"),
        ("customers", "customerId"),
        ("customers", "customerid"),  # PostgreSQL's unquoted CustomerID
        ("categories", "category_id"),
        ("people", "person_id"),
        ("users", "userid"),
    ],
)
def test_a_name_that_names_a_table_is_taken(parent: str, column: str) -> None:
    assert _guesses(parent, column) == ([parent], [])


@pytest.mark.parametrize(
    ("parent", "column"),
    [
        ("customers", "owner_id"),
        ("customers", "client_id"),
        ("customers", "requester_id"),
        ("customers", "contact_ref"),
        ("users", "person"),
        ("users", "created_by"),
        ("users", "assigned_to"),
        ("customers", "cust_id"),
        ("accounts", "acct_id"),
        ("staff", "manager_staff_id"),
        ("contacts", "contact_ref"),
    ],
)
def test_a_name_that_suggests_one_is_a_candidate(parent: str, column: str) -> None:
    """Its values decide (test_redteam_references.py)."""
    assert _guesses(parent, column) == ([], [parent])


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("status_id", INT),  # no role, no table
        ("ShipVia", INT),
        ("ReportsTo", INT),
        ("paid", INT),
        ("person_id", ColumnKind.DATE),
        ("amount", INT),
    ],
)
def test_other_names_are_neither(column: str, kind: ColumnKind) -> None:
    assert _guesses("customers", column, kind) == ([], [])


@pytest.mark.parametrize("column", ["owner", "customer_ref", "cust_id", "customerid"])
def test_text_beside_a_numbered_key_is_a_candidate_its_values_decide(column: str) -> None:
    """A VARCHAR that may hold a whole-number key as text (``'42'``): a candidate,
    taken only when every value read is a number written as the key writes it
    (test_redteam_relrows.py; before 2026-12-07 it was no candidate, and a customer's
    passport number in such a row's note was copied while verify passed). Not of the
    key's type: lint says nothing of it unread (:func:`typed`)."""
    from stagewall.masking._references import _numbers, typed

    assert _guesses("customers", column, TEXT) == ([], ["customers"])
    schema = Schema(
        "sqlite", (_table("customers", *PEOPLE), _table("child", (column, TEXT), ("body", TEXT)))
    )
    ((_, c, _, maybe),) = candidates(schema)
    assert not typed(c, maybe)
    assert _numbers(["42", "7", 0]) == [42, 7, 0]
    assert _numbers(["42", "042"]) is None
    assert _numbers(["42", "42.0"]) is None
    assert _numbers(["Ana"]) is None


def test_a_role_word_is_no_candidate_of_a_table_without_people() -> None:
    """A role word's candidates hold people: not ``statuses`` (no name, e-mail or
    login), though its key has the column's type."""
    schema = Schema(
        "sqlite",
        (
            _table("statuses", ("label", TEXT)),
            _table("users", *PEOPLE),
            _table("tickets", ("owner_id", INT), ("body", TEXT)),
        ),
    )
    assert [[u.name for u in us] for _, _, _, us in candidates(schema)] == [["users"]]


def test_the_table_itself_is_never_its_own_guess() -> None:
    schema = Schema("sqlite", (_table("customers", ("customer_id", INT), *PEOPLE),))
    assert list(by_name(schema)) == []
    assert list(candidates(schema)) == []
