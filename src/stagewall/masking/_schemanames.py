"""Personal data in the schema itself: object names, and literals the copy recreates.

The copy recreates every schema, table, column, partition, index, constraint,
view, function, trigger and type under the name it has on the source. A name
is text someone chose, and may be personal data: a partition per customer
(``orders_p_maria_gonzalez``), an export table (``export_john_smith_2024``), a
column or a tenant schema named by an e-mail address. No transformer rewrites a
name, so such an object is refused before any row moves (SW520), unless the plan
acknowledges it under ``acknowledged:`` with the reason it is not personal.

A name is personal when

- the detector finds an e-mail, phone number or IBAN in it (``_`` read as a space), or
- a run of two to four of its words (split at ``_``, punctuation, digits and
  camel case) is a value of a column the plan masks as a name (``full_name``,
  ``first_name``, ``last_name``), or two adjacent ones are the first and last
  name of one source row (:mod:`._namepairs`: ``max_price`` beside a Max Price,
  not beside a Max Young and a Mark Price): the words
  are looked up in the source database itself (one read of each such column for
  the values equal to a word, one for those beyond ASCII: case- and
  accent-insensitive, :func:`fold`; on PostgreSQL one read of each table for all
  its name and e-mail columns, :func:`source_values`), so no sample is needed; or
- a lone word of it is such a value (``tenant_maria``, ``export_ganthriv``,
  ``smith_orders``), unless it is an ordinary English or technical word
  (``grace`` of ``grace_period``: :mod:`._ordinary`) or a word the schema uses in
  two places or more (the column names of two tables, the texts of two
  definitions that do more than declare objects: :func:`vocabulary`,
  :func:`uses`): a name is often an ordinary word (``price``, ``day``), and the
  schema's own words are likely what the schema is about. Such a word is judged
  when a word next to it names people (``tenant_grace``, ``customers_june``:
  :func:`._ordinary.names_people`), however often the schema writes it, and is
  silent when used in a reviewed technical sense beside its neighbour
  (``grace_period``, ``max_length``, ``max_users``: :func:`._ordinary.technical`),
  and otherwise a finding to acknowledge in each object holding it
  (``Finding.confirm``: ``grace_rebate`` and ``grace_notes`` beside a customer
  called Grace; silent when no source name is Grace) — but for a frequent English
  word the schema uses in two places (:func:`terms`: Pagila's ``film_list.price``),
  silent unless the name has a per-person shape (:func:`per_person`:
  ``young_rebate``, ``young_report``, a table ``young``): repetition is no proof by itself
  (:func:`terms` says why); or
- it holds the local part of a source e-mail (of a column the plan masks as an
  e-mail), read without its separators (``anna_k``, ``annak`` for
  ``anna.k@example.com``; :func:`local_hit`).

Defaults, check constraints, index definitions (their predicates and
expressions), partition bounds and domain defaults are copied whatever they hold,
and so are the views, functions, procedures, triggers, rules and comments
(``COMMENT ON``; MySQL/MariaDB's ``COMMENT`` clauses) of a PostgreSQL
or MySQL/MariaDB source copied into the same engine (:data:`DERIVED_DEFINITIONS`,
:func:`recreates_derived`): a string literal in one
that the detector takes for an e-mail, phone or IBAN (in a view, function,
procedure, trigger or rule: for anything, :func:`literal_kinds`), or that is or
holds a source value of a name column (a lone word of no English list however
often the schema writes it: :func:`literal_words`) or a source e-mail's local
part, is refused the same way; one holding a reviewed ordinary word that is a
source name (``'days of grace'``) is a finding to acknowledge, and a frequent
English word counts beside a word naming people only; either, written as a proper
noun mid-sentence (``'Ask Young about the rebate'``, :func:`proper_words`) or
opening a sentence as the subject of a person's verb (``'Young called about the
rebate.'``, :func:`sentence_subjects`), is judged as a name (:func:`judge_definitions`).
An acknowledged one is copied. Verify reads every definition of the target.

Messages never show the name or the literal: an object is named by its kind,
its owner and its place among its siblings (``partition #2 of public.orders``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from stagewall.masking.db._base import MARKER_TABLE
from stagewall.masking.plan import Plan
from stagewall.masking.schema import Schema

# transformers of columns whose values are people's names
NAME_TRANSFORMERS = frozenset({"full_name", "first_name", "last_name"})
MAX_RUN = 4  # a name of up to four words (``Anna van der Berg``)
# definitions the copy recreates without looking at them (views, functions,
# triggers and rules holding what looks like personal data are skipped by it)
COPIED_DEFINITIONS = frozenset({"default", "constraint", "index", "partition", "domain", "table"})
# definitions the PostgreSQL and MySQL/MariaDB copies recreate over the masked tables,
# and the objects' comments (``COMMENT ON``; MySQL/MariaDB's ``COMMENT`` clauses)
DERIVED_DEFINITIONS = frozenset({"view", "function", "procedure", "trigger", "rule", "comment"})
# the labels of a PostgreSQL enum type (``enum public.mood``, one label a text) and
# the type of a MySQL/MariaDB ENUM or SET column (``type orders.kind``, its labels
# the literals of ``enum('a','b')``): recreated by a copy into the same engine,
# judged as a literal of a copied definition (default, check)
TYPE_DEFINITIONS = frozenset({"enum", "type"})


@dataclass(frozen=True, order=True)
class Named:
    """A named schema object: ``kind`` (``table``, ``column``, ...), the names of
    what it belongs to (``("public", "orders")`` for a column), and its name."""

    kind: str
    owner: tuple[str, ...]
    name: str

    @property
    def label(self) -> str:
        """How the plan's ``acknowledged:`` names it: ``column public.orders.email``."""
        return f"{self.kind} {'.'.join((*self.owner, self.name))}"


@dataclass(frozen=True)
class Finding:
    """A schema object holding personal data; ``what`` says which kind, never the value."""

    label: str  # the object's full name, for the plan's ``acknowledged:`` only
    shown: str  # the object named without its value (for messages and reports)
    what: str
    part: str = "name"  # "name", or "definition" (a literal of it)
    name: str = ""  # the reported name itself (a name finding): never shown
    # an ordinary word that is a source name, alone: likely a word, maybe a person;
    # a warning of plan and lint, refused by the run (SW528) until acknowledged
    confirm: bool = False


def hiding(findings: Sequence[Finding], text: str) -> str:
    """``text`` (an object's label) with every reported name in it hidden."""
    for name in sorted({f.name for f in findings if f.name}, key=len, reverse=True):
        text = text.replace(name, "<reported name>")
    return text


# ---- reading the names ------------------------------------------------------------

_PG_NOT_EXT = """NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = {cls}
  AND d.objid = {oid} AND d.deptype = 'e')"""
