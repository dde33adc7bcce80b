"""Verify, row by row: no source row's own values survive in its target row's text.

For every masked row, the source values of its masked structured columns (names
and name parts, e-mails, phones, streets, postcodes, identifiers: see
transformers/_known.py) are searched in every text-like cell (text, varchar,
JSON, untyped) of the same target row and of the target rows that reference it
by a foreign key. Rows are paired by primary key: a kept key is the same in
source and target; a masked key is paired through the transformer the plan
applies (deterministic under the key and the consistency salt, as the run
applied it). Row order is never used: parallel range copies do not keep it.

Matching is a substring test of padded, normalised words (C-level ``in`` over
the row's joined cells), so only rows with a candidate hit are looked at cell by
cell; and only rows whose text holds an anchor of their values (``_anchors``) get
their patterns built and tested at all. A hit is reported as table, column, kind
and the number of cells, never with the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice, repeat
from operator import is_, itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.keys import MaskingKey
from stagewall.masking._anchors import Anchors, checked_anchors_many
from stagewall.masking._hashscan import transform
from stagewall.masking._known_rows import (
    MAX_CHILD_VALUES,
    Child,
    Parent,
    canon,
    children_of,
    known_columns,
    parents_of,
)
from stagewall.masking._units import encode_many
from stagewall.masking.classify._reference import is_reference_value
from stagewall.masking.plan import Plan, consistency_salt
from stagewall.masking.schema import Schema, Table
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._birthdates import DATE_TRANSFORMERS, date_column
from stagewall.masking.transformers._known import (
    _CACHE_MAX,
    CORE,
    KIND,
    Known,
    checked_patterns_many,
    compact_many,
    core_hits,
    joined_names,
    known_patterns,
    norm_texts,
    surnames,
)
from stagewall.masking.transformers._readings import stem_rows, stem_spans
from stagewall.masking.transformers._structured import Path, parse_path
from stagewall.masking.types import ColumnKind

TEXT_LIKE = frozenset(
    {ColumnKind.TEXT, ColumnKind.JSON, ColumnKind.OTHER, ColumnKind.ARRAY, ColumnKind.STRUCTURED}
)
# Searched row by row: text-like columns, and binary ones, whose UTF-8 text is read
# (a letter kept in a BLOB; binary that is not UTF-8 is not text and not searched)
SEARCHED = TEXT_LIKE | {ColumnKind.BYTES}
# Columns whose target text can carry source text: kept, scrubbed, or not in the plan.
# A column a pseudonymiser replaces whole (full_name, street_address, ...) holds a
# keyed draw from a dictionary, which may by chance share a word with its row's
# real name; a copied whole value there is the whole-target scan's finding.
PASS_THROUGH = frozenset({"keep", "text_scrub", "json_mask", "tsvector"})
Lookup = dict[tuple[str, ...], "_Pats"]
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class RowHit:
    table: str
    column: str
    kind: str
    cells: int


class _Pats:
    """The search patterns of one row's known values; their kinds only for a row with
    a candidate hit. (A plain class with slots: one is made per source row, several
    times faster than a frozen dataclass.)

    The lookups hold them *lazy* (:meth:`anchored`): a row's :attr:`anchors` only
    (see ``_anchors``: every pattern holds one without its spaces), its patterns
    built at first use, for the few rows whose text holds an anchor (all of a batch's
    at once: :func:`_build_all`). One made of patterns (:meth:`built`) has those and
    their forms without spaces as its anchors."""

    __slots__ = ("_anchors", "_compact", "_names", "_words", "parts")

    def __init__(
        self,
        words: tuple[str, ...],
        compact: tuple[str, ...],
        parts: tuple[Known, ...],
        names: tuple[str, ...] = (),
    ) -> None:
        self._words: tuple[str, ...] | None = words
        self._compact: tuple[str, ...] = compact
        self.parts = parts  # the row's own known values, then each referenced row's
        self._names: tuple[str, ...] = names  # name words searched inside a login too
        self._anchors: tuple[str, ...] | None = None

    @staticmethod
    def lazy(parts: tuple[Known, ...], anchors: tuple[str, ...]) -> _Pats:
        """The patterns of ``parts`` (each :meth:`built` of its
        :func:`checked_patterns_many`, one after the other), built at first use."""
        out = _Pats.__new__(_Pats)
        out.parts = parts
        out._anchors = anchors
        out._words = None
        return out

    @staticmethod
    def anchored(known: Known, per_value: Sequence[Anchors]) -> _Pats | None:
        """:meth:`lazy` of a row's values from their anchors (:func:`checked_anchors_many`
        of each); None when it has none, which is when :meth:`built` of its patterns
        is None (a value has anchors exactly when it has patterns)."""
        if len(per_value) == 1:  # (most rows: one value, one anchor)
            (one,) = per_value
            if len(one) == 1 and one[0][1]:
                return _Pats.lazy((known,), (one[0][0],))
        anchors = tuple(
            dict.fromkeys([a if c else a.replace(" ", "") for one in per_value for a, c in one])
        )
        return _Pats.lazy((known,), anchors) if anchors else None

    @property
    def anchors(self) -> tuple[str, ...]:
        got = self._anchors
        if got is None:
            pieces = [w.replace(" ", "") for w in self.words] + list(self._compact)
            got = self._anchors = tuple(dict.fromkeys(pieces))
        return got

    @property
    def words(self) -> tuple[str, ...]:
        if self._words is None:
            _build_all([self])
        return self._words or ()

    @property
    def compact(self) -> tuple[str, ...]:
        if self._words is None:
            _build_all([self])
        return self._compact

    @property
    def names(self) -> tuple[str, ...]:
        if self._words is None:
            _build_all([self])
        return self._names

    @staticmethod
    def built(known: Known, per_value: Sequence[tuple[tuple[str, bool], ...]]) -> _Pats | None:
        """The row's patterns from ``per_value`` (:func:`checked_patterns` of each
        known value); its :attr:`names`: the one-word patterns of its names of
        :data:`MIN_EMBEDDED` letters or more."""
        if len(per_value) == 1:  # (most rows: one value)
            return _Pats.of_one(known, per_value[0])
        words: list[str] = []
        compact: list[str] = []
        names: list[str] = []
        for (t, _), pats in zip(known, per_value, strict=True):
            for p, comp in pats:
                (compact if comp else words).append(p)
            if t in _NAMES:
                names += _name_words(pats)
        if not words and not compact:
            return None
        # (distinct: a row's joined full name repeats its first and last name's patterns)
        return _Pats(
            tuple(dict.fromkeys(words)),
            tuple(dict.fromkeys(compact)),
            (known,),
            tuple(dict.fromkeys(names)),
        )

    @staticmethod
    def of_one(known: Known, pats: tuple[tuple[str, bool], ...]) -> _Pats | None:
        """:meth:`built` of a row of one known value: its patterns as they are, not
        made distinct again (a pattern twice only costs a second test)."""
        words = tuple([p for p, comp in pats if not comp])
        compact = tuple([p for p, comp in pats if comp])
        if not words and not compact:
            return None
        names: tuple[str, ...] = ()
        if known[0][0] in _NAMES:
            names = tuple(dict.fromkeys(_name_words(pats)))
        return _Pats(words, compact, (known,), names)

    @property
    def kinds(self) -> list[tuple[str, bool, str]]:
        return [x for known in self.parts for x in known_patterns(known)]

    def __add__(self, other: _Pats) -> _Pats:
        if self._words is None or other._words is None:
            return _Pats.lazy(self.parts + other.parts, self.anchors + other.anchors)
        return _Pats(
            self.words + other.words,
            self.compact + other.compact,
            self.parts + other.parts,
            self.names + other.names,
        )


def _build_all(pats: Sequence[_Pats]) -> None:
    """Build the patterns of the lazy ones of ``pats`` (:meth:`_Pats.lazy`): every
    value of theirs through one :func:`checked_patterns_many` call, each part's
    :meth:`_Pats.built` (never None: a part has anchors exactly when it has
    patterns), the parts' patterns one after the other, as :meth:`_Pats.__add__`
    of built ones gives them."""
    todo = list({id(p): p for p in pats if p._words is None}.values())
    if not todo:
        return
    parts = [known for p in todo for known in p.parts]
    per_value = iter(checked_patterns_many([tv for known in parts for tv in known]))
    for p in todo:
        words: tuple[str, ...] = ()
        compact: tuple[str, ...] = ()
        names: tuple[str, ...] = ()
        for known in p.parts:
            one = _Pats.built(known, list(islice(per_value, len(known))))
            if one is not None:
                words += one.words
                compact += one.compact
                names += one.names
        p._words, p._compact, p._names = words, compact, names


_NAMES = frozenset(t for t, k in KIND.items() if k == "name")


def _name_words(pats: tuple[tuple[str, bool], ...]) -> list[str]:
    """The one-word patterns of a name value of :data:`MIN_EMBEDDED` letters or more,
    without one or two initials and a name (ycarrasco, jmganthriv, ganthrivjm,
    carrascoy: patterns of their own, and inside a word they would be a name part
    with more initials, hannah) or a name in the plural (carrascos, sanchezes)."""
    ones = [w for p, _ in pats if len(w := p[1:-1]) >= MIN_EMBEDDED and w.isalpha()]
    return [
        w
        for w in ones
        if w[1:] not in ones and w[2:] not in ones and w[:-1] not in ones and w[:-2] not in ones
    ]


# A name word this long is also searched inside a word of a kept column's text: a
# login or an e-mail's mailbox written with it and digits or the initials of the
# row's other names (carrasco1987@gmail.com, ycarrasco, yc_carrasco87: see embedded)
MIN_EMBEDDED = 4


def embedded(cell: str, names: Sequence[str]) -> bool:
    """True when a word of ``cell`` (a :func:`norm` text) is one of ``names`` with
    digits after it, and before it or right after it the initials of ``names`` (at
    most two letters, on one side): ``carrasco1987``, ``ycarrasco``, ``yc87carrasco``
    is not, ``carrascoy87`` and ``yesicacarrasco1`` are, for the names ``yesica``,
    ``carrasco``, ``yesicacarrasco``. A longer word (``carrascosa``) is another word
    and the word alone is the ordinary search's."""
    initials = {n[0] for n in names}
    for word in cell.split():
        for n in names:
            at = word.find(n)
            if at < 0 or len(word) == len(n):
                continue
            pre, post = word[:at], word[at + len(n) :]
            letters = post.rstrip(_DIGITS)
            if (pre and letters) or len(pre + letters) > 2:
                continue
            if set(pre + letters) <= initials:
                return True
    return False


