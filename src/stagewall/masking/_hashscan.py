"""Verify's whole-target scan: keyed hashes of every source unit, searched in every
target cell (steps 2 and 3 of :mod:`stagewall.masking.verify`).

Both steps run per *part* (a table, or a range of one: see :mod:`._parallel`), in
forked workers when ``jobs`` > 1: each part of the source gives its hash arrays,
merged here; each part of the target is searched against the merged sets, which
the workers share copy-on-write. Parts of the source are read in the snapshot the
coordinator exported (PostgreSQL), so all of them see one source.

Three shortcuts leave every hit as it was (tests/masking/test_gate.py and
test_scrub_late.py compare): the detector reads only the target texts that hold a
sensitive unit (:mod:`._gate`), the tokens inside a pseudonymiser's outputs are
found only for the target hits that need them (:func:`._late.resolve`), and so are
a scrubber's outputs (:mod:`._scrublate`): what it passes through, what it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.errors import MaskingError, StagewallError
from stagewall.keys import MaskingKey
from stagewall.masking._documents import as_documents, is_document
from stagewall.masking._gate import Gate, holds_compact_iban, unit_keys
from stagewall.masking._known_rows import KnownRows, known_spec
from stagewall.masking._namepairs import FULL, cells_holding_pairs
from stagewall.masking._namewords import (
    WORDLESS,
    cells_holding,
    merge_counts,
    merge_word,
    name_columns,
    people_tables,
    public_texts,
    rare,
    source_columns,
    source_words,
)
from stagewall.masking._otherids import OTHER_ID, OtherIds
from stagewall.masking._units import (
    EMPTY,
    KEY,
    LEAF,
    PII,
    WHOLE,
    FlatUnits,
    H,
    Hasher,
    HashSet,
    Members,
    contains,
    union_sorted,
    unique_first,
    unique_sorted,
)
from stagewall.masking.classify import remembering
from stagewall.masking.lint import KEEP, PEOPLES, never_public
from stagewall.masking.plan import Plan, consistency_salt
from stagewall.masking.schema import Schema, Table
from stagewall.masking.transformers._known import KnownBatch

# Transformers that rewrite only the sensitive parts of a value (text, JSON): what
# they leave unchanged is passed through by the plan, like a `keep`, unless it is
# PII (detected, or a whole value of another masked column).
SCRUBBERS = frozenset({"text_scrub", "json_mask"})
Progress = Callable[[str, int], None]
Col = tuple[str, str]


@dataclass
class Sets:
    sensitive: H
    legit: dict[Col, H]
    source_rows: dict[str, int]
    hasher: Hasher
    # per scrubbed column: whole values its source held and the scrubber left as they
    # were in the same row (the detector found no PII in them): that column's own text
    passed_by: dict[Col, H] = field(default_factory=dict)
    # which target texts the detector must read (None: all of them)
    gate: Gate | None = None
    # columns whose legitimate outputs lack the tokens inside them: pseudonymisers,
    # whose outputs are cheap to recompute for the few hits that need them (_late)
    late: frozenset[Col] = frozenset()
    # scrubbed columns whose outputs were not computed (their legit and passed_by are
    # left to _scrublate), the units of their values (whole values and JSON leaves),
    # and the units of ``sensitive`` that are sensitive only if no scrubber passes
    # them through unchanged (the scan keeps their hits pending)
    scrub_late: frozenset[Col] = frozenset()
    scrubbed: dict[Col, H] = field(default_factory=dict)
    doubtful: H = field(default_factory=lambda: EMPTY)
    # the source tables' primary keys (a target row is paired with its source row)
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # how many distinct hashes the target is searched for: ``sensitive`` with the
    # units a scrubber passes through unchanged (the same late and eager)
    searched: int = 0
    # the source's rare name words (word -> kind), searched as words in every text
    # of the target (:mod:`._namewords`)
    name_words: dict[str, str] = field(default_factory=dict)
    # the columns whose values the plan generates (a pseudonymiser, FPE, a hash: not
    # kept, not scrubbed): searched for rare words, not for rare words glued to digits
    # or to other letters
    generated: frozenset[Col] = frozenset()
    # the source's full names (pairs of folded words), searched in every text of the
    # target as two adjacent words (:mod:`._namepairs`); verify's pre-pass sets them
    name_pairs: frozenset[tuple[str, str]] = frozenset()
    # the source's identifier forms (:mod:`._otherids`), searched in every text of the
    # target but the values the plan generates; verify's pre-pass sets them
    other_ids: OtherIds | None = None
    _members: Members | None = field(default=None, init=False, repr=False, compare=False)

    def is_sensitive(self, hashes: H) -> npt.NDArray[np.bool_]:
        """``contains(self.sensitive, hashes)``, through a bitmap prefilter."""
        if self._members is None or self._members.array is not self.sensitive:
            self._members = Members(self.sensitive)
        return self._members(hashes)

    def source_name(self, target: Table) -> str:
        """The source table a target table was copied from (see ``verify._in_target``)."""
        return self.source_name_of(target.qualified)

    def source_name_of(self, qualified: str) -> str:
        """:meth:`source_name` by the target table's qualified name."""
        if qualified in self.source_rows:
            return qualified
        name = qualified.rsplit(".", 1)[-1]
        same = [q for q in self.source_rows if q.rsplit(".", 1)[-1] == name]
        return same[0] if len(same) == 1 else qualified