_PG_USER = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"
)
_PG = """
SELECT 'schema', '', n.nspname FROM pg_catalog.pg_namespace n WHERE {USER}
  AND {EXT_NS}
UNION ALL
SELECT CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind IN ('v', 'm') THEN 'view'
  WHEN c.relkind IN ('i', 'I') THEN 'index' WHEN c.relkind = 'S' THEN 'sequence'
  WHEN c.relkind = 'c' THEN 'type' ELSE 'table' END, n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'c', 'f') AND {USER}
  AND {EXT_CLASS}
UNION ALL
SELECT 'column', n.nspname || '.' || c.relname, a.attname
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND NOT c.relispartition
  AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND {USER}
  AND {EXT_CLASS}
UNION ALL
SELECT 'constraint', n.nspname || COALESCE('.' || c.relname, ''), k.conname
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace
LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
WHERE k.contype IN ('c', 'f', 't') AND {USER} AND (c.oid IS NULL OR NOT c.relispartition)
UNION ALL
SELECT 'trigger', n.nspname || '.' || c.relname, t.tgname
FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {USER}
UNION ALL
SELECT 'rule', n.nspname || '.' || c.relname, r.rulename
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND {USER}
UNION ALL
SELECT 'function', n.nspname, p.proname
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE {USER} AND {EXT_PROC}
UNION ALL
SELECT 'type', n.nspname, t.typname
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'r') AND {USER}
  AND {EXT_TYPE}
"""
for _token, _cls, _oid in (
    ("{EXT_NS}", "pg_namespace", "n.oid"),
    ("{EXT_CLASS}", "pg_class", "c.oid"),
    ("{EXT_PROC}", "pg_proc", "p.oid"),
    ("{EXT_TYPE}", "pg_type", "t.oid"),
):
    _PG = _PG.replace(_token, _PG_NOT_EXT.format(cls=f"'pg_catalog.{_cls}'::regclass", oid=_oid))
_PG = _PG.replace("{USER}", _PG_USER)

_MYSQL = """
SELECT IF(TABLE_TYPE = 'VIEW', 'view', 'table'), '', TABLE_NAME
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT 'column', TABLE_NAME, COLUMN_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT DISTINCT 'index', TABLE_NAME, INDEX_NAME
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY'
UNION ALL
SELECT 'constraint', TABLE_NAME, CONSTRAINT_NAME
FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
  AND CONSTRAINT_TYPE IN ('CHECK', 'FOREIGN KEY')
UNION ALL
SELECT 'trigger', EVENT_OBJECT_TABLE, TRIGGER_NAME
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
UNION ALL
SELECT LOWER(ROUTINE_TYPE), '', ROUTINE_NAME
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
UNION ALL
SELECT 'partition', TABLE_NAME, PARTITION_NAME
FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL
UNION ALL
SELECT 'partition', TABLE_NAME, SUBPARTITION_NAME
FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE()
  AND SUBPARTITION_NAME IS NOT NULL
"""

_SQLITE = """
SELECT type, CASE WHEN type IN ('index', 'trigger') THEN tbl_name ELSE '' END, name, sql
FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'
"""
_SQLITE_COLUMNS = """
SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite!_%' ESCAPE '!'
"""
# SQLite keeps constraint names only in the CREATE TABLE text
_CONSTRAINT = re.compile(r'\bCONSTRAINT\s+("(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[\w$]+)', re.I)


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)


def named_objects(db: Any, schemas: Sequence[str] | None = None) -> list[Named]:
    """Every named object of ``db``'s user schemas (only ``schemas`` on
    PostgreSQL, when given), except stagewall's own marker table."""
    from stagewall.masking._definitions import split_sql

    out: list[Named] = []
    if db.backend == "postgresql":
        for kind, owner, name in db.select(_PG):
            out.append(Named(str(kind), tuple(str(owner).split(".", 1)) if owner else (), name))
    elif db.backend == "mysql":
        for kind, owner, name in db.select(_MYSQL):
            out.append(Named(_text(kind), (_text(owner),) if owner else (), _text(name)))
    else:
        for kind, owner, name, sql in db.select(_SQLITE):
            out.append(Named(str(kind), (str(owner),) if owner else (), str(name)))
            if kind == "table" and sql:
                code = split_sql(str(sql), "sqlite")[2]
                for m in _CONSTRAINT.finditer(code):
                    raw = m.group(1)
                    unq = raw[1:-1] if raw[0] in '"`[' else raw
                    out.append(Named("constraint", (str(name),), unq))
        out += [Named("column", (str(t),), str(c)) for t, c in db.select(_SQLITE_COLUMNS)]
    out = [o for o in out if MARKER_TABLE not in (o.name, *o.owner)]
    if schemas and db.backend == "postgresql":
        wanted = set(schemas)
        out = [o for o in out if (o.owner[0] if o.owner else o.name) in wanted]
    return sorted(set(out))


# ---- judging them -------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")


def fold(text: str) -> str:
    """``text`` lower-cased, without accents (``Gänthriv`` is ``ganthriv``)."""
    low = text.lower()
    if low.isascii():
        return low
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


def _words(name: str) -> list[str | None]:
    """The name's folded letter words (:func:`fold`); ``None`` where digits (or a
    one-letter word) break a run."""
    out: list[str | None] = []
    for t in _TOKEN.findall(_CAMEL.sub(" ", name)):
        out.append(fold(t) if not t.isdigit() and len(t) > 1 else None)
    return out


def words(names: Iterable[str]) -> set[str]:
    """Every word of ``names`` (:func:`_words`): what a lone word is looked up as."""
    return {w for name in names for w in _words(name) if w is not None}


def vocabulary(objects: Sequence[Named], texts: Iterable[str] = ()) -> set[str]:
    """The schema's own words: those used in two places or more, a place being the
    column names of one table (``price`` of ``unit_price`` and ``list_price``,
    ``last`` of ``last_name`` and ``last_update``) or the text of one definition
    (``texts``: a view's, a function's; ``day`` of two functions' ``'1 day'``). A
    lone word among them names what the schema is about, not a person; a person's
    name is written once (names made from one, such as an index's, are no place)."""
    places: dict[str, set[object]] = {}
    for o in objects:
        if o.kind == "column":
            for w in _words(o.name):
                if w is not None:
                    places.setdefault(w, set()).add(o.owner)
    for k, text in enumerate(texts):
        for w in _words(text):
            if w is not None:
                places.setdefault(w, set()).add(k)
    return {w for w, where in places.items() if len(where) > 1}


def lone_hit(name: str, lone: set[str]) -> bool:
    """Whether a single word of ``name`` is a looked-up value in ``lone``."""
    return any(w is not None and w in lone for w in _words(name))