_DIGITS = "0123456789"


def source_lookups(
    plan: Plan,
    schema: Schema,
    db: Any,
    key: MaskingKey,
    batch_rows: int,
    notes: list[str],
) -> dict[str, Lookup]:
    """For each source table with known values: target primary key → the row's values."""
    out: dict[str, Lookup] = {}
    # the anchors of the values the lookups of referencing rows take again (an
    # order's street, own and among its customer's orders'), kept from the first
    # pass: a value's anchors depend on the value alone, and checked_anchors_many's
    # cache is cleared before the second pass comes to them on large tables; filled
    # up to about _CACHE_MAX entries (the rest computed again), so memory stays bounded
    again = {
        t
        for table in schema.tables
        if _scrubbed(plan, table)
        for ch in children_of(plan, schema, table)
        for _, t in ch.value_columns
    }
    memo: dict[tuple[str, str], Anchors] = {}
    for table in schema.tables:
        values = known_columns(plan, table)
        if not values:
            continue
        if not table.primary_key:
            notes.append(
                f"{table.qualified}: no primary key, so its rows' own values are not "
                "searched row by row (the whole-target scan still covers the table)"
            )
            continue
        pk = list(table.primary_key)
        trs = _key_transformers(plan, schema, table, pk, key)
        names = [t for _, t in values]
        lookup: Lookup = {}
        cols = [*pk, *(c for c, _ in values)]
        for m, columns in db.iter_columns(table, cols, None, batch_rows):
            keys = []
            for j, tr in enumerate(trs):
                col = columns[j]
                keys.append(col if tr is None else transform(tr, list(col), table, pk[j]))
            rows_known = joined_names(names, _rows_known(names, columns[len(pk) :], m))
            # every known value of the batch normalised at once (checked_anchors_many):
            # the rows' anchors; their patterns only for rows whose text holds one
            flat = [tv for known in rows_known for tv in known]
            anchors = checked_anchors_many(flat)
            if again and len(memo) < _CACHE_MAX:  # (bounded as the anchor cache is)
                memo.update((tv, a) for tv, a in zip(flat, anchors, strict=True) if tv[0] in again)
            per_value = iter(anchors)
            for k, known in zip(canon_columns(keys), rows_known, strict=True):
                pats = _Pats.anchored(known, list(islice(per_value, len(known)))) if known else None
                if pats is not None:
                    lookup[k] = pats
        out[table.qualified] = lookup
    for table in schema.tables:  # the rows their rows reference, further up
        if any(c.kind in SEARCHED for c in table.columns):
            for p in parents_of(plan, schema, table):
                _tree_lookup(plan, schema, db, key, batch_rows, p, out)
        if _scrubbed(plan, table):  # and the rows that reference them, one down
            for ch in children_of(plan, schema, table):
                _children_lookup(plan, schema, db, key, batch_rows, ch, out, memo)
    return out


