"""Verify: no source value in the target's schema objects.

The copy recreates views, functions, triggers, rules, defaults, check constraints,
indexes, enum and domain types and partitions; their definitions are text someone
wrote, and may hold a production value as a literal (``WHERE last_name =
'Ganthriv'`` in a VIP view, a trigger that special-cases a customer's e-mail, a
column ``DEFAULT`` of a staff member's address). ``mask plan``/``lint`` report,
and ``mask run`` refuses (SW520), a definition whose literal the detector takes
for personal data or that holds a source value of a name column, unless the plan
acknowledges it (``_schemanames.judge_definitions``); an acknowledged one is copied.

Comments (PostgreSQL's ``COMMENT ON`` of every object the copy recreates, which
the copy recreates too; MySQL/MariaDB's ``COMMENT`` of tables, columns, indexes,
partitions and routines, which ``SHOW CREATE`` carries) are judged and read the
same way, as text as a whole.

Verify reads those definitions from the target, takes each string literal (and
each comment inside SQL, each comment and enum label, which are text as a whole)
as a value, and looks its
units up in the sensitive set like a cell of the whole-target scan: a literal that
is a masked column's source value, or that holds a detected token of one, is a hit
of that object. So is a word or run of up to four words of a literal or comment
that is such a value as a whole (``-- special case for Ganthriv``: a lone surname
the detector does not know). Reported as table ``(schema)`` and the object as the
column.
Partition bounds are read for LIST partitions only: a RANGE bound is a cut point
(``FROM ('1980-01-01')``), which a birth date of the source may equal by chance;
lint refuses a LIST bound, or a RANGE bound of text, of a masked column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.masking._units import H, contains
from stagewall.masking.db._base import MARKER_TABLE
from stagewall.masking.db._pg_introspect import comments_sql

# (object, text, whether the text is SQL whose string literals are the values)
Definition = tuple[str, str, bool]

_LITERAL = re.compile(r"'((?:[^']|'')*)'")

_SQLITE = """
SELECT type || ' ' || name, sql FROM sqlite_master
WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name <> ?
"""

# user schemas, objects that are not part of an extension
_PG_USER = """
n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
"""
_PG = """
SELECT 'view ' || n.nspname || '.' || c.relname, pg_catalog.pg_get_viewdef(c.oid), true
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND {USER}
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname, p.prosrc, true
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE {USER} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'default ' || n.nspname || '.' || c.relname || '.' || a.attname,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), true
FROM pg_catalog.pg_attrdef ad
JOIN pg_catalog.pg_class c ON c.oid = ad.adrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
WHERE {USER}
UNION ALL
SELECT 'constraint ' || n.nspname || '.' || k.conname, pg_catalog.pg_get_constraintdef(k.oid), true
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace
WHERE k.contype = 'c' AND {USER}
UNION ALL
SELECT 'trigger ' || n.nspname || '.' || t.tgname, pg_catalog.pg_get_triggerdef(t.oid), true
FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND {USER}
UNION ALL
SELECT 'index ' || n.nspname || '.' || c.relname, pg_catalog.pg_get_indexdef(c.oid), true
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('i', 'I') AND {USER}
UNION ALL
SELECT 'rule ' || n.nspname || '.' || r.rulename, pg_catalog.pg_get_ruledef(r.oid), true
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND {USER}
UNION ALL
SELECT 'partition ' || n.nspname || '.' || c.relname,
       pg_catalog.pg_get_expr(c.relpartbound, c.oid), true
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relispartition AND {USER}
  AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES IN (%'
UNION ALL
SELECT 'domain ' || n.nspname || '.' || t.typname, t.typdefault, true
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND t.typdefault IS NOT NULL AND {USER}
UNION ALL
SELECT 'enum ' || n.nspname || '.' || t.typname, e.enumlabel, false
FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE {USER}
UNION ALL
SELECT x.label, x.comment, false FROM ({COMMENTS}) x(label, comment, keyword, object)
""".replace("{USER}", _PG_USER).replace("{COMMENTS}", comments_sql(""))

_MYSQL = """
SELECT CONCAT('view ', TABLE_NAME), VIEW_DEFINITION, 1
FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME), ROUTINE_DEFINITION, 1
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
UNION ALL
SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME), ROUTINE_COMMENT, 0
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_COMMENT <> ''
UNION ALL
SELECT CONCAT('trigger ', TRIGGER_NAME), ACTION_STATEMENT, 1
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
UNION ALL
SELECT CONCAT('default ', TABLE_NAME, '.', COLUMN_NAME), COLUMN_DEFAULT, 1
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_DEFAULT IS NOT NULL
UNION ALL
SELECT CONCAT('type ', TABLE_NAME, '.', COLUMN_NAME), COLUMN_TYPE, 1
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
  AND (DATA_TYPE = 'enum' OR DATA_TYPE = 'set')