def word_hit(
    name: str,
    words_: set[str],
    terms: frozenset[str] | set[str] = frozenset(),
    known: set[str] | None = None,
    kind: str = "",
) -> str | None:
    """Whether a word of ``name`` is one of ``words_`` (ordinary words that are source
    names, :func:`ordinary_words`): ``"person"`` when a word next to it names people
    (``tenant_grace``), ``"word"`` otherwise (``grace_rebate``), ``None`` if none is.
    A word used in a standard technical sense beside its neighbours is none
    (``grace_period``, ``max_length``, ``max_users``: :func:`._ordinary.technical`).
    A word of ``terms`` (:func:`terms`: ``price`` of ``unit_price`` and
    ``list_price``) counts beside a word naming people (``tenant_price``) and, given
    the words the schema uses apart from source names (``known``, :func:`elsewhere`;
    a name of an object of ``kind``, not a literal), in a name of per-person shape
    (:func:`per_person`: ``young_rebate`` beside a customer called Young)."""
    from stagewall.masking._ordinary import names_people, technical

    ws = _words(name)
    hit = None
    for k, w in enumerate(ws):
        if w is None or (w not in words_ and w not in terms) or technical(ws, k):
            continue
        near = [ws[j] for j in (k - 1, k + 1) if 0 <= j < len(ws)]
        if any(n is not None and names_people(n) for n in near):
            return "person"
        if w not in terms or (known is not None and per_person(ws, k, known, kind)):
            hit = "word"
    return hit


# objects a name of one word names after a person (a table ``young``)
_ALONE_KINDS = frozenset({"schema", "table", "partition", "view"})
# objects whose names are mostly made from their table's and columns' (``…_pkey``,
# ``…_price_check``, ``idx_…``): no per-person shape of their own
_DERIVED_KINDS = frozenset({"index", "constraint", "trigger", "sequence", "rule"})
MIN_SHAPE = 4  # a shorter word beside the term is an abbreviation (``usd``, ``qty``, ``ts``)


def elsewhere(objects: Sequence[Named], vocab: set[str], found: set[str]) -> set[str]:
    """The words the schema uses apart from source names: its own words (``vocab``,
    :func:`vocabulary`) and the words of every name of a table, column, view...
    that holds no source name (``found``: ``rebate`` of a table ``rebates``, not of
    ``grace_rebate`` or ``white_rebate`` beside customers called Grace and White —
    two per-person objects do not vouch for each other), singular and plural alike."""
    used = set(vocab)
    for o in objects:
        if o.kind in _DERIVED_KINDS:
            continue
        ws = {w for w in _words(o.name) if w is not None}
        if not ws & found:
            used |= ws
    return used | {w[:-1] for w in used if w.endswith("s")}


def per_person(ws: list[str | None], k: int, known: set[str], kind: str = "") -> bool:
    """Whether the name of words ``ws`` of an object of ``kind`` has the shape of a
    per-person object around its word ``ws[k]`` (a source name that is a frequent
    English word the schema uses twice, :func:`terms`): a word next to it of
    :data:`MIN_SHAPE` letters or more that the schema uses nowhere else (``known``,
    :func:`elsewhere`: ``rebate`` of ``young_rebate``, ``report`` of
    ``young_report``), or the word alone naming a table, schema, partition or view
    (a table ``young``). Pagila's ``last_day`` (``last`` of ``last_name`` and
    ``last_update``) and ``film_list.price`` (a column) have neither; names derived
    from others (indexes, constraints, triggers, sequences, rules:
    :data:`_DERIVED_KINDS`) have no shape of their own. A standard phrase is no
    shape, but the caller has passed over it already (:func:`._ordinary.technical`:
    ``price_history``, ``young_adult``, and so ``young_adult_rebate``, whose word
    next to ``young`` is ``adult``). Before, a neighbour that is a frequent English
    word was taken for a phrase too: ``young_report`` passed where
    ``young_rebate`` is to acknowledge, though a report per person is as likely as
    a rebate per person and "young report" is no phrase; frequency says nothing
    about the pair."""
    if kind in _DERIVED_KINDS:
        return False
    if kind in _ALONE_KINDS and len(ws) == 1:
        return True
    near = [ws[j] for j in (k - 1, k + 1) if 0 <= j < len(ws)]
    return any(
        n is not None
        and len(n) >= MIN_SHAPE
        and n != ws[k]
        and n not in known
        and not (n.endswith("s") and n[:-1] in known)
        for n in near
    )


_ALNUM = re.compile(r"[0-9a-z]+")
MIN_LOCAL = 4  # an e-mail local part shorter than this names no one


def local_keys(name: str) -> list[tuple[str, int]]:
    """``(key, number of pieces)`` of every run of 1 to :data:`MAX_RUN` adjacent
    pieces of ``name`` (letters and digits, split at anything else and at camel
    case), joined without separators: ``anna_k`` gives ``annak`` (2 pieces), as the
    local part ``anna.k`` of an e-mail reads without its separators."""
    pieces = _ALNUM.findall(fold(_CAMEL.sub(" ", name)))
    out = []
    for n in range(1, MAX_RUN + 1):
        for i in range(len(pieces) - n + 1):
            key = "".join(pieces[i : i + n])
            if len(key) >= MIN_LOCAL and not key.isdigit():
                out.append((key, n))
    return out


def local_hit(name: str, locals_: Mapping[str, bool]) -> bool:
    """Whether ``name`` holds a source e-mail's local part (``locals_``: normalised
    local part → whether it had a separator): a run of two pieces or more, or one
    piece that is a local part written with a separator (``annak`` for ``anna.k``;
    ``sales`` for ``sales@…`` is a mailbox of a role, no person's)."""
    return any(key in locals_ and (n > 1 or locals_[key]) for key, n in local_keys(name))


def runs(name: str) -> list[tuple[str, ...]]:
    """Runs of 2 to :data:`MAX_RUN` adjacent words of ``name``."""
    words = _words(name)
    out: list[tuple[str, ...]] = []
    for n in range(2, MAX_RUN + 1):
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            if all(w is not None for w in run):
                out.append(tuple(w for w in run if w is not None))
    return out


def candidates(names: Iterable[str]) -> set[str]:
    """What to look up for ``names``: every word and every run (joined by spaces)."""
    out: set[str] = set()
    for name in names:
        for run in runs(name):
            out.add(" ".join(run))
            out.update(run)
    return out


def name_hit(name: str, found: set[str], pairs: set[frozenset[str]] | None = None) -> bool:
    """Whether a run of ``name``'s words is a looked-up value (``found``), or an
    adjacent pair is the first and last name of one source row (``pairs``,
    :func:`._namepairs.source_pairs`: ``max_price`` only beside a Max Price, not
    beside a Max Young and a Mark Price); without ``pairs`` (no source to ask),
    both words of an adjacent pair being values is enough."""
    return any(
        " ".join(r) in found
        or (len(r) == 2 and (set(r) <= found if pairs is None else frozenset(r) in pairs))
        for r in runs(name)
    )