SCRUBBERS = frozenset({"text_scrub", "json_mask"})


def _scrubbed(plan: Plan, table: Table) -> list[str]:
    """The columns of ``table`` the plan scrubs (free text about its rows)."""
    return [
        c.name
        for c in table.columns
        if c.kind in SEARCHED
        and (cp := plan.column(table.qualified, c.name)) is not None
        and cp.transformer in SCRUBBERS
    ]


def child_name(ch: Child) -> str:
    """The lookup name of the rows of ``ch`` grouped by the row they reference."""
    name = f"{ch.table.qualified}>{','.join(ch.fk_columns)}"
    return name if ch.via is None else f"{name}~{','.join(ch.via.fk_columns)}:{tree_name(ch.via)}"


def _children_lookup(
    plan: Plan, schema: Schema, db: Any, key: MaskingKey, batch_rows: int, ch: Child,
    out: dict[str, Lookup], memo: dict[tuple[str, str], Anchors] | None = None,
) -> None:  # fmt: skip
    """Add the lookup of ``ch`` to ``out``: target key of a referenced row → the
    patterns of the values of the rows that reference it (distinct, the first
    :data:`MAX_CHILD_VALUES` in sorted order: what the engine hands text_scrub,
    :func:`~stagewall.masking._known_rows.child_values`). ``memo``: anchors of
    values already found (:func:`checked_anchors_many` of each, by value)."""
    name = child_name(ch)
    if name in out:
        return
    if ch.via is not None:
        _linked_lookup(plan, schema, db, key, batch_rows, ch, ch.via, out)
        return
    fk = list(ch.fk_columns)
    trs = _key_transformers(plan, schema, ch.table, fk, key)
    names = [t for _, t in ch.value_columns]
    found: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    cols = [*fk, *(c for c, _ in ch.value_columns)]
    for m, columns in db.iter_columns(ch.table, cols, None, batch_rows):
        keys = [
            col if tr is None else transform(tr, list(col), ch.table, fk[j])
            for j, (col, tr) in enumerate(zip(columns, trs, strict=False))
        ]
        for k, known in zip(_keys(keys), _rows_known(names, columns[len(fk) :], m), strict=True):
            if k is not None and known:
                found.setdefault(k, set()).update(known)
    out[name] = _grouped_lookup(found, batch_rows, memo)