@dataclass
class _Part:
    """The hash arrays of one part of one source table."""

    table: str
    rows: int
    strong: H
    weak: H
    allowed: H
    passed: H  # passed through by a transformer other than a scrubber
    pii: H
    legit: dict[Col, H]
    passed_by: dict[Col, H]
    # whole values of masked columns of people's values: never public (see _merge)
    owned: H
    # every unit that may be sensitive (not a kept column's own value) and its gate key
    gate_hashes: H
    gate_keys: H
    gate_lengths: npt.NDArray[np.int64]
    late: frozenset[Col]
    # whether a unit is an IBAN's compact form (the gate then reads IBANs with spaces)
    compact_ibans: bool = True
    # passed through by a scrubber (eager), or the units of a scrubbed column's values
    # whose outputs were not computed (late)
    passed_scrub: H = field(default_factory=lambda: EMPTY)
    scrubbed: dict[Col, H] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    # the words of its name columns (word -> kind) and of its kept columns
    name_words: dict[str, str] = field(default_factory=dict)
    public_words: set[str] = field(default_factory=set)
    generated: frozenset[Col] = frozenset()


def hasher_for(key: MaskingKey) -> Hasher:
    from stagewall.masking.classify import detect_texts

    return Hasher(key.derive("masking/verify"), detect_texts)


def collect(
    plan: Plan,
    schema: Schema,
    db: Any,
    key: MaskingKey,
    batch_rows: int,
    progress: Progress | None,
    *,
    jobs: int = 1,
    url: Any = None,
    snapshot: str | None = None,
    late: bool = True,
    meanwhile: Callable[[], None] | None = None,
) -> Sets:
    """The sensitive hashes of the source and the legitimate outputs per column.

    ``jobs`` > 1 (with ``url``, and ``snapshot`` where the backend has one): the
    tables' parts are read in forked workers. ``late=False`` finds the tokens inside
    every column's outputs here and runs the scrubbers on every row, leaving nothing
    to :mod:`._late` and :mod:`._scrublate` (the reference the tests compare with).
    ``meanwhile`` runs in this process while the workers read (or after the
    reading, with one job).
    """
    from stagewall.masking._parallel import can_fork, forked, largest_first, split

    hasher = hasher_for(key)
    if can_fork(jobs) and url is not None:
        _warm(plan, schema, key)
        tables = largest_first(schema.tables, lambda t: (t.row_estimate or 0) * len(t.columns))
        items = [(t.qualified, w) for t in tables for w in split(db, t, jobs)]

        def done(got: _Part) -> None:
            if progress:
                progress(f"source {got.table}", got.rows)

        # the related rows a table's scrubbers need, read once here (in the exported
        # snapshot's transaction) and shared copy-on-write by every part of the table:
        # each part read them all again before (a part's rows reference any of them)
        # (late, the scrubbers are not run here: nothing needs them)
        shared = {
            "collect": (plan, schema, key, url, snapshot, batch_rows, late),
            "known": {} if late else prepared_known_rows(plan, schema, key, db, batch_rows),
        }
        parts = forked(_collect_worker, items, jobs, shared, done, meanwhile)
    else:
        parts = [
            _collect_part(plan, schema, db, key, hasher, t, None, batch_rows, progress, late)
            for t in schema.tables
        ]
        if meanwhile is not None:
            meanwhile()
    return _merge(parts, hasher)


def _warm(plan: Plan, schema: Schema, key: MaskingKey) -> None:
    """Load the detector's dictionaries and the plan's transformers' (cached per
    process) here, once, before workers are forked: they inherit them instead of
    each loading its own."""
    from stagewall.masking.classify import detect_texts

    # (with another script's digit: the detector's view tables, classify._forms)
    list(detect_texts(["Anna Miller, 10 High Street, anna@example.org, +49 30 1234567 \u0661"]))
    for table in schema.tables:
        _transformers(plan, schema, key, table)


def _collect_worker(item: tuple[str, str | None]) -> _Part:
    from stagewall.masking._parallel import SHARED
    from stagewall.masking.db import open_database

    plan, schema, key, url, snapshot, batch_rows, late = SHARED["collect"]
    table = schema.table(item[0])
    knows = SHARED.get("known", {}).get(item[0])
    with open_database(url, role="source") as db:
        db.begin_read(snapshot)
        return _collect_part(
            plan, schema, db, key, hasher_for(key), table, item[1], batch_rows, None, late,
            knows=knows,
        )  # fmt: skip