_STRONG_KINDS = ("email", "phone", "iban")
_KIND_NAMES = {"email": "an e-mail address", "phone": "a phone number", "iban": "an IBAN"}


def _kinds(kinds: set[str]) -> str:
    return " and ".join(_KIND_NAMES.get(k, "a " + k.replace("_", " ")) for k in sorted(kinds))


def pattern_kinds(text: str) -> set[str]:
    """E-mail, phone and IBAN findings of the detector in ``text`` (``_`` read as
    a space too, as an identifier writes one)."""
    from stagewall.masking.classify import detect_in_text

    found = {m.category.value for m in detect_in_text(text)}
    spaced = text.replace("_", " ")
    if spaced != text:
        found |= {m.category.value for m in detect_in_text(spaced)}
    return {k for k in found if k in _STRONG_KINDS}


_NON_ASCII = {  # a value written with a character beyond ASCII (its accents are folded here)
    "postgresql": "octet_length({c}::text) <> length({c}::text)",
    "mysql": "LENGTH({c}) <> CHAR_LENGTH({c})",
    "sqlite": "length(CAST({c} AS BLOB)) <> length({c})",
}


def _masked_columns(plan: Plan, schema: Schema, transformers: frozenset[str]) -> list[Any]:
    out = []
    for table in schema.tables:
        tplan = plan.tables.get(table.qualified)
        if tplan is None or tplan.reference:
            continue
        for col in table.columns:
            cp = tplan.columns.get(col.name)
            if cp is not None and cp.transformer in transformers:
                out.append((table, col))
    return out


def _select_in(db: Any, base: str, wanted: list[str]) -> list[Any]:
    """``base`` (a SELECT ending in ``WHERE <expr>``) for ``<expr>`` in ``wanted``."""
    if db.placeholder == "%s":  # a % in a name is no placeholder
        base = base.replace("%", "%%")
    if db.backend == "postgresql":
        return list(db.select(f"{base}::text = ANY(%s)", (wanted,)))
    rows: list[Any] = []
    for i in range(0, len(wanted), 500):
        part = wanted[i : i + 500]
        marks = ", ".join([db.placeholder] * len(part))
        rows += db.select(f"{base} IN ({marks})", part)
    return rows


def source_names(db: Any, plan: Plan, schema: Schema, words: set[str]) -> set[str]:
    """Which of ``words`` (folded: :func:`fold`) are values of a column the plan
    masks as a name, read from the source ``db``, case- and accent-insensitively:
    one pass over each such column for the values equal to a word once lower-cased,
    one for those beyond ASCII (folded here)."""
    if not words:
        return set()
    wanted = sorted(words)
    found: set[str] = set()
    for table, col in _masked_columns(plan, schema, NAME_TRANSFORMERS):
        expr = f"lower({db.q(col.name)})"
        base = f"SELECT DISTINCT {expr} FROM {db.qt(table)} WHERE {expr}"  # noqa: S608 - identifiers quoted by q()
        rows = _select_in(db, base, wanted)
        beyond = _NON_ASCII[db.backend].format(c=db.q(col.name))
        sql = f"SELECT DISTINCT {expr} FROM {db.qt(table)} WHERE {beyond}"  # noqa: S608 - identifiers quoted by q()
        rows += db.select(sql)  # (no parameters: a % is no placeholder)
        found.update(fold(_text(r[0])) for r in rows if r[0] is not None)
    return found & words


_LOCAL = {  # an e-mail's local part, lower-cased
    "postgresql": "split_part(lower({c}::text), '@', 1)",
    "mysql": "SUBSTRING_INDEX(LOWER({c}), '@', 1)",
    "sqlite": "substr(lower({c}), 1, instr({c}, '@') - 1)",
}
EMAIL_TRANSFORMERS = frozenset({"email"})


def source_locals(db: Any, plan: Plan, schema: Schema, keys: set[str]) -> dict[str, bool]:
    """Which of ``keys`` are the local part of an e-mail in a column the plan masks
    as an e-mail, read without its separators (``.``, ``_``, ``-``, ``+``): key →
    whether the local part had one (one pass over each such column)."""
    if not keys:
        return {}
    wanted = sorted(keys)
    found: dict[str, bool] = {}
    for table, col in _masked_columns(plan, schema, EMAIL_TRANSFORMERS):
        local = _LOCAL[db.backend].format(c=db.q(col.name))
        bare = local
        for sep in ".", "_", "-", "+":
            bare = f"replace({bare}, '{sep}', '')"
        base = f"SELECT DISTINCT {local}, {bare} FROM {db.qt(table)} WHERE {bare}"  # noqa: S608 - identifiers quoted by q()
        for raw, key in _select_in(db, base, wanted):
            if key is not None:
                k = _text(key)
                found[k] = found.get(k, False) or _text(raw) != k
    return found


def _pg_lower_c(expr: str) -> str:
    """``expr`` lower-cased with the "C" rules: ASCII letters only, the cheapest
    ``lower`` PostgreSQL has (the database's rules convert every character)."""
    return f'lower(({expr})::text COLLATE "C")'


def _db_lower(expr: str) -> str:
    """``expr`` lower-cased with the database's rules."""
    return f"lower({expr})"


def _pg_local(col: str, lower: Any) -> tuple[str, str]:
    """``(local part, local part without separators)`` of an e-mail column, lower-cased
    by ``lower`` (as :data:`_LOCAL` and :func:`source_locals` write them)."""
    local = f"split_part({lower(f'{col}::text')}, '@', 1)"
    bare = local
    for sep in ".", "_", "-", "+":
        bare = f"replace({bare}, '{sep}', '')"
    return local, bare