def _linked_lookup(
    plan: Plan, schema: Schema, db: Any, key: MaskingKey, batch_rows: int, ch: Child,
    via: Parent, out: dict[str, Lookup],
) -> None:  # fmt: skip
    """Add the lookup of a link table ``ch`` to ``out``: target key of a referenced row
    → the patterns of the rows its rows link it to on the other side (``via``: a
    customer's contacts), those rows' own lookup (:func:`_tree_lookup`) added up."""
    _tree_lookup(plan, schema, db, key, batch_rows, via, out)
    far = out.get(tree_name(via)) or {}
    lookup: Lookup = {}
    if far:
        fk, ends = list(ch.fk_columns), list(via.fk_columns)
        trs = _key_transformers(plan, schema, ch.table, [*fk, *ends], key)
        for _, columns in db.iter_columns(ch.table, [*fk, *ends], None, batch_rows):
            tcols = [
                col if tr is None else transform(tr, list(col), ch.table, c)
                for c, col, tr in zip([*fk, *ends], columns, trs, strict=True)
            ]
            keys, tails = _keys(tcols[: len(fk)]), _keys(tcols[len(fk) :])
            for k, e in zip(keys, tails, strict=True):
                got = far.get(e) if e is not None else None
                if k is not None and got is not None:
                    had = lookup.get(k)
                    lookup[k] = got if had is None else had + got
    out[child_name(ch)] = lookup


def _grouped_lookup(
    found: dict[tuple[str, ...], set[tuple[str, str]]],
    batch_rows: int,
    memo: dict[tuple[str, str], Anchors] | None = None,
) -> Lookup:
    """Key → the patterns of its values (distinct, the first :data:`MAX_CHILD_VALUES`
    in sorted order; lazy: their anchors now, see :class:`_Pats`). The values of
    ``batch_rows`` keys at a time go through one :func:`checked_anchors_many` call
    (a value's anchors depend on the value alone): one call per key cost NumPy and
    normalising passes over a few values each, per referenced row (at 1 M rows about
    half of the row search's source side). The values in ``memo`` are taken from it."""
    lookup: Lookup = {}
    items = [(k, tuple(sorted(values)[:MAX_CHILD_VALUES])) for k, values in found.items()]
    for start in range(0, len(items), max(1, batch_rows)):
        chunk = items[start : start + max(1, batch_rows)]
        per_value = iter(_anchors_of_many([tv for _, known in chunk for tv in known], memo))
        for k, known in chunk:
            pats = _Pats.anchored(known, list(islice(per_value, len(known))))
            if pats is not None:
                lookup[k] = pats
    return lookup


def _anchors_of_many(
    known: list[tuple[str, str]], memo: dict[tuple[str, str], Anchors] | None
) -> list[Anchors]:
    """:func:`checked_anchors_many` of ``known``, those in ``memo`` taken from it."""
    if not memo:
        return checked_anchors_many(known)
    got = list(map(memo.get, known))
    miss = [i for i, a in enumerate(got) if a is None]
    if miss:
        for i, a in zip(miss, checked_anchors_many([known[i] for i in miss]), strict=True):
            got[i] = a
    return got  # type: ignore[return-value]


def _rows_known(names: list[str], columns: list[list[Any]], m: int) -> list[Known]:
    """Each row's ``(kind, value)`` pairs of its non-empty text values, in column
    order (columns holding only non-empty text: zipped in C-level passes)."""
    if not names:
        return [()] * m
    if not DATE_TRANSFORMERS.isdisjoint(names):  # a date of birth: its ISO text
        columns = [
            date_column(c) if t in DATE_TRANSFORMERS else c
            for t, c in zip(names, columns, strict=True)
        ]
    if all(set(map(type, col)) == {str} and "" not in col for col in columns):
        pairs = [list(zip(repeat(t), col)) for t, col in zip(names, columns, strict=True)]
        return list(zip(*pairs, strict=True))
    return [
        tuple((t, v) for t, v in zip(names, r, strict=True) if type(v) is str and v)
        for r in zip(*columns, strict=True)
    ]


def _key_transformers(
    plan: Plan, schema: Schema, table: Table, cols: Sequence[str], key: MaskingKey
) -> list[Any]:
    """The transformer the plan applies to each key column (None: kept): under the
    key and the consistency salt it gives the target's value of a source key."""
    out: list[Any] = []
    for c in cols:
        cp = plan.column(table.qualified, c)
        if cp is None or cp.transformer == "keep":
            out.append(None)
        else:
            salt = consistency_salt(schema, table.qualified, c)
            out.append(build_transformer(cp.transformer, cp.params, key=key, salt=salt))
    return out


def tree_name(p: Parent) -> str:
    """The lookup name of a referenced table with the tables it references in turn
    (its own name when it references none: the lookup of its own values)."""
    # a reference to columns other than the key (a unique code): looked up by those
    on = "" if p.key_columns == p.table.primary_key else f"[{','.join(p.key_columns)}]"
    if p.tag is not None:
        on += f"<{p.tag}>"
    if not p.parents:
        return f"{p.table.qualified}{on}"
    ups = "|".join(f"{','.join(q.fk_columns)}:{tree_name(q)}" for q in p.parents)
    return f"{p.table.qualified}{on}({ups})"