def _transformers(plan: Plan, schema: Schema, key: MaskingKey, table: Table) -> list[Any]:
    """The transformer of each copied column of ``table`` (None: not in the plan;
    :data:`KEEP`: kept or a full-text column, hashed like a kept one)."""
    from stagewall.masking.db import copy_columns
    from stagewall.masking.transformers import build_transformer

    out: list[Any] = []
    for c in copy_columns(table):
        cp = plan.column(table.qualified, c.name)
        if cp is None or cp.transformer in (KEEP, "tsvector"):
            # Unplanned columns (drift) count as sensitive, with no legit output.
            # A full-text column is recomputed from its row: equal to the source
            # where its text columns are kept, so hashed like a kept column.
            out.append(None if cp is None else KEEP)
            continue
        salt = consistency_salt(schema, table.qualified, c.name)
        out.append(build_transformer(cp.transformer, cp.params, key=key, salt=salt))
    return out


def _wants_known(transformers: Sequence[Any]) -> bool:
    return any(getattr(tr, "wants_known", False) for tr in transformers)


def prepared_known_rows(
    plan: Plan, schema: Schema, key: MaskingKey, db: Any, batch_rows: int
) -> dict[str, KnownRows]:
    """For each table whose scrubbers take the rows' known values: its
    :class:`KnownRows`, prepared (the related rows read from ``db``, whose
    connection must be idle). The same object :func:`_collect_part` would make and
    prepare for each part of the table on its own."""
    from stagewall.masking.db import copy_columns

    out: dict[str, KnownRows] = {}
    for table in schema.tables:
        if _wants_known(_transformers(plan, schema, key, table)):
            cols = [c.name for c in copy_columns(table)]
            knows = KnownRows(known_spec(plan, schema, table), cols)
            knows.prepare(db, batch_rows)
            out[table.qualified] = knows
    return out


def _merge(parts: Sequence[_Part], hasher: Hasher) -> Sets:
    union = union_sorted  # (every part's arrays are sorted)

    def by_column(maps: Sequence[dict[Col, H]]) -> dict[Col, H]:
        keys = dict.fromkeys(k for m in maps for k in m)
        return {k: union([m[k] for m in maps if k in m]) for k in keys}

    strong = union([p.strong for p in parts])
    weak = union([p.weak for p in parts])
    allowed = union([p.allowed for p in parts])
    passed = union([p.passed for p in parts])
    passed_scrub = union([p.passed_scrub for p in parts])
    scrubbed = by_column([p.scrubbed for p in parts])
    rows: dict[str, int] = {}
    for p in parts:
        rows[p.table] = rows.get(p.table, 0) + p.rows
    pii = union([p.pii for p in parts])
    owned = union([p.owned for p in parts])
    # What a kept column holds is public, so not sensitive elsewhere (a status
    # `active` kept in one table and masked in another) — unless it is detected PII
    # or a whole value of a masked column of people's values (names, e-mails,
    # phones, streets, ...): a kept column holding those too (an FTS ``author``
    # column of the customers' surnames) is a copy of them, reported in that column.
    public = np.setdiff1d(allowed, union([pii, owned]), assume_unique=True)
    sure = np.setdiff1d(strong, public, assume_unique=True)
    maybe = np.setdiff1d(weak, union([allowed, passed]), assume_unique=True)
    # what scrubbers pass through is not sensitive: passed_scrub of those that ran
    # here; of the others (late), the units of their values that nothing else decides
    # are doubtful, and _scrublate runs them for those a target cell holds
    searched = union([sure, maybe])
    unpassed = np.setdiff1d(maybe, passed_scrub, assume_unique=True)
    sensitive = union([sure, unpassed])
    doubtful = EMPTY
    if scrubbed:
        doubtful = np.intersect1d(unpassed, union(list(scrubbed.values())), assume_unique=True)
        doubtful = np.setdiff1d(doubtful, sure, assume_unique=True)
    gate_hashes = np.concatenate([p.gate_hashes for p in parts]) if parts else EMPTY
    gate_keys = np.concatenate([p.gate_keys for p in parts]) if parts else EMPTY
    gate_lengths = (
        np.concatenate([p.gate_lengths for p in parts]) if parts else np.zeros(0, np.int64)
    )
    # every sensitive unit has its key (strong and weak are made of gated units);
    # were one missing, the gate could hide it, so there would be none
    gate = None
    mine = Members(sensitive)(gate_hashes)
    if covers(gate_hashes, mine, sensitive):
        spaced = any(p.compact_ibans for p in parts)
        gate = Gate(sensitive, gate_keys[mine], gate_lengths[mine], hasher.hash_many, spaced)
    names: dict[str, str] = {}
    for p in parts:  # (a word that is a surname somewhere is a surname: merge_word)
        for w, kind in p.name_words.items():
            merge_word(names, w, kind)
    words = rare(names, (w for p in parts for w in p.public_words))
    sets = Sets(
        sensitive,
        by_column([p.legit for p in parts]),
        rows,
        hasher,
        by_column([p.passed_by for p in parts]),
        gate,
        frozenset(c for p in parts for c in p.late),
        frozenset(scrubbed),
        scrubbed,
        doubtful,
        {p.table: p.key for p in parts if p.scrubbed},
        int(searched.size),
        words,
        frozenset(c for p in parts for c in p.generated),
    )
    return sets