def _pg_lookups(
    db: Any, plan: Plan, schema: Schema, words: set[str], keys: set[str]
) -> tuple[set[str], dict[str, bool]]:
    """:func:`source_names` and :func:`source_locals` on PostgreSQL, with one read of
    each table for all its name and e-mail columns (before: two reads of every name
    column and one of every e-mail column, each calling the database's ``lower`` on
    every value).

    A value is looked at when it is beyond ASCII (as before: folded here), or when
    its "C" lower-case form (ASCII letters only, :func:`_pg_lower_c`) is a word or,
    for an e-mail, its local part without separators is a key. For an ASCII value
    the "C" form is the database's lower-case form whenever that form is ASCII, and
    a word that is not ASCII is looked up with the database's rules too, so every
    value the two functions find is found; both forms of each value are returned,
    and only those that are words or keys are kept. The same ``(found, locals)``, or
    more (a locale that lower-cases ``I`` to a dotless i: the "C" form ``i`` is
    found too).
    """
    if not words and not keys:
        return set(), {}
    wanted, exotic, key_list = (
        sorted(words),
        sorted(w for w in words if not w.isascii()),
        sorted(keys),
    )
    tables: dict[str, tuple[Any, list[Any], list[Any]]] = {}
    for table, col in _masked_columns(plan, schema, NAME_TRANSFORMERS) if words else []:
        tables.setdefault(table.qualified, (table, [], []))[1].append(col)
    for table, col in _masked_columns(plan, schema, EMAIL_TRANSFORMERS) if keys else []:
        tables.setdefault(table.qualified, (table, [], []))[2].append(col)
    found: set[str] = set()
    locals_: dict[str, bool] = {}
    for table, names, emails in tables.values():
        params: list[Any] = []

        def arg(value: list[str], params: list[Any] = params) -> str:
            params.append(value)
            return "%s"

        def name_cond(c: str) -> str:
            beyond = _NON_ASCII["postgresql"].format(c=c)
            cond = f"{beyond} OR {_pg_lower_c(c)} = ANY({arg(wanted)})"
            if exotic:  # a word beyond ASCII may be an ASCII value under the database's rules
                cond += f" OR lower({c})::text = ANY({arg(exotic)})"
            return f"({cond})"

        def email_cond(c: str) -> str:
            beyond = _NON_ASCII["postgresql"].format(c=c)
            bare_c = _pg_local(c, _pg_lower_c)[1]
            bare_db = _pg_local(c, _db_lower)[1]
            return (
                f"({bare_c} = ANY({arg(key_list)}) OR "
                f"({beyond} AND {bare_db} = ANY({arg(key_list)})))"
            )

        def q(c: Any) -> str:
            return str(db.q(c.name)).replace("%", "%%")  # a % in a name is no placeholder

        conds = [name_cond(q(c)) for c in names] + [email_cond(q(c)) for c in emails]
        inner = (
            f"SELECT {', '.join(q(c) for c in [*names, *emails])} "  # noqa: S608 - identifiers quoted by q()
            f"FROM {str(db.qt(table)).replace('%', '%%')} WHERE {' OR '.join(conds)}"
        )
        rows = []
        for j, c in enumerate(names):
            col = f"s.{q(c)}"
            for form in f"lower({col})::text", _pg_lower_c(col):
                rows.append(
                    f"({j}, CASE WHEN {name_cond(col)} THEN {form} END, NULL::text, NULL::text)"
                )
        for j, c in enumerate(emails, len(names)):
            col = f"s.{q(c)}"
            for lower in _db_lower, _pg_lower_c:
                local, bare = _pg_local(col, lower)
                # (the condition written out where it is used: its arrays are parameters)
                rows.append(
                    f"({j}, NULL::text, CASE WHEN {email_cond(col)} THEN {local} END, "
                    f"CASE WHEN {email_cond(col)} THEN {bare} END)"
                )
        sql = (
            f"SELECT DISTINCT x.* FROM ({inner}) s CROSS JOIN LATERAL (VALUES "  # noqa: S608 - identifiers quoted by q()
            f"{', '.join(rows)}) x(j, v, l, b)"
        )
        for _, value, raw, key in db.select_scan(sql, params):
            if value is not None:
                found.add(fold(_text(value)))
            if raw is not None and key is not None and (k := _text(key)) in keys:
                locals_[k] = locals_.get(k, False) or _text(raw) != k
    return found & words, locals_


def source_values(
    db: Any, plan: Plan, schema: Schema, words: set[str], keys: set[str]
) -> tuple[set[str], dict[str, bool]]:
    """``(source_names(words), source_locals(keys))``: on PostgreSQL with one read of
    each table (:func:`_pg_lookups`)."""
    if db.backend == "postgresql" and hasattr(db, "select_scan"):
        return _pg_lookups(db, plan, schema, words, keys)
    return source_names(db, plan, schema, words), source_locals(db, plan, schema, keys)


def _shown(objects: Sequence[Named], flagged: set[Named]) -> dict[Named, str]:
    """Each flagged object named without its name: kind, owner (a flagged owner
    written as such) and its place among its siblings in name order."""
    bad_names = {o.name for o in flagged}
    siblings: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for o in objects:
        siblings.setdefault((o.kind, o.owner), []).append(o.name)
    out: dict[Named, str] = {}
    for o in flagged:
        names = sorted(set(siblings.get((o.kind, o.owner), [o.name])))
        owner = ".".join(p if p not in bad_names else "<reported name>" for p in o.owner)
        where = f" of {owner}" if owner else ""
        out[o] = f"{o.kind} #{names.index(o.name) + 1} of {len(names)}{where} (by name)"
    return out


_NAME = "a person's name (a value of a column the plan masks as a name)"
_BESIDE = _NAME + ", an ordinary word beside a word naming people"
_WORD = (
    "an ordinary word (or one the schema uses in two places or more) that is also "
    "a person's name (a value of a column the plan masks as a name): likely the "
    "word, possibly the person"
)
_LOCAL_PART = "an e-mail address's local part (of a column the plan masks as an e-mail)"


def judge_names(
    objects: Sequence[Named],
    found: set[str],
    lone: set[str] | None = None,
    locals_: Mapping[str, bool] | None = None,
    ordinary: set[str] | None = None,
    terms_: set[str] | None = None,
    vocab: set[str] | None = None,
    pairs: set[frozenset[str]] | None = None,
) -> list[Finding]:
    """The objects whose names hold an e-mail/phone/IBAN or a looked-up name: a run
    of words in ``found`` (or a pair of one row's, ``pairs``: :func:`name_hit`), a
    single word in ``lone`` (a source value of a name column, :func:`lone_words`),
    or a source e-mail's local part (``locals_``, :func:`local_hit`); and, with
    ``ordinary`` (ordinary words and the schema's own words that are source names,
    :func:`ordinary_words`), a name holding one: judged
    beside a word naming people, else a finding to acknowledge (``confirm``), each
    object holding it (``grace_period`` and ``grace_days``: two); a word of
    ``terms_`` (:func:`terms`) only beside a word naming people or, given the
    schema's words ``vocab`` (:func:`vocabulary`), in a name of per-person shape
    (:func:`per_person`: to acknowledge)."""
    what: dict[Named, tuple[str, bool]] = {}
    singles = {w for w in found if " " not in w}
    known = elsewhere(objects, vocab, singles) if vocab is not None else None
    for o in objects:
        kinds = pattern_kinds(o.name)
        if kinds:
            what[o] = ("what looks like " + _kinds(kinds), False)
        elif name_hit(o.name, found, pairs) or (lone and lone_hit(o.name, lone)):
            what[o] = (_NAME, False)
        elif locals_ and local_hit(o.name, locals_):
            what[o] = (_LOCAL_PART, False)
        elif (ordinary or terms_) and (
            how := word_hit(o.name, ordinary or set(), terms_ or set(), known, o.kind)
        ):
            what[o] = (_BESIDE, False) if how == "person" else (_WORD, True)
    shown = _shown(objects, set(what))
    return [
        Finding(o.label, shown[o], w, "name", o.name, confirm=c)
        for o, (w, c) in sorted(what.items())
    ]