def _tree_lookup(
    plan: Plan, schema: Schema, db: Any, key: MaskingKey, batch_rows: int, p: Parent,
    out: dict[str, Lookup],
) -> None:  # fmt: skip
    """Add the lookup of ``p`` to ``out``: target key of ``p``'s rows → the patterns of
    their own values and of the rows they reference (:func:`parents_of`, the same
    tree whose values the engine hands to text_scrub). A row without values of its
    own shares its parent's patterns."""
    name = tree_name(p)
    if name in out or not p.table.primary_key:
        return
    for q in p.parents:
        _tree_lookup(plan, schema, db, key, batch_rows, q, out)
    ups = [(q.fk_columns, out[tree_name(q)]) for q in p.parents if tree_name(q) in out]
    mine = out.get(p.table.qualified)
    pk = list(p.table.primary_key)
    # the columns the rows are looked up by (the key, or the unique columns referenced)
    by = list(p.key_columns) if p.key_columns else pk
    more = [c for fk, _ in ups for c in fk] + by
    cols = pk + [c for c in dict.fromkeys(more) if c not in pk]
    at = {c: i for i, c in enumerate(cols)}
    trs = _key_transformers(plan, schema, p.table, cols, key)
    lookup: Lookup = {}
    for batch in db.iter_rows(p.table, cols, None, batch_rows):
        tcols = [  # the target's key values: the plan's transformer of the source's
            [r[j] for r in batch]
            if tr is None
            else transform(tr, [r[j] for r in batch], p.table, c)
            for j, (c, tr) in enumerate(zip(cols, trs, strict=True))
        ]
        for i in range(len(batch)):
            k = tuple(canon(tcols[at[c]][i]) for c in pk)
            pats = mine.get(k) if mine else None
            for fk, parent in ups:
                ref = tuple(tcols[at[c]][i] for c in fk)
                if all(x is not None for x in ref):
                    found = parent.get(tuple(map(canon, ref)))
                    if found is not None:
                        pats = found if pats is None else pats + found
            if pats is not None:
                if by != pk:
                    ref = tuple(tcols[at[c]][i] for c in by)
                    if any(x is None for x in ref):
                        continue
                    k = tuple(map(canon, ref))
                if p.tag is not None:  # (a polymorphic reference's rows: type, id)
                    k = (p.tag, *k)
                lookup[k] = pats
    out[name] = lookup


@dataclass(frozen=True)
class _Task:
    """One target table to search: which lookups apply through which columns."""

    source: str
    target: Table
    text_columns: tuple[str, ...]
    # json_mask columns: the paths whose leaves a pseudonymiser replaces (not searched)
    drawn: tuple[tuple[str, tuple[Path, ...]], ...]
    # (lookup name, target columns holding its key)
    refs: tuple[tuple[str, tuple[str, ...]], ...]
    where: str | None = None  # one part of a table split for parallel workers
    # the text columns copied as they are (kept, or not in the plan): their words are
    # also searched for a name inside a login (see embedded). Not the scrubbed ones:
    # a pseudonym e-mail is made of dictionary names, which may be the row's
    kept: tuple[str, ...] = ()


def tasks(
    plan: Plan, schema: Schema, tschema: Schema, lookups: dict[str, Lookup], match: Any
) -> list[_Task]:
    out = []
    for src in schema.tables:
        target = match(src.qualified, tschema)
        if target is None:
            continue
        text = []
        drawn = []
        copied = []
        for c in target.columns:
            cp = plan.column(src.qualified, c.name)
            if c.kind not in SEARCHED or (cp is not None and cp.transformer not in PASS_THROUGH):
                continue
            text.append(c.name)
            if cp is None or cp.transformer == "keep":
                copied.append(c.name)
            if cp is not None and cp.transformer == "json_mask":
                paths = tuple(
                    parse_path(p)
                    for p, spec in cp.params.get("paths", {}).items()
                    if spec.get("transformer") not in PASS_THROUGH
                )
                if paths:
                    drawn.append((c.name, paths))
        if not text:
            continue
        refs: list[tuple[str, tuple[str, ...]]] = []
        if src.qualified in lookups:
            refs.append((src.qualified, src.primary_key))
        for p in parents_of(plan, schema, src):  # and those of the rows it references
            if tree_name(p) in lookups:
                refs.append((tree_name(p), p.fk_columns))
        if refs:
            out.append(
                _Task(
                    src.qualified, target, tuple(text), tuple(drawn), tuple(refs),
                    kept=tuple(copied),
                )
            )  # fmt: skip
        # the values of the rows that reference a row, in its scrubbed columns only (a
        # kept catalogue title names what its rows are about: an album its composers)
        down = [
            (child_name(ch), ch.key_columns)
            for ch in children_of(plan, schema, src)
            if child_name(ch) in lookups
        ]
        scrubbed = [c for c in _scrubbed(plan, src) if c in text]
        if down and scrubbed:
            kept = tuple((c, p) for c, p in drawn if c in scrubbed)
            out.append(_Task(src.qualified, target, tuple(scrubbed), kept, tuple(down)))
    return out