def covers(hashes: H, member: npt.NDArray[np.bool_], sensitive: H) -> bool:
    """Whether every hash of ``sensitive`` (sorted, distinct) is among ``hashes``,
    given which of ``hashes`` are in ``sensitive`` (``member``): the sensitive ones
    among them are all of them when they are as many, once made distinct (only those
    are sorted, not all of ``hashes``)."""
    return bool(unique_sorted(hashes[member]).size == sensitive.size)


def not_in(hit: npt.NDArray[np.bool_], hashes: H, excused: H) -> npt.NDArray[np.bool_]:
    """``hit & ~contains(excused, hashes)``, looking up the hits alone (few, where
    ``excused`` is a column's large set of legitimate outputs)."""
    at = np.flatnonzero(hit)
    if not at.size or not excused.size:
        return hit
    out = hit.copy()
    out[at[contains(excused, hashes[at])]] = False
    return out


def _owned(units: FlatUnits, texts: list[str]) -> H:
    """The hashes of the whole values among ``units`` that no kept column makes
    public (:func:`.lint.never_public`)."""
    whole = np.flatnonzero(units.kind == WHOLE).tolist()
    judged = {t: never_public(t) for t in {texts[i] for i in whole}}
    keep = [i for i in whole if judged[texts[i]]]
    return units.hashes[np.asarray(keep, dtype=np.int64)] if keep else EMPTY


# Transformers of numbers that are also stored as their digits alone (an integer)
_NUMBERS = frozenset({"phone", "card_number"})
_DIGIT = frozenset("0123456789")


def _digit_forms(values: Sequence[object]) -> list[str]:
    """The digits alone of the phone or card numbers among ``values`` that are written
    with anything else (``+34 612 345 678`` → ``34612345678``): a call record's
    BIGINT ``msisdn`` holding the number is that unit, and it is personal data
    wherever it is, whatever a kept column holds (counted as PII)."""
    out: dict[str, None] = {}
    for v in values:
        if type(v) is str:
            d = "".join(c for c in v if c in _DIGIT)
            if len(d) >= MIN_NUMBER and d != v.strip():
                out[d] = None
    return list(out)


MIN_NUMBER = 8  # digits: fewer identify no phone or card