# definitions that declare the objects they name (SQLite's CREATE TABLE and CREATE
# INDEX, an index's definition): the words of those names are no second use
_DECLARING = frozenset({"table", "index"})


def uses(defs: Iterable[tuple[str, str, bool]]) -> list[str]:
    """The texts of ``defs`` that use the schema's words (:func:`vocabulary`'s
    places): all but those that declare the objects they name. Counted, SQLite's
    ``CREATE TABLE smith_orders (…, quispe_notes …)`` made every column word and,
    with a ``CREATE INDEX … ON smith_orders``, the table's words the schema's own,
    so neither was judged."""
    return [t for o, t, _ in defs if o.split(" ", 1)[0] not in _DECLARING]


def lone_words(found: set[str], objects: Sequence[Named], texts: Iterable[str] = ()) -> set[str]:
    """The single words among ``found`` (source values of name columns) that are
    neither the schema's own words (:func:`vocabulary` of ``objects`` and the
    definitions' ``texts``) nor ordinary words (``grace`` of ``grace_period``,
    :func:`._ordinary.ordinary`): a lone word of a name that is one of them is a
    production value (``tenant_maria``, ``export_ganthriv``, ``smith_orders``)."""
    from stagewall.masking._ordinary import ordinary

    lone = {w for w in found if " " not in w and not ordinary(w)}
    return lone - vocabulary(objects, texts)


def terms(found: set[str], objects: Sequence[Named], texts: Iterable[str] = ()) -> set[str]:
    """The single words among ``found`` that are common English words (Faker's list,
    :func:`._ordinary.common_english`: ``price``, ``day``) and the schema's own words
    (:func:`vocabulary`: ``price`` of ``unit_price`` and ``list_price``). The only
    words whose repetition makes a name holding them silent — except beside a word
    naming people (``tenant_price``: :func:`word_hit`) — because both are needed:
    the word is among the thousand most frequent of English, so its dominant sense
    is the word's, and the schema's own texts use it in two places. Neither alone
    is enough: ``grace`` (a reviewed word, :data:`._ordinary.TECHNICAL`, no
    frequent English word) is as often the person as the word however often the
    schema writes it, and a word of no English list (``maria``) written twice may
    be a customer's column added to two tables, or one column and a view selecting
    it. Pagila's ``film_list.price`` and ``last_day`` (customers called Price and
    Day) are such terms."""
    from stagewall.masking._ordinary import common_english

    english = common_english()
    return {w for w in found if " " not in w and w in english} & vocabulary(objects, texts)


def ordinary_words(
    found: set[str], objects: Sequence[Named], texts: Iterable[str] = ()
) -> set[str]:
    """The single words among ``found`` that are not judged alone but are to
    acknowledge in each name holding them (:func:`judge_names`): ordinary words
    (:mod:`._ordinary`: ``grace`` of ``grace_period`` beside a customer called
    Grace) and the schema's own words (:func:`vocabulary`: ``maria`` of a column
    ``maria_notes`` in two tables), less :func:`terms`. Before, every word the
    schema used in two places was dropped here and by :func:`lone_words`, and each
    name holding it passed: ``grace`` as a column of two tables silenced
    ``grace_period`` and ``tenant_grace``."""
    singles = {w for w in found if " " not in w}
    return singles - lone_words(found, objects, texts) - terms(found, objects, texts)


def literal_words(found: set[str]) -> set[str]:
    """The single words among ``found`` judged alone in a literal: all but ordinary
    words. A literal is a value, not the schema's vocabulary, so a source name
    written in two definitions (``'Attn Carrasco'`` in two defaults) is no schema
    word (:func:`judge_definitions`)."""
    from stagewall.masking._ordinary import ordinary

    return {w for w in found if " " not in w and not ordinary(w)}


# (found, lone, locals, ordinary, terms, vocab, pairs): see :func:`_lookups`
_Lookups = tuple[
    set[str], set[str], dict[str, bool], set[str], set[str], set[str], set[frozenset[str]]
]


def _lookups(
    db: Any,
    plan: Plan,
    schema: Schema,
    objects: Sequence[Named],
    texts: Iterable[str] = (),
    sources: Iterable[str] = (),
) -> _Lookups:
    """``(found, lone, locals, ordinary, terms, vocab, pairs)`` for ``objects``' names
    and the literal ``texts`` of definitions (``sources``: the definitions' whole
    texts), looked up in the source ``db`` (``ordinary``: :func:`ordinary_words`;
    ``terms``: :func:`terms`; ``vocab``: :func:`vocabulary`; ``pairs``: adjacent
    words that are one row's first and last name, :func:`._namepairs.source_pairs`)."""
    from stagewall.masking._namepairs import adjacent_pairs, source_pairs

    names = [o.name for o in objects]
    texts = list(texts)
    # (a literal's too: ``CHECK (login <> 'yesica.quispe')``)
    keys = {k for n in names + texts for k, _ in local_keys(n)}
    found, locals_ = source_values(
        db, plan, schema, candidates(names + texts) | words(names + texts), keys
    )
    sources = list(sources)
    singles = {w for w in found if " " not in w}
    return (
        found,
        lone_words(found, objects, sources),
        locals_,
        ordinary_words(found, objects, sources),
        terms(found, objects, sources),
        vocabulary(objects, sources),
        source_pairs(db, plan, schema, adjacent_pairs(names + texts, singles)),
    )


def recreates_derived(source: str, target: str | None) -> bool:
    """Whether a copy from a ``source`` backend into a ``target`` one recreates the
    views, functions, procedures, triggers and rules (:data:`DERIVED_DEFINITIONS`):
    PostgreSQL → PostgreSQL and MySQL/MariaDB → MySQL/MariaDB only; ``target``
    None (a plan or lint, made without one): whether some target would. The copy
    (``engine._derived_objects``) and the judgement (:func:`_judged`) both ask this."""
    if source not in ("postgresql", "mysql"):
        return False
    return target is None or target == source