def _text(v: object, drawn: tuple[Path, ...] = ()) -> str:
    if v is None:
        return ""
    if drawn:
        doc = _as_document(v)
        if doc is not None:
            return "\n".join(_leaves(doc, (), drawn))
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False, default=str)
    if isinstance(v, (bytes, bytearray, memoryview)):
        try:  # text kept as bytes (a BLOB of UTF-8, SQLite's dynamic typing); else binary
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return ""
    return str(v)


def _as_document(v: object) -> Any:
    if isinstance(v, (dict, list)):
        return v
    if isinstance(v, str):
        try:
            return json.loads(v)
        except (ValueError, RecursionError):
            return None
    return None


def _matches(path: Path, pattern: Path) -> bool:
    return len(path) == len(pattern) and all(
        q is None or p == q for p, q in zip(path, pattern, strict=True)
    )


def _leaves(node: Any, path: Path, drawn: tuple[Path, ...]) -> list[str]:
    """Keys and scalar leaves of a document, except leaves at ``drawn`` paths."""
    if isinstance(node, dict):
        out = []
        for k, v in node.items():
            out.append(str(k))
            out += _leaves(v, (*path, str(k)), drawn)
        return out
    if isinstance(node, list):
        return [x for v in node for x in _leaves(v, (*path, None), drawn)]
    if node is None or any(_matches(path, d) for d in drawn):
        return []
    return [str(node)]


def _hit(n: str, c: str, p: _Pats) -> bool:
    return any(map(n.__contains__, p.words)) or any(map(c.__contains__, p.compact))


def _cells(values: list[Any], drawn: tuple[Path, ...]) -> list[str]:
    """:func:`_text` of a column's values (a text column without NULLs as it is)."""
    kinds = set(map(type, values))
    if not drawn and str in kinds and kinds <= {str, type(None)}:
        return ["" if v is None else v for v in values] if type(None) in kinds else values
    if not drawn and kinds <= _DOCS:  # documents: one encoder call for the batch
        docs = [v for v in values if v is not None]
        texts = encode_many(_JSON_TEXT, docs)
        if texts is not None:
            if len(docs) == len(values):
                return texts
            encoded = iter(texts)
            return ["" if v is None else next(encoded) for v in values]
    return [_text(v, drawn) for v in values]


_DOCS = frozenset({dict, list, type(None)})
# json.dumps(v, ensure_ascii=False, default=str) (:func:`_text`) as one encoder
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, default=str).encode


def canon_columns(columns: Sequence[Sequence[Any]]) -> list[tuple[str, ...]]:
    """Each row's values by :func:`canon` (``str`` of integers and strings in one
    C-level ``map``)."""
    canon_cols = [
        list(map(str, col)) if set(map(type, col)) <= {int, str} else list(map(canon, col))
        for col in columns
    ]
    return list(zip(*canon_cols, strict=True))


def _keys(columns: list[list[Any]]) -> list[tuple[str, ...] | None]:
    """Each row's key (:func:`canon_columns`), None where one of its values is NULL."""
    keys: list[tuple[str, ...] | None] = list(canon_columns(columns))
    if any(any(map(is_, col, repeat(None))) for col in columns):
        rows = zip(*columns, strict=True)
        return [
            None if any(map(is_, r, repeat(None))) else k for r, k in zip(rows, keys, strict=True)
        ]
    return keys


def _candidates(
    row_n: list[str],
    row_c: list[str],
    found: list[list[_Pats | None]],
    row_k: list[str] | None = None,
) -> npt.NDArray[np.bool_]:
    """Rows where one of their patterns occurs in their text (:func:`_hit` of every
    row with every referenced lookup), or one of their :attr:`_Pats.names` in the
    text of their kept cells ``row_k``, in C-level passes over all (row, pattern)
    pairs of the batch; then, in the rows that hold none, a mark read in their text
    (``core_hits``: a street's core next to a street word, a date of birth's
    writings; a mark is in no text)."""
    hit = np.zeros(len(row_n), dtype=bool)
    with_text = np.zeros(len(row_n), dtype=bool)
    for per_row, rows in _with_text(row_n, found):
        pats: list[_Pats] = [per_row[k] for k in rows]  # type: ignore[misc]
        groups = [(row_n, [p.words for p in pats]), (row_c, [p.compact for p in pats])]
        if row_k is not None:
            groups.append((row_k, [p.names for p in pats]))
        for texts, pieces in groups:
            _mark_inside(hit, rows, [texts[k] for k in rows], pieces)
        with_text[rows] = True
    for k in np.flatnonzero(with_text & ~hit).tolist():
        n = row_n[k]
        hit[k] = any(
            core_hits(w, n)
            for per_row in found
            if (p := per_row[k]) is not None
            for w in p.words
            if w[:1] == CORE
        )
    return hit


def _mark_inside(
    hit: npt.NDArray[np.bool_], rows: list[int], hay: list[str], pieces: list[tuple[str, ...]]
) -> None:
    """Set ``hit[rows[j]]`` where one of ``pieces[j]`` is in ``hay[j]``: one C-level
    ``map`` over all (row, piece) pairs."""
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    if not lengths.any():
        return
    owner = np.repeat(np.asarray(rows, dtype=np.int64), lengths)
    haystack = np.empty(len(rows), dtype=object)
    haystack[:] = hay
    inside = np.fromiter(
        map(str.__contains__, np.repeat(haystack, lengths).tolist(), chain.from_iterable(pieces)),
        dtype=bool,
        count=int(lengths.sum()),
    )
    hit[owner[inside]] = True