def _collect_part(
    plan: Plan,
    schema: Schema,
    db: Any,
    key: MaskingKey,
    hasher: Hasher,
    table: Table,
    where: str | None,
    batch_rows: int,
    progress: Progress | None,
    late_tokens: bool = True,
    *,
    knows: KnownRows | None = None,
) -> _Part:
    """The hash arrays of one part of ``table`` (``where``). ``knows``: the table's
    :class:`KnownRows` already prepared (:func:`prepared_known_rows`); else made and
    prepared here when a scrubber needs it. ``late_tokens``: pseudonymisers' tokens
    and scrubbers' outputs are left to :mod:`._late` and :mod:`._scrublate`."""
    from stagewall.masking.db import copy_columns

    strong, weak, allowed, passed, pii = HashSet(), HashSet(), HashSet(), HashSet(), HashSet()
    owned, passed_scrub = HashSet(), HashSet()
    scrubbed: dict[Col, HashSet] = {}
    gate_h: list[H] = []
    gate_k: list[H] = []
    gate_n: list[npt.NDArray[np.int64]] = []
    late: set[Col] = set()
    ibans = False
    bare = hasher.without_detector()
    legit: dict[Col, HashSet] = {}
    passed_by: dict[Col, HashSet] = {}
    cols = [c.name for c in copy_columns(table)]
    documents = frozenset(c.name for c in copy_columns(table) if is_document(c))
    # (numbers, times, booleans and uuids hold no word: no public words read there)
    wordless = frozenset(c.name for c in copy_columns(table) if c.kind in WORDLESS)
    transformers = _transformers(plan, schema, key, table)
    # scrubbers are recomputed with the row's known values, as the run gave them
    if late_tokens or not _wants_known(transformers):  # (only scrubbers want them)
        knows = None
    elif knows is None:
        knows = KnownRows(known_spec(plan, schema, table), cols)
        knows.prepare(db, batch_rows)
    # several consumers of the known values (an order's note under text_scrub and its
    # JSON under json_mask): one KnownBatch a batch, whose probes (Pairs) are built
    # once for all of them, as the run built them (_copy.TableMapper._known_of)
    shared_known = sum(1 for tr in transformers if getattr(tr, "wants_known", False)) > 1
    # rare name words (:mod:`._namewords`): the words of the name columns, and those
    # the source makes public: kept text, and the text a table not about people (no
    # name column, no foreign key to such a table) passes through a scrubber
    # (catalogue text: titles, product and band names)
    names: dict[str, str] = {}
    public: set[str] = set()
    planned = {
        c: tr.name for c, tr in zip(cols, transformers, strict=True) if tr not in (None, KEEP)
    }
    # (a street column's rare name words too: _streetcores; only a name column makes
    # the table one about people)
    people = bool(name_columns(planned)) or table.qualified in people_tables(plan, schema)
    named = source_columns(planned)
    n = 0
    for m, columns in db.iter_columns(table, cols, where, batch_rows):
        n += m
        known = None
        if knows is not None:
            known = knows.rows({j: columns[j] for j in knows.columns}, m)
            if shared_known:
                known = KnownBatch(known)
        for i, c in enumerate(cols):
            values = columns[i]
            tr = transformers[i]
            if c in named:
                source_words(named[c], values, names)
            # a scrubber searches the very texts whose units are found here again:
            # the detector remembers their findings for it (findings depend on the
            # text alone)
            with remembering() if _scrubs(tr) and not late_tokens else nullcontext():
                units, texts = hasher.flat_texts(as_documents(values) if c in documents else values)
                if c not in wordless and (tr == KEEP or (not people and _scrubs(tr))):
                    # (the words of the whole values' normal text, a document's too;
                    # a text repeated in the batch read once)
                    whole = np.flatnonzero(units.kind == WHOLE).tolist()
                    public_texts(list(dict.fromkeys([texts[k] for k in whole])), public)
                pii.add_array(units.of(PII).hashes)
                maybe = units.kind == PII if tr == KEEP else np.ones(units.kind.size, dtype=bool)
                if maybe.any():
                    gate_h.append(units.hashes[maybe])
                    chosen = list(compress(texts, maybe.tolist()))
                    gate_k.append(unit_keys(chosen))
                    ibans = ibans or holds_compact_iban(chosen)
                    gate_n.append(np.fromiter(map(len, chosen), dtype=np.int64, count=len(chosen)))
                if tr == KEEP:
                    strong.add_array(units.of(PII).hashes)
                    allowed.add_array(units.of(WHOLE, LEAF, KEY).hashes)
                    continue
                digits = _digit_forms(values) if tr is not None and tr.name in _NUMBERS else []
                if digits:  # a phone or card number copied as digits alone (an integer)
                    h = hasher.hash_many(digits)
                    strong.add_array(h)
                    pii.add_array(h)
                    gate_h.append(h)
                    gate_k.append(unit_keys(digits))
                    gate_n.append(np.fromiter(map(len, digits), dtype=np.int64, count=len(digits)))
                scrubber = tr is not None and tr.name in SCRUBBERS
                if scrubber:
                    # content the scrubber leaves alone is passed through by plan;
                    # so are a document's keys, but for those it renames: a row's
                    # own known value (a unit of its column) or a detected token
                    # (PII), sensitive as such, so its keys are no unit here (a
                    # field name in every target document would wait for
                    # _scrublate to find it passed through)
                    strong.add_array(units.of(PII).hashes)
                    weak.add_array(units.of(WHOLE, LEAF).hashes)
                else:
                    strong.add_array(units.of(WHOLE, PII).hashes)
                    weak.add_array(units.of(LEAF, KEY).hashes)
                    if tr is not None and tr.name in PEOPLES:
                        owned.add_array(_owned(units, texts))
                if tr is None:
                    legit.setdefault((table.qualified, c), HashSet())
                    continue
                if scrubber and late_tokens and _late_scrubber(tr):
                    # what the scrubber writes and passes through counts only for the
                    # target cells holding a unit of it: found then (_scrublate); what
                    # it would refuse, it refuses here, as the eager way
                    check(tr, values, table, c)
                    scrubbed.setdefault((table.qualified, c), HashSet()).add_array(
                        units.of(WHOLE, LEAF).hashes
                    )
                    continue
                outputs = transform(tr, list(values), table, c, known)
                if scrubber:
                    got = scrub_contributions(hasher, units, values, outputs)
                    legit.setdefault((table.qualified, c), HashSet()).add_array(got[0])
                    passed_scrub.add_array(got[1])
                    passed_by.setdefault((table.qualified, c), HashSet()).add_array(got[2])
                    continue
                if late_tokens and _late(tr):
                    # tokens inside these outputs count only where a target cell's
                    # token hits: found then by _late.resolve(), with a gate of the hits
                    late.add((table.qualified, c))
                    out = bare.flat(outputs)
                else:
                    out = hasher.flat(outputs)
                # an output unit is legitimate in this column unless it is a unit of
                # the very value it came from
                mine = units.pair_keys()
                new = ~contains(unique_sorted(mine), out.pair_keys())
                legit.setdefault((table.qualified, c), HashSet()).add_array(out.hashes[new])
                a, b = units.of(LEAF, KEY), out.of(LEAF, KEY)
                same = contains(unique_sorted(a.pair_keys()), b.pair_keys())
                passed.add_array(b.hashes[same])
        if progress:
            progress(f"source {table.qualified}", m)
    gh = np.concatenate(gate_h) if gate_h else EMPTY
    gh, first = unique_first(gh)
    gk = np.concatenate(gate_k)[first] if gate_h else EMPTY
    gn = np.concatenate(gate_n)[first] if gate_h else np.zeros(0, np.int64)
    return _Part(
        table.qualified,
        n,
        strong.array(),
        weak.array(),
        allowed.array(),
        passed.array(),
        pii.array(),
        {k: v.array() for k, v in legit.items()},
        {k: v.array() for k, v in passed_by.items()},
        owned.array(),
        gh,
        gk,
        gn,
        frozenset(late),
        ibans,
        passed_scrub.array(),
        {k: v.array() for k, v in scrubbed.items()},
        tuple(table.primary_key),
        names,
        public,
        frozenset(
            (table.qualified, c)
            for c, tr in zip(cols, transformers, strict=True)
            if tr not in (None, KEEP) and tr.name not in SCRUBBERS
        ),
    )