def _judged(label: str, backend: str, target: str | None = None) -> bool:
    """Whether the definition ``label`` is one the copy recreates: defaults, checks,
    indexes, partition bounds, domains, SQLite's CREATE TABLE; and, when the copy
    recreates them (:func:`recreates_derived`), views, functions, procedures,
    triggers, rules, comments and enum types (:data:`TYPE_DEFINITIONS`)."""
    kind = label.split(" ", 1)[0]
    if kind in COPIED_DEFINITIONS:
        return True
    return kind in DERIVED_DEFINITIONS | TYPE_DEFINITIONS and recreates_derived(backend, target)


def _prose(label: str) -> bool:
    """Whether the definition ``label``, when its text is no SQL, is judged as one
    literal: a comment (``COMMENT ON``, a MySQL/MariaDB ``COMMENT`` clause), a
    MySQL/MariaDB routine's comment (labelled as the routine, which the copy
    recreates with it); and a PostgreSQL enum label, a text as a whole."""
    return label.split(" ", 1)[0] in DERIVED_DEFINITIONS or label.startswith("enum ")


def literal_kinds(label: str, text: str) -> set[str]:
    """What the detector takes a literal of the definition ``label`` for: an
    e-mail, phone or IBAN (:func:`pattern_kinds`); in a view, function, procedure,
    trigger or rule, anything it finds (a name, a card number, an IP address...),
    which the copy used to leave out of the target."""
    kinds = pattern_kinds(text)
    if label.split(" ", 1)[0] in DERIVED_DEFINITIONS:
        from stagewall.masking.classify import detect_in_text

        kinds |= {m.category.value for m in detect_in_text(text)}
    return kinds


def _literal_hit(
    text: str,
    found: set[str],
    lone: set[str],
    locals_: Mapping[str, bool] | None = None,
    pairs: set[frozenset[str]] | None = None,
) -> bool:
    """Whether the literal ``text`` is, or holds a word or run of words that is, a
    source value of a name column (``found``: runs; ``lone``: single words), or
    holds a source e-mail's local part (``locals_``, :func:`local_hit`)."""
    if fold(text.strip()) in found:  # the literal is a value as a whole
        return True
    return (
        name_hit(text, found, pairs)
        or lone_hit(text, lone)
        or bool(locals_ and local_hit(text, locals_))
    )


_SENTENCE_END = re.compile(r"[.!?;:\n]+|\s-+\s")
_LETTERS = re.compile(r"[^\W\d_]+")


def proper_words(text: str) -> set[str]:
    """The folded words of ``text`` (a literal or comment) written as a proper noun:
    capitalised (``Young``, not ``YOUNG``) and not the first word of its sentence,
    in prose (one word of three letters or more in lower case: a
    title, ``'Best Price'``, or shouted text, ``'EVERY DAY'``, marks nothing; nor
    does a month or a day of the week, capitalised whatever it names). A
    source name written so (``'Ask Young about the rebate'``) is the person, not the
    word (``'Young adults only'``: the sentence's first word, no sign)."""
    if not any(len(w) > 2 and w.islower() for w in _LETTERS.findall(text)):
        return set()
    out: set[str] = set()
    for sentence in _SENTENCE_END.split(text):
        ws = _LETTERS.findall(sentence)
        out.update(fold(w) for w in ws[1:] if len(w) > 1 and w[0].isupper() and w[1:].islower())
    return out - _CAPITALISED


_PROSE_WORD = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*")


def sentence_subjects(text: str) -> set[str]:
    """The folded words of ``text`` (a literal or comment) that open a sentence as
    its subject: capitalised (``Young``, not ``YOUNG``), followed by a verb whose
    subject is a person (:data:`._ordinary.PERSON_VERBS`: ``called``, ``said``,
    ``asked``, ``wants``) in lower case, and that not by ``by`` (``'Price asked by
    the seller'`` is a noun and a participle). At a sentence's start the capital
    marks nothing (:func:`proper_words`), so the verb is the sign: ``'Young called
    about the rebate.'`` is the person; ``'Young adults only'``, ``'Price includes
    VAT'``, ``'Day starts at midnight'`` are the words."""
    from stagewall.masking._ordinary import PERSON_VERBS

    out: set[str] = set()
    for sentence in _SENTENCE_END.split(text):
        ws = _PROSE_WORD.findall(sentence)
        if (
            len(ws) > 1
            and len(ws[0]) > 1
            and ws[0][0].isupper()
            and ws[0][1:].islower()
            and ws[1] in PERSON_VERBS
            and (len(ws) < 3 or ws[2] != "by")
        ):
            out.add(fold(ws[0]))
    return out  # (``'June said she would pay'``: a month says nothing)


# words English capitalises whatever they name: no sign of a person (``'due in June'``)
_CAPITALISED = frozenset(
    [
        "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december", "monday", "tuesday", "wednesday",
        "thursday", "friday", "saturday", "sunday",
    ]
)  # fmt: skip


_LITERAL_WORD = (
    "a literal holding an ordinary word that is also a person's name (a value of a "
    "column the plan masks as a name): likely the word, possibly the person"
)


def judge_definitions(
    defs: Iterable[tuple[str, str, bool]],
    dialect: str,
    found: set[str] | None = None,
    lone: set[str] | None = None,
    target: str | None = None,
    words_: set[str] | None = None,
    locals_: Mapping[str, bool] | None = None,
    terms_: set[str] | None = None,
    pairs: set[frozenset[str]] | None = None,
) -> list[Finding]:
    """Definitions the copy recreates as they are (:func:`_judged`) whose string
    literals (and comments) the detector takes for an e-mail, phone or IBAN (in a
    view, function, procedure, trigger or rule: for anything,
    :func:`literal_kinds`), or that hold a source value of a name column (``found``,
    ``lone``: see :func:`judge_names`; ``lone`` for literals is
    :func:`literal_words`, the schema's vocabulary aside) or a source e-mail's
    local part (``locals_``); and, with ``words_`` (ordinary words that are source
    names), a literal holding one: judged beside a word naming people
    (``'VIP customer Grace'``), else a finding to acknowledge (``confirm``:
    ``'days of grace'`` beside a customer called Grace). A word of ``terms_`` (a
    frequent English word, :func:`._ordinary.common_english`) counts only beside a
    word naming people: literals and comments are prose, of which such words are
    the fabric (Pagila's ``'1 day'`` and ``-- ONE DOLLAR FOR EVERY DAY``, beside
    customers called Day). Either kind written as a proper noun mid-sentence
    (:func:`proper_words`: ``'Ask Young about the rebate'``) is judged as a name."""
    from stagewall.masking._definitions import literals

    out: list[Finding] = []
    for obj, text, sql in defs:
        if not _judged(obj, dialect, target) or not (sql or _prose(obj)):
            continue
        kinds: set[str] = set()
        named = False
        word: str | None = None
        for lit in literals(text, sql, dialect):
            kinds |= literal_kinds(obj, lit)
            named = named or _literal_hit(lit, found or set(), lone or set(), locals_, pairs)
            if (words_ or terms_) and word != "person":
                word = word_hit(lit, words_ or set(), terms_ or set()) or word
                written = proper_words(lit) | sentence_subjects(lit)
                if written & ((words_ or set()) | (terms_ or set())):
                    word = "person"  # ``'Ask Young about the rebate'``, ``'Young called.'``
        if kinds:
            out.append(
                Finding(obj, obj, "a literal that looks like " + _kinds(kinds), "definition")
            )
        elif named or word == "person":
            what = _BESIDE if word == "person" and not named else _NAME
            out.append(Finding(obj, obj, "a literal holding " + what, "definition"))
        elif word == "word":
            out.append(Finding(obj, obj, _LITERAL_WORD, "definition", confirm=True))
    return _one_per_enum(out)


