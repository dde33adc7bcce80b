"""What a column's table says about it: people's data, reference data, fixed lists.

Classification looks at one column; these judge the table around it. A table holds
people's data when its name says so (``customers``, ``staff``), when one of its
columns is named like personal data (e-mail, phone, name parts, street, postcode,
birth date), or when it references such a table (``orders`` → ``customers``).
A table is public reference data when other tables reference it, it holds few
rows and nothing personal (a ``country``, ``genre`` or ``category`` table).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from stagewall.masking.classify._categories import Category
from stagewall.masking.classify._rules import PERSON_TABLES, match_rule
from stagewall.masking.classify._validators import is_card, is_email, is_iban, is_phone
from stagewall.masking.schema import Column, Schema, Table

_PERSONAL = frozenset(
    {Category.EMAIL, Category.PHONE, Category.IBAN, Category.CARD_NUMBER, Category.NATIONAL_ID,
     Category.FIRST_NAME, Category.LAST_NAME, Category.PERSON_NAME, Category.USERNAME,
     Category.STREET_ADDRESS, Category.POSTCODE, Category.DATE_OF_BIRTH, Category.SECRET,
     Category.IP_ADDRESS}
)  # fmt: skip
# A parent table with fewer rows than this can be reference data.
REFERENCE_MAX_ROWS = 1000

Samples = Mapping[tuple[str, str], Sequence[object]]


def _ref_name(fk_schema: str | None, fk_table: str) -> str:
    return f"{fk_schema}.{fk_table}" if fk_schema else fk_table


def _names_personal(table: Table) -> bool:
    if PERSON_TABLES.search(table.name.lower()):
        return True
    for col in table.columns:
        rule = match_rule(col.name, col.kind)
        if rule is not None and rule.category in _PERSONAL:
            return True
    return False


def personal_tables(schema: Schema) -> set[str]:
    """Qualified names of the tables that hold data about people."""
    direct = {t.qualified for t in schema.tables if _names_personal(t)}
    out = set(direct)
    for t in schema.tables:
        if any(_ref_name(fk.ref_schema, fk.ref_table) in direct for fk in t.foreign_keys):
            out.add(t.qualified)
    return out


def about_people(schema: Schema) -> set[str]:
    """Tables whose rows are about a person, so their free text may name that person:
    the row holds personal data itself (by the table's name or its columns), or the
    row belongs to people (it references a table named for them: ``orders`` →
    ``customers``, or one that belongs to them: ``order_lines`` → ``orders``). A
    catalogue that references a supplier with a contact person (``products`` →
    ``suppliers``) is not. A reference the schema does not declare counts as the
    copy and verify take it (:func:`._known_rows.references`: a ticket's ``owner_id``
    whose values are customers' keys): its free text is scrubbed too."""
    from stagewall.masking._known_rows import ANCESTOR_DEPTH, references

    belongs = {t.qualified for t in schema.tables if PERSON_TABLES.search(t.name.lower())}
    out = {t.qualified for t in schema.tables if _names_personal(t)}
    refs = {
        t.qualified: {_ref_name(fk.ref_schema, fk.ref_table) for fk in references(schema, t)}
        for t in schema.tables
    }
    # an order line belongs to people through its order: as far down as the row's
    # own values are handed to text_scrub and searched by verify (ANCESTOR_DEPTH)
    for _ in range(ANCESTOR_DEPTH):
        more = {
            t.qualified
            for t in schema.tables
            if t.qualified not in belongs and refs[t.qualified] & belongs
        }
        if not more:
            break
        belongs |= more
    return out | belongs


def _strong(values: Sequence[object]) -> bool:
    """Some value is, or holds, what verify reads as personal data."""
    from stagewall.masking.classify import detect_in_text

    checks = (is_email, is_phone, is_iban, is_card)
    return any(
        isinstance(v, str) and (any(c(v) for c in checks) or bool(detect_in_text(v)))
        for v in values
    )


def reference_tables(schema: Schema, samples: Samples, personal: set[str]) -> dict[str, str]:
    """``{table: reason}`` for the tables that are public reference data."""
    referenced: dict[str, int] = {}
    for t in schema.tables:
        for fk in t.foreign_keys:
            name = _ref_name(fk.ref_schema, fk.ref_table)
            if name != t.qualified:
                referenced[name] = referenced.get(name, 0) + 1
    out: dict[str, str] = {}
    for t in schema.tables:
        n_refs = referenced.get(t.qualified, 0)
        if not n_refs or t.qualified in personal:
            continue
        rows = max((len(samples.get((t.qualified, c.name), ())) for c in t.columns), default=0)
        if rows == 0 or rows >= REFERENCE_MAX_ROWS:  # a full sample: maybe many more
            continue
        if t.row_estimate is not None and t.row_estimate > REFERENCE_MAX_ROWS:
            continue
        if any(_strong(samples.get((t.qualified, c.name), ())) for c in t.columns):
            continue
        out[t.qualified] = (
            f"reference data: referenced by {n_refs} foreign key{'s' if n_refs > 1 else ''}, "
            f"{rows} rows, no personal data by name or value"
        )
    return out


_ENUM_TYPE = re.compile(r"^\s*(enum|set)\s*\(", re.IGNORECASE)


def fixed_list(table: Table, col: Column) -> str | None:
    """Why ``col`` may only hold values from a fixed list (enum type, ``CHECK … IN``, or
    ``CHECK (col = 'a' OR col = 'b' …)``), or None."""
    if _ENUM_TYPE.match(col.db_type):
        return f"values from a fixed list ({col.db_type.split('(', 1)[0].lower()} type)"
    if col.labels is not None:
        return f"values from a fixed list (enum type {col.db_type})"
    name = re.escape(col.name)
    listed = re.compile(
        rf"[\"`\[]?\b{name}\b[\"`\]]?\)?\s*(?:::[\w ]+\)?\s*)?(?:in\s*\(|=\s*any\s*\()",
        re.IGNORECASE,
    )
    for check in table.check_constraints:
        if listed.search(check):
            return "values from a fixed list (a CHECK constraint lists them)"
        if _equality_chain(check, col.name):
            return "values from a fixed list (a CHECK constraint lists them with = … OR)"
    return None


def _equality_chain(check: str, column: str) -> bool:
    """``check`` lists ``column``'s values as ``column = 'a' OR column = 'b' …`` (the
    world database's continent; PostgreSQL stores ``((continent)::text = 'Asia'::text)``):
    two or more equalities to a literal, joined by OR, and no other use of the column."""
    name = re.escape(column)
    equal = re.compile(
        rf"[\"`\[]?\b{name}\b[\"`\]]?\)?\s*(?:::[\w ]+\)?\s*)?=\s*(?:N|_\w+\s*)?'",
        re.IGNORECASE,
    )
    mentions = len(re.findall(rf"\b{name}\b", check, re.IGNORECASE))
    equals = len(equal.findall(check))
    return equals >= 2 and equals == mentions and re.search(r"\bor\b", check, re.I) is not None


def checked(table: Table, col: Column) -> list[str]:
    """The CHECK constraints that mention ``col``."""
    word = re.compile(rf"\b{re.escape(col.name)}\b", re.IGNORECASE)
    return [c for c in table.check_constraints if word.search(c)]


__all__ = [
    "REFERENCE_MAX_ROWS",
    "about_people",
    "checked",
    "fixed_list",
    "personal_tables",
    "reference_tables",
]