def scrub_contributions(
    hasher: Hasher, units: FlatUnits, values: Sequence[object], outputs: Sequence[object]
) -> tuple[H, H, H]:
    """What a scrubber's ``outputs`` of ``values`` (whose units are ``units``, owners
    their row numbers) add to its column's legitimate outputs, to what the plan
    passes through, and to its column's own passed-through text (``passed_by``);
    hashes in no order, with repeats. Each row's share depends on that row alone:
    the rows of a batch may be taken in any groups (:mod:`._scrublate` takes few)."""
    out, kept = changed_units(hasher, values, outputs)
    # an output unit is legitimate in this column unless it is a unit of the very
    # value it came from
    new = ~contains(unique_sorted(units.pair_keys()), out.pair_keys())
    # content the scrubber leaves alone is passed through by the plan
    a, b = units.of(WHOLE, LEAF), out.of(WHOLE, LEAF)
    same = contains(unique_sorted(a.pair_keys()), b.pair_keys())
    passed = [b.hashes[same]]
    passed_by = [b.hashes[same & (b.kind == WHOLE)]]
    if kept is not None:
        # a text the scrubber left as it was has the units of its input: none of
        # them new, and its shared ones passed through
        as_was = kept[a.owner]
        passed.append(a.hashes[as_was])
        passed_by.append(a.hashes[as_was & (a.kind == WHOLE)])
    return out.hashes[new], np.concatenate(passed), np.concatenate(passed_by)


def changed_units(
    hasher: Hasher, values: Sequence[object], outputs: Sequence[object]
) -> tuple[FlatUnits, npt.NDArray[np.bool_] | None]:
    """The units of the ``outputs`` that differ from their input (owners: row numbers
    of the batch), and which rows hold a string left exactly as it was (None: no
    row). A string's units depend on the string alone, so such a row's output units
    are its input's: they need not be found again."""
    kept = np.fromiter(map(_same_text, values, outputs), dtype=bool, count=len(values))
    if not kept.any():
        return hasher.flat(outputs), None
    at = np.flatnonzero(~kept)
    got = hasher.flat([outputs[i] for i in at.tolist()])
    return FlatUnits(at[got.owner], got.kind, got.hashes), kept


def _scrubs(tr: Any) -> bool:
    return tr is not None and tr != KEEP and tr.name in SCRUBBERS


def _same_text(value: object, output: object) -> bool:
    return type(value) is str and type(output) is str and value == output


def _late(tr: Any) -> bool:
    """Whether the tokens inside ``tr``'s outputs are left to :mod:`._late`: a
    pseudonymiser, recomputed alone from its own column (a scrubber needs the row's
    known values: :func:`_late_scrubber`)."""
    return tr.name not in SCRUBBERS and not getattr(tr, "wants_known", False)


def _late_scrubber(tr: Any) -> bool:
    """Whether a scrubber's outputs can be left to :mod:`._scrublate`: it refuses no
    value its :func:`check` lets through, so not running it on a row changes no
    outcome (text_scrub refuses none; json_mask, without transformers of its own
    paths and with unknown keys kept or scrubbed, only a value that is no JSON
    document)."""
    return tr.name == "text_scrub" or bool(getattr(tr, "refuses_only_non_documents", False))


def transform(
    tr: Any, values: list[object], table: Table, column: str, known: list[Any] | None = None
) -> list[object]:
    try:
        if known is not None and getattr(tr, "wants_known", False):
            out: list[object] = tr.transform_known(values, known)
        else:
            out = tr.transform(values)
    except StagewallError as exc:
        raise _cannot(tr, table, column, exc) from None
    return out


def check(tr: Any, values: Sequence[object], table: Table, column: str) -> None:
    """Raise what :func:`transform` raises for a value ``tr`` refuses (see
    :func:`_late_scrubber`), without computing the outputs."""
    if getattr(tr, "check", None) is None:
        return
    try:
        tr.check(values)
    except StagewallError as exc:
        raise _cannot(tr, table, column, exc) from None