def _with_text(
    row_n: list[str], found: list[list[_Pats | None]]
) -> Iterator[tuple[list[_Pats | None], list[int]]]:
    """Each lookup's patterns per row, with the rows that have them and text."""
    for per_row in found:
        rows = [k for k, p in enumerate(per_row) if p is not None and row_n[k].strip(" \x00")]
        if rows:
            yield per_row, rows


def _searched(
    row_n: list[str],
    row_c: list[str],
    found: list[list[_Pats | None]],
    row_k: list[str] | None,
) -> npt.NDArray[np.bool_]:
    """:func:`_candidates` of the rows whose compact text holds one of their anchors
    (:func:`_anchored`), the others' patterns never built: the same rows, as every
    row :func:`_candidates` takes holds an anchor (see ``_anchors``)."""
    hit = np.zeros(len(row_n), dtype=bool)
    at = np.flatnonzero(_anchored(row_n, row_c, found)).tolist()
    if not at:
        return hit
    sub = [list(map(per_row.__getitem__, at)) for per_row in found]
    _build_all([p for per_row in sub for p in per_row if p is not None])
    got = _candidates(
        list(map(row_n.__getitem__, at)),
        list(map(row_c.__getitem__, at)),
        sub,
        None if row_k is None else list(map(row_k.__getitem__, at)),
    )
    hit[np.asarray(at, dtype=np.int64)[got]] = True
    return hit


def _anchored(
    row_n: list[str], row_c: list[str], found: list[list[_Pats | None]]
) -> npt.NDArray[np.bool_]:
    """Rows (with text) whose compact text holds one of the anchors of one of their
    lookups' patterns, in C-level passes over all (row, anchor) pairs of the batch:
    a superset of :func:`_candidates`' rows. A word pattern in the norm text is
    there without its spaces in the compact text, a compact pattern is searched in
    it, a name word in a kept cell (:attr:`_Pats.names`: a one-word pattern's word)
    is in the row's text, and every pattern holds an anchor without its spaces."""
    hit = np.zeros(len(row_n), dtype=bool)
    for per_row, rows in _with_text(row_n, found):
        pieces = [per_row[k].anchors for k in rows]  # type: ignore[union-attr]
        hay = list(map(row_c.__getitem__, rows))
        if all(len(p) == 1 for p in pieces):  # (most rows: one anchor)
            inside = np.fromiter(
                map(str.__contains__, hay, map(itemgetter(0), pieces)), dtype=bool, count=len(rows)
            )
            hit[np.asarray(rows, dtype=np.int64)[inside]] = True
        else:
            _mark_inside(hit, rows, hay, pieces)
    return hit


def _stemmed(row_n: list[str], found: list[list[_Pats | None]]) -> dict[int, list[str]]:
    """Row → its surnames (``_known.surnames`` of its own and referenced rows' values),
    for the rows whose text holds one shortened and glued to digits (ganthr7:
    ``_readings.stem_spans``). One C-level search of the batch's texts; only the
    rows with a run of letters before a digit are read on their own."""
    out: dict[int, list[str]] = {}
    for k in stem_rows(row_n):
        parts = [known for per_row in found if (p := per_row[k]) is not None for known in p.parts]
        names = surnames(chain.from_iterable(parts))
        if names and stem_spans(row_n[k], names):
            out[k] = names
    return out


def _reference_cell(normed: str) -> bool:
    """Whether a kept cell (its :func:`norm` text) is, whole, a country, language or
    currency code (three letters or fewer): ``ko`` in a kept ``language`` column
    beside a customer named Ko. Such a cell names no person (the whole-target scan
    takes it for public too: ``lint.never_public``); a longer text holding the name
    (``ko (Ko Min)``) is searched as any other. A spelled-out name is not passed
    over: a kept cell ``Jordan`` beside a customer called Jordan is a hit, since a
    plan that keeps a name column by mistake must fail however the name reads."""
    text = normed.strip()
    return 0 < len(text) <= 3 and is_reference_value(text)