UNION ALL
SELECT CONCAT('comment ', TABLE_NAME, '.', COLUMN_NAME), COLUMN_COMMENT, 0
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_COMMENT <> ''
UNION ALL
SELECT CONCAT('comment ', TABLE_NAME), TABLE_COMMENT, 0
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_COMMENT <> ''
  AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
UNION ALL
SELECT CONCAT('constraint ', TABLE_NAME, '.', CONSTRAINT_NAME), CHECK_CLAUSE, 1
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
UNION ALL
SELECT DISTINCT CONCAT('comment ', TABLE_NAME, '.', INDEX_NAME), INDEX_COMMENT, 0
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_COMMENT <> ''
UNION ALL
SELECT CONCAT('partition ', TABLE_NAME, '.', PARTITION_NAME), PARTITION_DESCRIPTION, 1
FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE()
  AND PARTITION_DESCRIPTION IS NOT NULL AND PARTITION_METHOD LIKE 'LIST%'
UNION ALL
SELECT CONCAT('comment ', TABLE_NAME, '.', PARTITION_NAME), PARTITION_COMMENT, 0
FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_COMMENT <> ''
"""


def definitions(db: Any) -> list[Definition]:
    """The target's schema objects' texts (see the module docstring)."""
    if db.backend == "sqlite":
        rows = [(str(o), str(t), True) for o, t in db.select(_SQLITE, (MARKER_TABLE,))]
    elif db.backend == "postgresql":
        rows = [(str(o), str(t), bool(s)) for o, t, s in db.select(_PG) if t is not None]
    else:  # a default is its value, quoted when it is a string (MariaDB) or as it is
        rows = [
            (str(o), text, bool(s) and (not str(o).startswith("default ") or text[:1] == "'"))
            for o, t, s in db.select(_MYSQL)
            if t is not None
            for text in [_text(t)]
        ]
    return [r for r in rows if MARKER_TABLE not in r[0]]


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)


def literals(text: str, sql: bool, dialect: str = "postgresql") -> list[str]:
    """The values of a definition: its string literals (``''`` unescaped) and the
    text of its comments (``-- …``, ``/* … */``, ``# …``: a function body or SQLite's
    CREATE TABLE keeps them as written), or the text itself when it is not SQL (a
    comment, an enum label)."""
    if not sql:
        return [text]
    found, comments, _ = split_sql(text, dialect)
    return found + comments


def split_sql(text: str, dialect: str = "postgresql") -> tuple[list[str], list[str], str]:
    """``(string literals, comments, the text without its comments)`` of SQL.

    Quoted identifiers (``"…"``, `` `…` ``, and SQLite's ``[…]``) and string
    literals are read whole, so a quote inside a comment (``-- don't``) or a comment
    marker inside a literal does not shift what follows; ``#`` starts a comment on
    MySQL/MariaDB only (an operator elsewhere). A comment is replaced by one space."""
    opens = "'\"`[" if dialect == "sqlite" else "'\"`"
    hash_comment = dialect == "mysql"
    found: list[str] = []
    comments: list[str] = []
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in opens:
            close = "]" if ch == "[" else ch
            j = i + 1
            while j < n:
                if text[j] == close:
                    if close != "]" and j + 1 < n and text[j + 1] == close:
                        j += 2
                        continue
                    break
                j += 1
            if ch == "'":
                found.append(text[i + 1 : j].replace("''", "'"))
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("--", i) or (ch == "#" and hash_comment):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append(text[i + (1 if ch == "#" else 2) : j].strip())
            out.append(" ")
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j
            comments.append(text[i + 2 : j].strip())
            out.append(" ")
            i = j + 2
        else:
            j = i + 1
            while j < n and text[j] not in "'\"`[-#/":
                j += 1
            out.append(text[i:j])
            i = j
    return found, [c for c in comments if c], "".join(out)


def definition_hits(
    db: Any,
    sets: Any,
    acknowledged: Mapping[str, str] | None = None,
    sensitive: Callable[[H], npt.NDArray[np.bool_]] | None = None,
) -> dict[str, int]:
    """Object → how many of its literals hold a sensitive unit, or what the detector
    takes for an e-mail, phone or IBAN (in a view, function, procedure, trigger or
    rule: for anything, ``_schemanames.literal_kinds``; a source value or not;
    unless the plan ``acknowledged`` the object). ``sensitive``: which hashes are
    (default: those of ``sets.sensitive``; verify's tells the doubtful units a
    scrubber passes through, see :mod:`._scrublate`)."""
    if sensitive is None:
        sensitive = partial(contains, sets.sensitive)
    from stagewall.masking._schemanames import acknowledged as is_acked
    from stagewall.masking._schemanames import literal_kinds

    defs = definitions(db)
    owners: list[str] = []
    values: list[str] = []
    for obj, text, sql in defs:
        for lit in literals(text, sql, db.backend):
            owners.append(obj)
            values.append(lit)
    if not values:
        return {}
    ack = acknowledged or {}
    patterned = [
        k
        for k, v in enumerate(values)
        if literal_kinds(owners[k], v) and not is_acked(owners[k], ack)
    ]
    units = sets.hasher.flat(values)
    hit = sensitive(units.hashes)
    # the words and runs of words inside each value, looked up as whole values: a
    # lone surname in a comment (``-- special case for Ganthriv``) is no token
    at, grams = phrases(values)
    if grams:
        got = sets.hasher.without_detector().flat(grams)
        inner = np.zeros(len(values), dtype=bool)
        found = got.owner[sensitive(got.hashes)]
        inner[np.asarray(at, dtype=np.int64)[found]] = True
        hit_owners = np.union1d(units.owner[hit], np.flatnonzero(inner))
    else:
        hit_owners = np.unique(units.owner[hit])
    hit_owners = np.union1d(hit_owners, np.asarray(patterned, dtype=np.int64))
    out: dict[str, int] = {}
    for k in hit_owners.tolist():
        out[owners[k]] = out.get(owners[k], 0) + 1
    return out


_WORD = re.compile(r"[^\W_](?:[\w'\u2019.@+-]*[^\W_])?")
MAX_WORDS = 4  # a phrase: a name of up to four words (``Anna van der Berg``)


def phrases(values: list[str]) -> tuple[list[int], list[str]]:
    """``(value number, phrase)`` of every run of 1 to :data:`MAX_WORDS` words of
    each value that is not the value itself: at most four per word of the schema's
    literals and comments, each one keyed hash and one lookup in the sorted
    sensitive set (no detector)."""
    at: list[int] = []
    out: list[str] = []
    for i, value in enumerate(values):
        words = _WORD.findall(value)
        whole = " ".join(words)
        for n in range(1, MAX_WORDS + 1):
            for j in range(len(words) - n + 1):
                gram = " ".join(words[j : j + n])
                if gram != whole:
                    at.append(i)
                    out.append(gram)
    return at, out


__all__ = ["Definition", "definition_hits", "definitions", "literals", "phrases", "split_sql"]