def _cannot(tr: Any, table: Table, column: str, exc: StagewallError) -> MaskingError:
    return MaskingError(
        f"{table.qualified}.{column}: cannot recompute transformer {tr.name!r}: {exc.message}",
        hint=exc.hint,
    )


@dataclass
class Pending:
    """Hits a column's count waits for: the cell (row number in the part or table)
    of every hitting unit and its hash; in a late pseudonymiser's column (see
    ``Sets.late``, :mod:`._late`) its normalised text too; in a late scrubber's
    column (``Sets.scrub_late``, :mod:`._scrublate`) the target key of each cell with
    a unit that is not doubtful (its source row's outputs excuse it, or not). In any
    other column, the cells whose only hits are doubtful units (``Sets.doubtful``)."""

    cells: list[npt.NDArray[np.int64]] = field(default_factory=list)
    hashes: list[H] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    keys: dict[int, tuple[str, ...] | None] = field(default_factory=dict)
    # which hits the late pseudonymiser's own outputs excuse (:func:`._late.resolve_tokens`)
    excused: npt.NDArray[np.bool_] | None = None


@dataclass
class ScanResult:
    table: str
    counts: dict[str, int]
    rows: int
    scanned: int
    pending: dict[str, Pending] = field(default_factory=dict)
    # cells holding a source person's rare name word, per (column, kind)
    words: dict[tuple[str, str], int] = field(default_factory=dict)


def scan(
    tschema: Schema,
    db: Any,
    sets: Sets,
    batch_rows: int,
    progress: Progress | None,
    *,
    jobs: int = 1,
    url: Any = None,
) -> list[ScanResult]:
    """Hits per target table and column (cells holding a sensitive unit), one
    result per table (parts merged), in the order of ``tschema``."""
    from stagewall.masking._parallel import can_fork, forked

    tables = scanned_tables(tschema)
    if can_fork(jobs) and url is not None:
        shared = {"scan": (url, sets, batch_rows)}
        parts = forked(
            _scan_worker, scan_items(db, tables, jobs), jobs, shared, scan_done(progress)
        )
    else:
        parts = [_scan_part(t, None, db, sets, batch_rows, progress) for t in tables]
    return merged_scan(tables, parts)


def scanned_tables(tschema: Schema) -> list[Table]:
    """The target's tables the scan reads (all but the completion marker's)."""
    from stagewall.masking.db import MARKER_TABLE

    return [t for t in tschema.tables if t.name != MARKER_TABLE]


def scan_items(db: Any, tables: Sequence[Table], jobs: int) -> list[tuple[Table, str | None]]:
    """The parts of ``tables`` for ``jobs`` workers (:func:`_scan_worker`'s items,
    with ``SHARED["scan"] = (url, sets, batch_rows)``)."""
    from stagewall.masking._parallel import split

    return [(t, w) for t in tables for w in split(db, t, jobs)]


def scan_done(progress: Progress | None) -> Callable[[ScanResult], None]:
    def done(got: ScanResult) -> None:
        if progress:
            progress(f"target {got.table}", got.rows)

    return done


def merged_scan(tables: Sequence[Table], parts: Sequence[ScanResult]) -> list[ScanResult]:
    """One result per table (parts merged), in the order of ``tables``."""
    merged: dict[str, ScanResult] = {}
    for p in parts:
        m = merged.setdefault(p.table, ScanResult(p.table, dict.fromkeys(p.counts, 0), 0, 0))
        for c, k in p.counts.items():
            m.counts[c] += k
        for c, got in p.pending.items():  # cells numbered across the table's parts
            into = m.pending.setdefault(c, Pending())
            into.cells += [x + m.rows for x in got.cells]
            into.hashes += got.hashes
            into.texts += got.texts
            into.keys.update((cell + m.rows, k) for cell, k in got.keys.items())
        merge_counts(m.words, p.words)
        m.rows += p.rows
        m.scanned += p.scanned
    return [merged[t.qualified] for t in tables]


def _scan_worker(item: tuple[Table, str | None]) -> ScanResult:
    from stagewall.masking._parallel import SHARED
    from stagewall.masking.db import open_database

    url, sets, batch_rows = SHARED["scan"]
    with open_database(url, role="target", read_only=True) as db:
        db.begin_read()
        return _scan_part(item[0], item[1], db, sets, batch_rows, None)


def _scan_part(
    table: Table,
    where: str | None,
    db: Any,
    sets: Sets,
    batch_rows: int,
    progress: Progress | None,
) -> ScanResult:
    scan = PartScan(table, sets)
    for m, columns in db.iter_columns(table, scan.columns, where, batch_rows):
        scan.add(m, columns)
        if progress:
            progress(f"target {table.qualified}", m)
    return scan.result()


