"""References the schema does not declare: one rule for the planner, the copy,
verify and lint (many applications declare no foreign keys).

A row's known values follow its references (``_known_rows.references``): a
ticket's text is scrubbed of, and searched by verify for, the values of the
customer it names. Without a declared foreign key a column is taken for one in
two ways.

**By its name** (:func:`by_name`): ``<stem>_id`` where the stem names a table of
the schema with a one-column key — ``customer_id`` → ``customers``, as before, and
now also a stem written without a separator or in capitals (``customerid``, how
PostgreSQL keeps Northwind's unquoted ``CustomerID``), and a plural in ``-ies`` or
an irregular one (``category_id`` → ``categories``, ``person_id`` → ``people``); the
new forms only when the column has the key's type. The name says which table is
meant: nothing is read.

**By its name and values** (:func:`candidates`, :func:`checked`): a name that
suggests a reference without saying to which table — a role word (``owner_id``,
``client_id``, ``requester_id``, ``person``, ``created_by``), an abbreviation of one
table's name (``cust_id``, ``acct_id``), a table named after a qualifier
(``manager_staff_id`` → ``staff``) or a reference suffix other than ``id``
(``contact_ref``). Its candidates are the tables it may name (for a role word: the
tables that hold people — a person's name, e-mail or login), with a one-column key of
the column's type, other than its own table. Before it is taken, the column's values
are read in the run's (or verify's) snapshot — the first and the last
:data:`SAMPLE` rows in key order, so the run and verify read the same ones — and it
is taken for a reference to the one candidate whose key holds *every* value read;
when none does, or several do (customers and users both numbered 1-40), nothing is
taken and lint says why (``undeclared-reference``). A ``status_id`` is no candidate:
it is no role word and names no table.

A role word of a table of people has that table among its candidates too (a
customer's ``referred_by``: a self-reference), and a text column is a candidate of
a whole-number key when every value read is a number written as the key writes it
(``customer_ref = '42'``). **Polymorphic references** (:func:`polymorphic_pairs`):
``<x>_type`` and ``<x>_id`` as Rails writes them (``commentable_type = 'Customer'``)
are taken, for each type value read that names a table whose key holds every id read
beside it, as a reference of the rows of that type (a foreign key with a ``tag``).

A wrong guess hands a row another row's values: more is replaced and searched,
nothing less. A missed one leaves the row's text unscrubbed and unsearched for its
person's own values, which is why lint names every candidate not taken.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from typing import Any

from stagewall.masking.classify._categories import Category
from stagewall.masking.classify._rules import PERSON_TABLES, match_rule, split_name
from stagewall.masking.schema import CheckedReference, Column, ForeignKey, Schema, Table
from stagewall.masking.types import ColumnKind

# the rows of a column read for the value check, from each end of its table's key
SAMPLE = 500
# suffixes that make a column a reference to what the rest of its name says
SUFFIXES = frozenset({"id", "ref", "key", "fk", "no", "nr", "num", "number"})
# words that name a person's role in a row: the row refers to someone of the
# schema's people (owner_id, requester_id, person, patient)
ROLES = frozenset(
    {"owner", "client", "user", "person", "patient", "member", "contact", "author",
     "assignee", "requester", "requestor", "reporter", "customer", "buyer", "seller",
     "recipient", "sender", "creator", "holder", "subscriber", "guest", "student",
     "employee", "staff", "agent", "applicant", "tenant", "participant", "attendee",
     "submitter", "approver", "reviewer", "manager", "account", "candidate",
     "passenger", "consultant", "advisor", "adviser", "caller", "beneficiary",
     "insured", "policyholder", "learner", "teacher", "doctor", "physician", "nurse"}
)  # fmt: skip
# plurals that are not the word with -s, -es or -ies
IRREGULAR = {
    "person": "people",
    "man": "men",
    "woman": "women",
    "child": "children",
    "staff": "staff",
    "datum": "data",
    "index": "indices",
}
# what makes a table one that holds people (a role word's candidates)
_PEOPLE = frozenset(
    {Category.FIRST_NAME, Category.LAST_NAME, Category.PERSON_NAME, Category.EMAIL,
     Category.USERNAME}
)  # fmt: skip
# kinds a key may have (a reference of another kind is no candidate)
_KEYS = frozenset({ColumnKind.INTEGER, ColumnKind.TEXT, ColumnKind.UUID, ColumnKind.OTHER})


def _compact(name: str) -> str:
    return "".join(split_name(name))


def forms(stem: str) -> tuple[str, ...]:
    """The names a table of ``stem`` (compact, lower case) may have: the stem, its
    plurals (-s, -es, -y → -ies, irregular ones)."""
    out = [stem, f"{stem}s", f"{stem}es"]
    if stem.endswith("y") and len(stem) > 2:
        out.append(f"{stem[:-1]}ies")
    if stem in IRREGULAR:
        out.append(IRREGULAR[stem])
    return tuple(out)


def _fits(col: Column, key: Column) -> bool:
    """``col`` can hold ``key``'s values (the same kind; SQLite's untyped columns
    fit any)."""
    if col.kind is ColumnKind.OTHER or key.kind is ColumnKind.OTHER:
        return col.kind in _KEYS and key.kind in _KEYS
    return col.kind is key.kind and col.kind in _KEYS


def _fits_valued(col: Column, key: Column) -> bool:
    """``col`` can hold ``key``'s values, the values to be checked: as :func:`_fits`,
    or a text column beside a whole-number key (an application keeping ``'42'`` in a
    VARCHAR: each value read must then be a whole number written plainly, see
    :func:`_numbers`)."""
    return _fits(col, key) or (col.kind is ColumnKind.TEXT and key.kind is ColumnKind.INTEGER)


_PLAIN_NUMBER = re.compile(r"(?:0|-?[1-9][0-9]{0,17})")


def _numbers(values: list[object]) -> list[object] | None:
    """``values`` (text read from a column checked against a whole-number key) as
    numbers, or None when one is not a whole number written plainly (``42``, not
    ``042`` or ``42.0``: the key's own text form, :func:`._known_rows.canon`)."""
    out: list[object] = []
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
        elif isinstance(v, str) and _PLAIN_NUMBER.fullmatch(v):
            out.append(int(v))
        else:
            return None
    return out


def _key(t: Table) -> Column | None:
    return t.column(t.primary_key[0]) if len(t.primary_key) == 1 else None


def holds_people(t: Table) -> bool:
    """Rows of ``t`` are people: a column of a person's name, e-mail or login, or a
    plain ``name`` in a table named for people (``users``, ``patients``)."""
    for c in t.columns:
        rule = match_rule(c.name, c.kind)
        if rule is not None and rule.category in _PEOPLE:
            return True
    return bool(PERSON_TABLES.search(t.name.lower())) and t.column("name") is not None


_Index = dict[tuple[str | None, str], Table]


class _Names:
    """The schema's tables by name, compact and lower-case (one of the column's own
    schema first)."""

    def __init__(self, schema: Schema) -> None:
        self.legacy: dict[tuple[str | None, str], Table] = {}
        self.compact: dict[tuple[str | None, str], Table] = {}
        self.first: dict[str, list[tuple[str, Table]]] = {}  # first letter → (name, table)
        for u in schema.tables:
            name = _compact(u.name)
            self.first.setdefault(name[:1], []).append((name, u))
            for key, index in ((u.name.lower(), self.legacy), (_compact(u.name), self.compact)):
                index[(u.schema, key)] = u
                index[(None, key)] = u  # (any schema's: the last of the name, as before)

    @staticmethod
    def find(index: _Index, t: Table, names: Sequence[str]) -> Table | None:
        for n in names:
            if (t.schema, n) in index:
                return index[(t.schema, n)]
        return next((index[(None, n)] for n in names if (None, n) in index), None)


def by_name(schema: Schema, only: Table | None = None) -> Iterator[tuple[Table, Column, Table]]:
    """``(table, column, parent)`` for each column (of ``only``, default every table)
    with no foreign key declared whose name names its parent: ``<stem>_id`` where a
    table of the stem exists (``customer_id`` → ``customer``, ``customers``,
    ``customeres``, as lint has guessed since 2026-12-05); or, the column having the
    key's type, the stem written without a separator (``customerid``) or with a
    plural in -ies or an irregular one (``category_id``, ``person_id`` → ``people``).
    Not the table itself."""
    names = _Names(schema)
    for t in schema.tables if only is None else (only,):
        declared = {c for fk in t.foreign_keys for c in fk.columns}
        for c in t.columns:
            if c.name in declared:
                continue
            parent = _named(names, t, c)
            if parent is not None and parent is not t:
                yield t, c, parent


def _named(names: _Names, t: Table, c: Column) -> Table | None:
    words = split_name(c.name)
    if len(words) >= 2 and words[-1] == "id":
        stem = "_".join(words[:-1])
        old = names.find(names.legacy, t, (stem, f"{stem}s", f"{stem}es"))
        if old is not None:
            return old
        compact = "".join(words[:-1])
    elif len(words) == 1 and len(words[0]) > 4 and words[0].endswith("id"):
        compact = words[0][:-2]  # customerid, userid
    else:
        return None
    parent = names.find(names.compact, t, forms(compact))
    key = _key(parent) if parent is not None else None
    return parent if key is not None and _fits(c, key) else None


def candidates(schema: Schema) -> Iterator[tuple[Table, Column, str, tuple[Table, ...]]]:
    """``(table, column, why, candidates)`` for each column with no foreign key
    declared that :func:`by_name` does not take but whose name suggests a reference
    (see the module's text): the tables it may name, each with a one-column key of
    the column's type, other than its own. Nothing is read."""
    names = _Names(schema)
    people = _Lazy(schema)
    for t in schema.tables:
        declared = {c for fk in t.foreign_keys for c in fk.columns}
        for c in t.columns:
            if c.name in declared or c.kind not in _KEYS or _named(names, t, c) is not None:
                continue
            found = _suggested(names, t, c, people)
            if found is None:
                continue
            why, maybe = found
            # the row's own table too, for a person's role in a table of people (a
            # customer's referred_by, an employee's manager_id): a self-reference
            own = maybe is people.found and t in maybe
            fit = tuple(
                u
                for u in maybe
                if (u is not t or own) and (k := _key(u)) is not None and _fits_valued(c, k)
            )
            if fit:
                yield t, c, why, fit


class _Lazy:
    """The tables that hold people (:func:`holds_people`), found when first asked."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.found: list[Table] | None = None

    def __call__(self) -> list[Table]:
        if self.found is None:
            self.found = [u for u in self.schema.tables if holds_people(u)]
        return self.found


def _suggested(names: _Names, t: Table, c: Column, people: _Lazy) -> tuple[str, list[Table]] | None:
    """What in ``c``'s name suggests a reference, and the tables it may name."""
    words = split_name(c.name)
    if not words:
        return None
    if len(words) >= 2 and words[-1] in SUFFIXES:
        stem = words[:-1]
    elif len(words) == 1 and len(words[0]) > 5 and words[0].endswith(("ref", "key")):
        stem = [words[0][:-3]]  # ownerref
    elif len(words) == 1 and len(words[0]) > 4 and words[0].endswith("id"):
        stem = [words[0][:-2]]  # ownerid
    elif len(words) == 2 and words[1] == "by" and words[0].endswith("ed"):
        return f"{c.name!r} names who did it", people()  # created_by, approved_by
    elif len(words) == 2 and words[1] == "to" and words[0] == "assigned":
        return f"{c.name!r} names a person", people()
    elif len(words) == 1 and words[0] in ROLES:
        stem = words  # person, owner, client
    else:
        return None
    # the stem, or its last words, name a table: contact_ref, manager_staff_id
    for i in range(len(stem)):
        parent = names.find(names.compact, t, forms("".join(stem[i:])))
        if parent is not None and parent is not t:
            return f"{'_'.join(stem[i:])!r} names {parent.qualified}", [parent]
    roles = [w for w in stem if w in ROLES]
    if roles:
        return f"{roles[-1]!r} is a person's role", people()
    short = "".join(stem)
    if len(stem) == 1 and len(short) >= 3:
        shortened = [u for name, u in names.first.get(short[0], ()) if _abbreviates(short, name)]
        if shortened:
            return f"{short!r} shortens a table's name", shortened
    return None


def _abbreviates(short: str, name: str) -> bool:
    """``short`` is ``name`` shortened (its first letter, then some of its others in
    order: ``cust`` customers, ``acct`` accounts, ``usr`` users), not the name itself."""
    if len(short) >= len(name) or short[0] != name[0]:
        return False
    rest = iter(name[1:])
    return all(ch in rest for ch in short[1:])


# ---- the value check -------------------------------------------------------------


def checked(db: Any, schema: Schema) -> Schema:
    """``schema`` with each of :func:`candidates` checked against ``db``'s values
    (in the read transaction the caller began: the run's or verify's snapshot):
    taken for a reference to the one candidate whose key holds every value read."""
    out = []
    for t, c, why, maybe in candidates(schema):
        values = _values(db, t, c)
        holding = []
        missing: list[tuple[str, int]] = []
        asks = {u.qualified: _asked(c, u, values) for u in maybe}
        if not _fits_any(c, maybe) and (not values or all(a is None for a in asks.values())):
            continue  # (text that is no number, or none read: no candidate of a numbered key)
        for u in maybe if values else ():
            asked = asks[u.qualified]
            have = _present(db, u, u.primary_key[0], asked) if asked is not None else 0
            if have == len(values):
                holding.append(u.qualified)
                if len(holding) > 1:
                    break  # (two fit: which one is meant is not known)
            else:
                missing.append((u.qualified, len(values) - have))
        n = len(values)
        parent = holding[0] if len(holding) == 1 else None
        if not values:
            evidence = "no value was read to check it"
        elif parent is not None:
            evidence = f"each of the {n} distinct values read is a key of {parent}"
        elif holding:
            evidence = (
                f"each of the {n} distinct values read is a key of {' and of '.join(holding)}"
            )
        else:
            evidence = "; ".join(
                f"{m} of the {n} distinct values read are no key of {q}" for q, m in missing
            )
        out.append(
            CheckedReference(
                t.qualified, c.name, why, tuple(u.qualified for u in maybe), parent, evidence
            )
        )
    out += _polymorphic_checked(db, schema)
    return dataclasses.replace(schema, checked=tuple(out))


def typed(c: Column, maybe: Sequence[Table]) -> bool:
    """``c`` has the type of one of the keys of ``maybe`` (not only text beside
    whole-number keys, a candidate only for values that are numbers)."""
    return _fits_any(c, maybe)


def _fits_any(c: Column, maybe: Sequence[Table]) -> bool:
    """``c`` has the type of one of the keys of ``maybe`` (not only text beside
    whole-number keys)."""
    return any((k := _key(u)) is not None and _fits(c, k) for u in maybe)


def _asked(c: Column, u: Table, values: list[object]) -> list[object] | None:
    """``values`` as looked up in ``u``'s key: text beside a whole-number key as
    numbers (None when one is none: no value of such a column is a key)."""
    key = _key(u)
    if c.kind is ColumnKind.TEXT and key is not None and key.kind is ColumnKind.INTEGER:
        return _numbers(values)
    return values


def _values(db: Any, t: Table, c: Column) -> list[object]:
    """The distinct non-null values of ``c`` in the first and last :data:`SAMPLE` rows
    of ``t`` in key order (a table without a key: the planner's sample)."""
    from stagewall.masking._known_rows import canon

    if t.primary_key:
        order = ", ".join(db.q(k) for k in t.primary_key)
        desc = ", ".join(f"{db.q(k)} DESC" for k in t.primary_key)
        base = f"SELECT {db.q(c.name)} FROM {db.qt(t)} WHERE {db.q(c.name)} IS NOT NULL ORDER BY "  # noqa: S608 - identifiers quoted by q()
        rows = db.select(f"{base}{order} LIMIT {SAMPLE}") + db.select(
            f"{base}{desc} LIMIT {SAMPLE}"
        )
        got = [r[0] for r in rows]
    else:
        got = [v for v in db.sample(t, [c.name], 2 * SAMPLE)[c.name] if v is not None]
    return list({canon(v): v for v in got}.values())


def _present(db: Any, u: Table, key: str, values: list[object]) -> int:
    """How many of ``values`` are keys of ``u`` (looked up by the key, 500 at a time)."""
    from stagewall.masking._known_rows import canon

    if not values:
        return 0
    base = f"SELECT {db.q(key)} FROM {db.qt(u)} WHERE {db.q(key)} IN "  # noqa: S608 - identifiers quoted by q()
    if db.placeholder == "%s":  # a % in a name is no placeholder
        base = base.replace("%", "%%")
    found: set[str] = set()
    for i in range(0, len(values), 500):
        part = values[i : i + 500]
        marks = ", ".join([db.placeholder] * len(part))
        found.update(canon(r[0]) for r in db.select(f"{base}({marks})", part))
    return len(found)


# ---- polymorphic references ------------------------------------------------------

# the values of a type column read, from each end of its table's key
TYPE_SAMPLE = 200


def polymorphic_pairs(schema: Schema) -> Iterator[tuple[Table, Column, Column]]:
    """``(table, type column, id column)`` of each pair ``<x>_type`` (text) and
    ``<x>_id`` with no foreign key declared, as Rails writes a polymorphic reference
    (``commentable_type = 'Customer'``, ``commentable_id = 42``), in a table with a key."""
    for t in schema.tables:
        declared = {c for fk in t.foreign_keys for c in fk.columns}
        if not t.primary_key:
            continue
        for c in t.columns:
            words = split_name(c.name)
            if len(words) < 2 or words[-1] != "type" or c.kind is not ColumnKind.TEXT:
                continue
            stem = words[:-1]
            ident = next((u for u in t.columns if split_name(u.name) == [*stem, "id"]), None)
            if ident is not None and ident.name not in declared and ident.kind in _KEYS:
                yield t, c, ident


def _type_table(names: _Names, t: Table, value: str, ident: Column) -> Table | None:
    """The table a type column's value names (``Customer``, ``Admin::User`` → its last
    part), with a one-column key of the id column's type."""
    last = value.rsplit("::", 1)[-1].rsplit(".", 1)[-1]
    words = split_name(last)
    if not words or not all(w.isalpha() for w in words):
        return None
    u = names.find(names.compact, t, forms("".join(words)))
    k = _key(u) if u is not None else None
    return u if k is not None and _fits(ident, k) else None


def _polymorphic_checked(db: Any, schema: Schema) -> list[CheckedReference]:
    """Each pair of :func:`polymorphic_pairs`, for each type named in the values read
    (the first and last :data:`TYPE_SAMPLE` rows): taken for a reference to the table
    the type names when each id read beside it (the first and last :data:`SAMPLE`) is
    a key of it."""
    from stagewall.masking._known_rows import canon

    names = _Names(schema)
    out: list[CheckedReference] = []
    for t, kind, ident in polymorphic_pairs(schema):
        if _named(names, t, ident) is not None:
            continue  # (its name names a table: by_name's)
        order = ", ".join(db.q(k) for k in t.primary_key)
        desc = ", ".join(f"{db.q(k)} DESC" for k in t.primary_key)
        kq, iq = db.q(kind.name), db.q(ident.name)
        base = f"SELECT {kq} FROM {db.qt(t)} WHERE {kq} IS NOT NULL ORDER BY "  # noqa: S608 - identifiers quoted by q()
        got = db.select(f"{base}{order} LIMIT {TYPE_SAMPLE}")
        got += db.select(f"{base}{desc} LIMIT {TYPE_SAMPLE}")
        tags = sorted({v for (v,) in got if isinstance(v, str)})
        why = f"{kind.name!r} and {ident.name!r} are a polymorphic reference"
        head = f"SELECT {iq} FROM {db.qt(t)} WHERE {iq} IS NOT NULL AND {kq} = "  # noqa: S608 - identifiers quoted by q()
        tail = " ORDER BY "
        if db.placeholder == "%s":  # a % in a name is no placeholder
            head, order, desc = (x.replace("%", "%%") for x in (head, order, desc))
        for tag in tags:
            u = _type_table(names, t, tag, ident)
            if u is None:
                continue
            sel = f"{head}{db.placeholder}{tail}"
            rows = db.select(f"{sel}{order} LIMIT {SAMPLE}", [tag])
            rows += db.select(f"{sel}{desc} LIMIT {SAMPLE}", [tag])
            values = list({canon(r[0]): r[0] for r in rows}.values())
            have = _present(db, u, u.primary_key[0], values)
            n = len(values)
            taken_ = bool(values) and have == n
            evidence = (
                f"each of the {n} distinct ids read beside {tag!r} is a key of {u.qualified}"
                if taken_
                else f"{n - have} of the {n} distinct ids read beside {tag!r} are no key "
                f"of {u.qualified}"
            )
            out.append(
                CheckedReference(
                    t.qualified, ident.name, why, (u.qualified,),
                    u.qualified if taken_ else None, evidence, kind.name, tag,
                )
            )  # fmt: skip
    return out


# ---- what the copy and verify follow ---------------------------------------------


def taken(schema: Schema, polymorphic: bool = True) -> Iterator[tuple[Table, Column, Table, str]]:
    """``(table, column, parent, why)`` of every undeclared reference taken: by
    :func:`by_name`, and the :func:`checked` ones whose values named one parent (a
    polymorphic one, unless ``polymorphic`` is false, by its id column: only the rows
    whose type names the parent reference it, see :func:`guessed`)."""
    for t, c, parent in by_name(schema):
        yield t, c, parent, f"its name names {parent.qualified}"
    for g in schema.checked or ():
        if g.parent is None or (g.tag is not None and not polymorphic):
            continue
        child, up = schema.table(g.table), schema.table(g.parent)
        col = child.column(g.column) if child is not None else None
        if child is not None and up is not None and col is not None:
            yield child, col, up, f"{g.why}, and {g.evidence}"


# the references of the last schemas asked about, by identity (a schema is walked
# once, not once per table and lookup: parents_of and children_of ask for every
# table's references, for every table)
_GUESSED: dict[int, tuple[Schema, dict[str, tuple[ForeignKey, ...]]]] = {}


def guessed(schema: Schema) -> dict[str, tuple[ForeignKey, ...]]:
    """Table (qualified) → the undeclared references of its rows that known values
    follow (:func:`taken`), as foreign keys to a one-column primary key."""
    hit = _GUESSED.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    out: dict[str, tuple[ForeignKey, ...]] = {}
    for t, c, parent, _ in taken(schema, polymorphic=False):
        if len(parent.primary_key) == 1:
            fk = ForeignKey(None, (c.name,), parent.schema, parent.name, parent.primary_key)
            out[t.qualified] = (*out.get(t.qualified, ()), fk)
    for g in schema.checked or ():  # polymorphic: (type, id) → the key, type = tag
        child, up = schema.table(g.table), schema.table(g.parent or "")
        if g.tag is None or g.type_column is None or child is None or up is None:
            continue
        cols = (g.type_column, g.column)
        fk = ForeignKey(None, cols, up.schema, up.name, up.primary_key, tag=g.tag)
        out[g.table] = (*out.get(g.table, ()), fk)
    if len(_GUESSED) >= 8:
        _GUESSED.clear()
    _GUESSED[id(schema)] = (schema, out)  # (holding the schema: its id stays its own)
    return out


__all__ = [
    "IRREGULAR",
    "ROLES",
    "SAMPLE",
    "SUFFIXES",
    "by_name",
    "candidates",
    "checked",
    "forms",
    "guessed",
    "holds_people",
    "polymorphic_pairs",
    "taken",
    "typed",
]