def _one_per_enum(found: list[Finding]) -> list[Finding]:
    """``found`` with one finding per PostgreSQL enum type (each label is a
    definition of its own): the first that is no mere word to confirm, else the first."""
    best: dict[str, int] = {}
    out: list[Finding] = []
    for f in found:
        if not f.label.startswith("enum "):
            out.append(f)
        elif f.label not in best:
            best[f.label] = len(out)
            out.append(f)
        elif out[best[f.label]].confirm and not f.confirm:
            out[best[f.label]] = f
    return out


def schema_findings(
    db: Any,
    plan: Plan,
    schema: Schema,
    target: str | None = None,
    acknowledged_out: list[Finding] | None = None,
) -> list[Finding]:
    """What of the source ``db``'s schema would carry personal data into staging
    (a ``target`` backend's: views and the like only where the copy recreates them,
    :func:`recreates_derived`), less what the plan acknowledges (those go to
    ``acknowledged_out``, when given: the run records them)."""
    from stagewall.masking._definitions import definitions, literals, split_sql

    objects = named_objects(db, plan.schemas)
    defs = definitions(db)
    if plan.schemas:
        defs = [d for d in defs if _in_schemas(d[0], plan.schemas, db.backend)]
    if db.backend == "postgresql" and any(d[0].startswith("enum ") for d in defs):
        used = _used_enums(db, schema)  # the copy recreates these only
        defs = [d for d in defs if not d[0].startswith("enum ") or d[0] in used]
    if db.backend == "sqlite":  # the copy drops the comments of a CREATE
        defs = [(o, split_sql(t, "sqlite")[2], s) for o, t, s in defs]
    judged = [d for d in defs if _judged(d[0], db.backend, target) and (d[2] or _prose(d[0]))]
    texts = [lit for o, t, sql in judged for lit in literals(t, sql, db.backend)]
    sources = uses(defs)
    found, lone, locals_, words_, terms_, vocab, pairs = _lookups(
        db, plan, schema, objects, texts, sources
    )
    every = judge_names(objects, found, lone, locals_, words_, terms_, vocab, pairs)
    from stagewall.masking._ordinary import common_english, ordinary

    # in a literal, however often the schema writes it: a source name of no English
    # list is judged, a reviewed word (``grace``) is to acknowledge, a frequent
    # English word counts beside a word naming people only
    lit_ordinary = {w for w in found if " " not in w and ordinary(w)}
    lit_terms = lit_ordinary & common_english()
    every += [
        replace(f, shown=hiding(every, f.shown))
        for f in judge_definitions(
            judged,
            db.backend,
            found,
            literal_words(found),
            target,
            lit_ordinary - lit_terms,
            locals_,
            lit_terms,
            pairs,
        )
    ]
    if acknowledged_out is not None:
        acknowledged_out += [f for f in every if f.label in plan.acknowledged]
    return [f for f in every if f.label not in plan.acknowledged]


def _used_enums(db: Any, schema: Schema) -> set[str]:
    """The labels (``enum public.mood``) of the PostgreSQL enum types the tables of
    ``schema`` use, directly or through a domain, composite or array: the ones the
    copy recreates (:data:`._pg_introspect.ENUMS`), each read once."""
    from stagewall.masking.db._pg_introspect import ENUMS

    names = [
        ".".join('"' + p.replace('"', '""') + '"' for p in (t.schema, t.name) if p)
        for t in schema.tables
    ]
    if not names:
        return set()
    rows = db.select(
        "SELECT ARRAY(SELECT to_regclass(x)::oid FROM unnest(%s::text[]) x "
        "WHERE to_regclass(x) IS NOT NULL)",
        (names,),
    )
    return {f"enum {nsp}.{typ}" for nsp, typ, _, _ in db.select(ENUMS, (rows[0][0],))}


def target_findings(tdb: Any, sdb: Any, plan: Plan, schema: Schema) -> list[Finding]:
    """The target ``tdb``'s objects whose names hold personal data (names looked
    up in the source ``sdb``), less what the plan acknowledges."""
    from stagewall.masking._definitions import definitions

    objects = named_objects(tdb)
    sources = uses(definitions(tdb))
    found, lone, locals_, words_, terms_, vocab, pairs = _lookups(
        sdb, plan, schema, objects, (), sources
    )
    return [
        f
        for f in judge_names(objects, found, lone, locals_, words_, terms_, vocab, pairs)
        if not acknowledged(f.label, plan.acknowledged)
    ]


def acknowledged(label: str, acks: Mapping[str, str]) -> bool:
    """Whether the plan acknowledges the target object ``label``: as the source
    names it, or, across backends, less the source schema (``table public.t``
    acknowledges a MySQL/SQLite target's ``table t``)."""
    if label in acks:
        return True
    kind, _, rest = label.partition(" ")
    return any(
        a.partition(" ")[0] == kind and a.partition(" ")[2].endswith("." + rest) for a in acks
    )


def _in_schemas(label: str, schemas: Sequence[str], backend: str) -> bool:
    if backend != "postgresql":
        return True
    rest = label.split(" ", 1)[-1]
    return any(rest.startswith(f"{s}.") for s in schemas)


__all__ = [
    "COPIED_DEFINITIONS",
    "DERIVED_DEFINITIONS",
    "TYPE_DEFINITIONS",
    "Finding",
    "Named",
    "acknowledged",
    "candidates",
    "elsewhere",
    "fold",
    "hiding",
    "judge_definitions",
    "judge_names",
    "literal_kinds",
    "literal_words",
    "local_hit",
    "local_keys",
    "lone_hit",
    "lone_words",
    "name_hit",
    "named_objects",
    "ordinary_words",
    "pattern_kinds",
    "per_person",
    "proper_words",
    "recreates_derived",
    "runs",
    "schema_findings",
    "sentence_subjects",
    "source_locals",
    "source_names",
    "source_values",
    "target_findings",
    "terms",
    "uses",
    "vocabulary",
    "word_hit",
    "words",
]