class PartScan:
    """The whole-target scan of one part of a table, fed batch by batch (:meth:`add`)
    with every column of the table (:attr:`columns`)."""

    def __init__(self, table: Table, sets: Sets) -> None:
        self.table, self.sets = table, sets
        self.columns = [c.name for c in table.columns]
        # where the source table's key is in this one (None: not all of it)
        pk = sets.keys.get(sets.source_name(table), ())
        mine = set(self.columns)
        self.key_at = [self.columns.index(c) for c in pk] if pk and set(pk) <= mine else None
        # hstore and xml cells are read as documents: the values inside are leaves
        self.documents = frozenset(i for i, c in enumerate(table.columns) if is_document(c))
        self.counts = dict.fromkeys(self.columns, 0)
        self.pending: dict[str, Pending] = {}
        self.words: dict[tuple[str, str], int] = {}
        self.rows = self.scanned = 0

    def add(self, m: int, columns: list[list[Any]]) -> None:
        sets, counts, pending = self.sets, self.counts, self.pending
        self.rows += m
        n = self.rows
        if sets.name_words:
            source = sets.source_name(self.table)
            for i, c in enumerate(self.columns):
                glued = (source, c) not in sets.generated
                merge_counts(
                    self.words,
                    {
                        (c, k): x
                        for k, x in cells_holding(columns[i], sets.name_words, glued).items()
                    },
                )
        if sets.name_pairs:  # a source person's full name, in any row's text
            source = sets.source_name(self.table)
            for i, c in enumerate(self.columns):
                if (source, c) not in sets.generated:  # (a pseudonym's chance match)
                    held = cells_holding_pairs(columns[i], sets.name_pairs)
                    if held:
                        merge_counts(self.words, {(c, FULL): held})
        if sets.other_ids is not None:  # another customer's identifier, in any text
            source = sets.source_name(self.table)
            for i, c in enumerate(self.columns):
                if (source, c) not in sets.generated:  # (a pseudonym's chance match)
                    held = sets.other_ids.cells_holding(columns[i])
                    if held:
                        merge_counts(self.words, {(c, OTHER_ID): held})
        for i, c in enumerate(self.columns):
            values = as_documents(columns[i]) if i in self.documents else columns[i]
            units, texts = sets.hasher.flat_texts(values, sets.gate)
            if not units.hashes.size:
                continue
            self.scanned += m
            hit = sets.is_sensitive(units.hashes)
            if hit.any():
                where_ = (sets.source_name(self.table), c)
                # a scrubbed column's own text, passed through in its own column
                # (passed_by) is equal to some masked value elsewhere ("Frank" the
                # album, "Frank" a customer's first name) but not that value; the
                # row-by-row search still finds a row's own values in it
                hit = not_in(hit, units.hashes, sets.legit.get(where_, EMPTY))
                hit = not_in(hit, units.hashes, sets.passed_by.get(where_, EMPTY))
                if not hit.any():
                    continue
                doubt = None
                if sets.doubtful.size:  # sensitive unless a scrubber passes them through
                    doubt = np.zeros(hit.size, dtype=bool)
                    at = np.flatnonzero(hit)
                    doubt[at] = contains(sets.doubtful, units.hashes[at])
                if where_ in sets.late:
                    got = pending.setdefault(c, Pending())
                    got.cells.append(units.owner[hit] + (n - m))
                    got.hashes.append(units.hashes[hit])
                    got.texts += list(compress(texts, hit.tolist()))
                    continue
                if where_ in sets.scrub_late:
                    got = pending.setdefault(c, Pending())
                    got.cells.append(units.owner[hit] + (n - m))
                    got.hashes.append(units.hashes[hit])
                    sure = hit if doubt is None else hit & ~doubt
                    self._keys(got, np.unique(units.owner[sure]), columns, n - m)
                    continue
                # a cell (one value) counts once, however many of its units hit
                if doubt is not None and doubt.any():
                    cells = np.unique(units.owner[hit & ~doubt])
                    counts[c] += int(cells.size)
                    # the cells with doubtful hits alone wait for the scrubbers
                    rest = doubt & ~np.isin(units.owner, cells)
                    if rest.any():
                        got = pending.setdefault(c, Pending())
                        got.cells.append(units.owner[rest] + (n - m))
                        got.hashes.append(units.hashes[rest])
                    continue
                counts[c] += int(np.unique(units.owner[hit]).size)

    def _keys(
        self, got: Pending, rows: npt.NDArray[np.int64], columns: list[list[Any]], at: int
    ) -> None:
        """The target key of each of ``rows`` of the batch, into ``got`` (cells from ``at``)."""
        from stagewall.masking._known_rows import canon

        for i in rows.tolist():
            key = self.key_at
            if key is None or any(columns[k][i] is None for k in key):
                got.keys[i + at] = None
            else:
                got.keys[i + at] = tuple(canon(columns[k][i]) for k in key)

    def result(self) -> ScanResult:
        return ScanResult(
            self.table.qualified, self.counts, self.rows, self.scanned, self.pending, self.words
        )


__all__ = [
    "SCRUBBERS",
    "PartScan",
    "ScanResult",
    "Sets",
    "collect",
    "hasher_for",
    "merged_scan",
    "scan",
    "scan_done",
    "scan_items",
    "scanned_tables",
    "transform",
]