class TableSearch:
    """The search of one task's target rows, fed batch by batch (:meth:`add`) with
    the columns :attr:`columns` of the task's table: by :func:`check_table`, or by a
    reader that reads the table for the whole-target scan at the same time."""

    def __init__(self, task: _Task, lookups: dict[str, Lookup]) -> None:
        self.task = task
        self.text = list(task.text_columns)
        by_col = dict(task.drawn)
        self.drawn = [by_col.get(c, ()) for c in self.text]
        keycols = list(dict.fromkeys(c for _, cols in task.refs for c in cols))
        self.columns = self.text + [c for c in keycols if c not in self.text]
        self.kept = [i for i, c in enumerate(self.text) if c in task.kept]
        pos = {c: i for i, c in enumerate(self.columns)}
        self.refs = [(lookups[name], [pos[c] for c in kc]) for name, kc in task.refs]
        self.counts: dict[tuple[str, str], int] = {}
        self.rows = 0

    def add(self, m: int, columns: list[list[Any]]) -> None:
        """Search a batch of ``m`` rows (``columns`` in the order of :attr:`columns`)."""
        text, drawn, counts = self.text, self.drawn, self.counts
        self.rows += m
        nt = len(text)
        # every cell normalised in one pass (column after column)
        normed = norm_texts(
            list(chain.from_iterable(_cells(columns[i], drawn[i]) for i in range(nt)))
        )
        cells_n = [normed[i * m : (i + 1) * m] for i in range(nt)]
        row_n = list(map("\x00".join, zip(*cells_n, strict=True)))
        # each row's cells without spaces (compact_many), joined: the same as its
        # joined cells without spaces (the separator is no space), in one pass a row
        row_c = list(map(str.replace, row_n, repeat(" "), repeat("")))
        found = [
            list(map(lookup.get, _keys([columns[i] for i in idx])))  # type: ignore[arg-type]
            for lookup, idx in self.refs
        ]
        kept = self.kept
        row_k = (
            list(map("\x00".join, zip(*(cells_n[i] for i in kept), strict=True))) if kept else None
        )
        hit = _searched(row_n, row_c, found, row_k)
        stems = _stemmed(row_n, found)
        if stems:
            hit[list(stems)] = True
        for k in np.flatnonzero(hit).tolist():
            every = [x for per_row in found if (p := per_row[k]) is not None for x in p.kinds]
            names = [n for per_row in found if (p := per_row[k]) is not None for n in p.names]
            mine = stems.get(k)
            for i in range(nt):
                n = cells_n[i][k]
                if i in kept and _reference_cell(n):
                    continue
                (c,) = compact_many([n])
                kinds = {
                    kind
                    for w, comp, kind in every
                    if w in (c if comp else n) or (w[:1] == CORE and core_hits(w, n))
                }
                if i in kept and "name" not in kinds and names and embedded(n, names):
                    kinds.add("name")
                if mine and "name" not in kinds and stem_spans(n, mine):
                    kinds.add("name")
                for kind in kinds:
                    counts[(text[i], kind)] = counts.get((text[i], kind), 0) + 1

    def hits(self) -> list[RowHit]:
        table = self.task.target.qualified
        return [RowHit(table, c, k, n) for (c, k), n in sorted(self.counts.items())]


def check_table(
    db: Any,
    task: _Task,
    lookups: dict[str, Lookup],
    batch_rows: int,
    progress: Progress | None = None,
) -> tuple[list[RowHit], int]:
    """Search one target table; returns its hits and the number of rows read."""
    search = TableSearch(task, lookups)
    for m, columns in db.iter_columns(task.target, search.columns, task.where, batch_rows):
        search.add(m, columns)
        if progress:
            progress(f"rows {task.target.qualified}", m)
    return search.hits(), search.rows


# ---- parallel workers: forked after the lookups are built, so they share them ---------


def _work(task: _Task) -> tuple[list[RowHit], int]:
    from stagewall.masking._parallel import SHARED
    from stagewall.masking.db import open_database

    with open_database(SHARED["url"], role="target", read_only=True) as db:
        db.begin_read()
        return check_table(db, task, SHARED["lookups"], SHARED["batch_rows"])


def check_all(
    url: Any,
    db: Any,
    work: Sequence[_Task],
    lookups: dict[str, Lookup],
    batch_rows: int,
    jobs: int,
    progress: Progress | None,
) -> list[RowHit]:
    """Search every task's table; in ``jobs`` forked processes when more than one."""
    from stagewall.masking._parallel import can_fork, forked

    if not can_fork(jobs) or not work:
        hits: list[RowHit] = []
        for t in work:
            hits += check_table(db, t, lookups, batch_rows, progress)[0]
        return _merged(hits)
    shared = {"url": url, "lookups": lookups, "batch_rows": batch_rows}
    return merged_parts(forked(_work, parts(db, work, jobs), jobs, shared, done(progress)))


def parts(db: Any, work: Sequence[_Task], jobs: int) -> list[_Task]:
    """The tasks split for ``jobs`` workers (:func:`_work`'s items, with ``SHARED``
    holding ``url``, ``lookups`` and ``batch_rows``)."""
    from dataclasses import replace

    from stagewall.masking._parallel import split

    return [replace(t, where=w) for t in work for w in split(db, t.target, jobs)]


def done(progress: Progress | None) -> Callable[[tuple[list[RowHit], int]], None]:
    def report(got: tuple[list[RowHit], int]) -> None:
        if progress:
            progress("rows", got[1])

    return report


def merged_parts(found: Sequence[tuple[list[RowHit], int]]) -> list[RowHit]:
    """The hits of every part, one entry per table, column and kind."""
    return _merged([h for got, _ in found for h in got])


def _merged(hits: list[RowHit]) -> list[RowHit]:
    """One entry per table, column and kind (the parts of a split table add up)."""
    merged: dict[tuple[str, str, str], int] = {}
    for h in hits:
        merged[(h.table, h.column, h.kind)] = merged.get((h.table, h.column, h.kind), 0) + h.cells
    return [RowHit(t, c, k, n) for (t, c, k), n in sorted(merged.items())]


__all__ = [
    "TEXT_LIKE",
    "RowHit",
    "TableSearch",
    "check_all",
    "check_table",
    "done",
    "merged_parts",
    "parts",
    "source_lookups",
    "tasks",
]
