"""What verification compares: normalised *units* of a value, as keyed 64-bit hashes.

A value yields its whole normalised text, the string leaves of a JSON document or
array, and the tokens that :func:`detect_in_text` finds inside text (e-mails,
phones, IBANs, card numbers, ...). Trivial units (short strings, small numbers,
booleans, NULL) are dropped: they occur everywhere and identify no one. See
docs/masking.md ("What verify checks").
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import marshal
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, compress, filterfalse, repeat
from operator import attrgetter, eq, is_, is_not, itemgetter, not_
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from stagewall.masking.transformers._batch import keyed_hash
from stagewall.masking.transformers._confusables import latin_readings
from stagewall.masking.transformers._prf import splitmix
from stagewall.masking.types import binary_text

if TYPE_CHECKING:
    from stagewall.masking._gate import Gate

H = npt.NDArray[np.uint64]
EMPTY: H = np.zeros(0, dtype=np.uint64)

MIN_TEXT = 4  # normalised strings shorter than this are ignored
MIN_DIGITS = 5  # integers with fewer digits are ignored
MAX_TEXT_SCAN = 1_000_000  # characters of one text value searched for tokens
MIN_SCAN = 6  # shorter text holds no token worth finding
MEMO = 200_000  # distinct texts whose detector findings a Hasher remembers
_COMMON = frozenset(
    {"true", "false", "null", "none", "n/a", "unknown", "test", "default"}
    # dates that name no day: PostgreSQL's infinite and MySQL's zero dates
    | {"infinity", "-infinity", "0000-00-00", "0000-00-00 00:00:00"}
)


# a value's units: its whole text, a JSON leaf, a token the detector finds, a JSON
# object's key (a leaf of another kind: verify's source side takes it apart)
WHOLE, LEAF, PII, KEY = 0, 1, 2, 3


@dataclass(frozen=True)
class FlatUnits:
    """The units of a batch of values as arrays: unit ``k`` belongs to value ``owner[k]``."""

    owner: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]
    hashes: H

    def of(self, *kinds: int) -> FlatUnits:
        keep = np.isin(self.kind, kinds)
        return FlatUnits(self.owner[keep], self.kind[keep], self.hashes[keep])

    def pair_keys(self) -> H:
        """One key per (owner, hash) pair, to compare units of the same value across
        batches with set operations (equal hashes of one owner give equal keys;
        different owners collide with probability 2**-64)."""
        return self.hashes ^ splitmix(self.owner.astype(np.uint64))


class Hasher:
    """Keyed 64-bit hashes (AES-128 CBC-MAC, ``keyed_hash``) of normalised units."""

    def __init__(
        self, key: bytes, detect: Callable[[Sequence[str]], Iterable[tuple[int, str]]] | None
    ) -> None:
        self._key = key
        self._detect = detect
        # text -> the normalised tokens the detector finds in it, across batches
        # (first names, cities, statuses repeat); cleared when it grows past MEMO
        self._memo: dict[str, list[str]] = {}

    def without_detector(self) -> Hasher:
        """The same hashes, without the tokens found inside text."""
        return Hasher(self._key, None)

    def h(self, unit: str) -> int:
        return int(self.hash_many([unit])[0])

    def hash_many(self, units: list[str]) -> H:
        return keyed_hash(self._key, "verify/unit", units)

    def flat(self, values: Sequence[object], gate: Gate | None = None) -> FlatUnits:
        """The units of a batch, hashed in one pass (see :func:`_unit_texts`)."""
        return self.flat_texts(values, gate)[0]

    def flat_texts(
        self, values: Sequence[object], gate: Gate | None = None
    ) -> tuple[FlatUnits, list[str]]:
        """:meth:`flat` and the normalised text of each unit.

        A column of strings, integers, decimals or dates that repeats its values
        (statuses, countries, amounts) has its units found and hashed once per distinct value,
        then given to every cell holding that value: equal values of these types
        have equal text, so equal units (``_spread``).
        """
        repeats = _repeats(values)
        if repeats is not None:
            distinct, where = repeats
            units, texts = self.flat_texts(distinct, gate)
            return _spread(units, texts, where, len(distinct))
        owner, kind, texts = self._unit_texts(values, gate)
        units = FlatUnits(
            np.asarray(owner, dtype=np.int64),
            np.asarray(kind, dtype=np.uint8),
            self.hash_many(texts) if texts else EMPTY,
        )
        return units, texts

    def _unit_texts(
        self, values: Sequence[object], gate: Gate | None = None
    ) -> tuple[list[int], list[int], list[str]]:
        """``(owner, kind, normalised text)`` of every unit of a batch.

        Plain text, integers and dates (the usual columns) take C-level passes over
        the whole column; JSON documents are serialised in one encoder call per
        batch (:func:`_canonical_many`) and their leaves normalised together; values
        of mixed types go one by one. With a ``gate``, the detector reads only the
        texts it admits: the tokens of the others cannot be units the gate was
        built from (see :mod:`._gate`).
        """
        owner: list[int] = []
        kind: list[int] = []
        texts: list[str] = []
        scan_i: list[int] = []  # texts the detector reads, and their owners
        scan_t: list[str] = []
        types = set(map(type, values)) - {type(None)}
        if types & _BINARY_TYPES:  # text kept as bytes is read as text (an e-mail in a BLOB)
            values = [_from_binary(v) for v in values]
            types = set(map(type, values)) - {type(None)}
        batch = self._column(values, types) if len(types) == 1 else None
        if batch is not None:
            plain, plain_text, scannable, docs = batch
        else:
            plain, plain_text, scannable, docs = [], [], [], []
            for i, v in enumerate(values):
                if _as_document(v) is not None:
                    docs.append(i)
                    continue
                t = _text(v)
                if t is None:
                    continue
                plain.append(i)
                plain_text.append(t)
                scannable.append(type(v) is str and len(t) >= MIN_SCAN)  # not a PgDateText
        if docs:
            self._documents(docs, [_as_document(values[i]) for i in docs],
                            owner, kind, texts, scan_i, scan_t)  # fmt: skip
        # the texts of a column of integers (those kept have MIN_DIGITS digits), dates
        # or timestamps (ISO: digits and punctuation) are their own normal form
        self_normal = batch is not None and types <= _SELF_NORMAL
        if not self_normal:
            plain, plain_text, scannable = _with_latin_readings(plain, plain_text, scannable)
        normed = plain_text if self_normal else norm_many(plain_text)
        kept = list(map(is_not, normed, repeat(None)))
        owner += compress(plain, kept)
        texts += compress(normed, kept)  # type: ignore[arg-type]
        kind += repeat(WHOLE, sum(kept))
        scan_i += compress(plain, scannable)
        scanned = list(compress(plain_text, scannable))
        if scanned and max(map(len, scanned)) > MAX_TEXT_SCAN:  # (not a JSON leaf)
            scanned = [t[:MAX_TEXT_SCAN] for t in scanned]
        scan_t += scanned
        if gate is not None and scan_t:
            admitted = gate.admits(scan_t)
            scan_i = list(compress(scan_i, admitted))
            scan_t = list(compress(scan_t, admitted))
        if self._detect is not None and scan_t:
            of, tokens = self._distinct_tokens(scan_i, scan_t)
            owner += of
            kind += repeat(PII, len(tokens))
            texts += tokens
        return owner, kind, texts

    def _distinct_tokens(self, scan_i: list[int], scan_t: list[str]) -> tuple[list[int], list[str]]:
        """``(owners, normalised tokens)`` of :meth:`_token_texts`, searching each
        distinct text once (per batch, and across batches while the memo holds it:
        the detector's findings depend on the text alone)."""
        memo = self._memo
        distinct = dict.fromkeys(scan_t)
        todo = list(filterfalse(memo.__contains__, distinct))
        if len(memo) + len(todo) > MEMO:  # start again, with this batch's texts
            memo.clear()
            todo = list(distinct)
        if todo:
            found: dict[str, list[str]] = {t: [] for t in todo}
            for k, n in self._token_texts(todo):
                found[todo[k]].append(n)
            memo.update(found)
        found_in = list(map(memo.__getitem__, scan_t))
        counts = np.fromiter(map(len, found_in), dtype=np.int64, count=len(found_in))
        of = np.repeat(np.asarray(scan_i, dtype=np.int64), counts).tolist()
        return of, list(chain.from_iterable(found_in))

    @staticmethod
    def _column(
        values: Sequence[object], types: set[type]
    ) -> tuple[list[int], list[str], list[bool], list[int]] | None:
        """A column of one type (text, integers, dates or timestamps; NULLs aside) in
        C-level passes: ``(indices, texts, scan?, JSON document indices)``; None for
        other columns, which go value by value."""
        (t,) = types
        if t not in _COLUMN_TYPES:
            return None
        if any(map(is_, values, repeat(None))):
            there = list(map(is_not, values, repeat(None)))
            idx = list(compress(range(len(values)), there))
            present: list[Any] = list(compress(values, there))
        else:
            idx, present = list(range(len(values))), list(values)
        if t is dict or t is list:  # decoded JSON documents
            return [], [], [], idx
        if t is Decimal:
            got = _decimal_texts(present)
            keep = list(map(is_not, got, repeat(None)))
            return list(compress(idx, keep)), list(compress(got, keep)), [False] * sum(keep), []  # type: ignore[arg-type]
        if t is int:
            keep = _big_ints(present)
            return (
                list(compress(idx, keep)),
                list(map(str, compress(present, keep))),
                [False] * sum(keep),
                [],
            )
        if t is dt.datetime:
            return idx, iso_datetimes(present), [False] * len(idx), []
        if t is dt.date:
            return idx, list(map(dt.date.isoformat, present)), [False] * len(idx), []
        docs: list[int] = []
        joined = "".join(present)  # (no text of the batch can be a document without these)
        if "{" in joined or "[" in joined:
            plain_idx: list[int] = []
            plain: list[str] = []
            for i, v in zip(idx, present, strict=True):
                if _as_document(v) is not None:
                    docs.append(i)
                else:
                    plain_idx.append(i)
                    plain.append(v)
            idx, present = plain_idx, plain
        scannable = np.fromiter(map(len, present), dtype=np.int64, count=len(present)) >= MIN_SCAN
        return idx, present, scannable.tolist(), docs

    def _documents(
        self,
        idx: list[int],
        docs: list[Any],
        owner: list[int],
        kind: list[int],
        texts: list[str],
        scan_i: list[int],
        scan_t: list[str],
    ) -> None:
        """The units of documents ``docs`` (of values ``idx``): the whole canonical
        text and every leaf, normalised in one pass. Equal documents of plain JSON
        types (equal canonical text) have equal units: each is done once."""
        canonical = _canonical_many(docs)
        group: dict[str, int] = {}
        of_doc: list[int] = []  # each document's distinct representative
        reps: list[Any] = []
        wholes: list[str] = []
        for doc, c in zip(docs, canonical, strict=True):
            g = group.setdefault(c, len(reps)) if c is not None else len(reps)
            if g == len(reps):
                reps.append(doc)
                # a non-JSON type inside (Decimal, datetime): its text, not shared
                wholes.append(
                    c
                    if c is not None
                    else json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
                )
            of_doc.append(g)
        leaf_of, leaves, leaf_kind = _leaves_many(reps)
        # a leaf with a word in look-alike letters: its Latin reading is a leaf too,
        # as for top-level text (:func:`_with_latin_readings`)
        readings = latin_readings(leaves)
        if readings:
            leaf_of += [leaf_of[k] for k, _ in readings]
            leaves += [t for _, t in readings]
            leaf_kind += [leaf_kind[k] for k, _ in readings]
        normed = norm_many(wholes + leaves)
        n_whole = len(wholes)
        u_owner = list(range(n_whole)) + leaf_of
        u_kind = [WHOLE] * n_whole + leaf_kind
        kept = list(map(is_not, normed, repeat(None)))
        ref = np.asarray(idx, dtype=np.int64)
        # leaves the detector reads: non-trivial and long enough
        long_leaves = [
            k and len(x) >= MIN_SCAN for k, x in zip(kept[n_whole:], leaves, strict=True)
        ]
        if len(reps) == len(docs):  # all distinct: representative g is document g
            owner += ref[list(compress(u_owner, kept))].tolist()
            kind += compress(u_kind, kept)
            texts += compress(normed, kept)  # type: ignore[arg-type]
            scan_i += ref[list(compress(leaf_of, long_leaves))].tolist()
            scan_t += compress(leaves, long_leaves)
            return
        where = np.asarray(of_doc, dtype=np.int64)
        got = FlatUnits(
            np.asarray(list(compress(u_owner, kept)), dtype=np.int64),
            np.asarray(list(compress(u_kind, kept)), dtype=np.uint8),
            np.zeros(sum(kept), dtype=np.uint64),
        )
        units, unit_texts = _spread(got, list(compress(normed, kept)), where, len(reps))  # type: ignore[arg-type]
        owner += ref[units.owner].tolist()
        kind += units.kind.tolist()
        texts += unit_texts
        chosen = list(compress(leaf_of, long_leaves))
        scanned = FlatUnits(
            np.asarray(chosen, dtype=np.int64),
            np.zeros(len(chosen), dtype=np.uint8),
            np.zeros(len(chosen), dtype=np.uint64),
        )
        spread, spread_t = _spread(scanned, list(compress(leaves, long_leaves)), where, len(reps))
        scan_i += ref[spread.owner].tolist()
        scan_t += spread_t

    def _token_texts(self, texts: list[str]) -> Iterator[tuple[int, str]]:
        """``(text index, normalised token)`` of every token the detector finds in
        ``texts`` (a batch detector: see
        :func:`~stagewall.masking.classify.detect_texts`), normalised in one pass."""
        detect = self._detect
        if detect is None:  # pragma: no cover - checked by the caller
            return
        found = list(detect(texts))
        if not found:
            return
        at = [k for k, _ in found]
        for k, n in zip(at, norm_many([t for _, t in found]), strict=True):
            if n is not None:
                yield k, n


def _with_latin_readings(
    plain: list[int], plain_text: list[str], scannable: list[bool]
) -> tuple[list[int], list[str], list[bool]]:
    """The texts of a batch and, for each one holding a word in look-alike letters
    (Ganthriv with a Cyrillic a, U+0430), its Latin reading as one more text of the
    same value (``_confusables.latin_readings``): its whole text and the tokens the
    detector finds in it are units of that value too, so a name spelt with
    look-alikes is the name wherever it is. An ASCII batch costs one join."""
    readings = latin_readings(plain_text)
    if not readings:
        return plain, plain_text, scannable
    at = [k for k, _ in readings]
    return (
        plain + [plain[k] for k in at],
        plain_text + [t for _, t in readings],
        scannable + [scannable[k] for k in at],
    )


_COLUMN_TYPES = frozenset({str, int, Decimal, dt.date, dt.datetime, dict, list})
# columns whose texts (:meth:`Hasher._column`) norm_many leaves as they are
_SELF_NORMAL = frozenset({int, dt.date, dt.datetime})
# equal values of these types have equal text (a Decimal's text is normalised)
_DEDUP = frozenset({str, int, Decimal, dt.date})
_LEAST = 10 ** (MIN_DIGITS - 1)


def _repeats(values: Sequence[object]) -> tuple[list[object], npt.NDArray[np.int64]] | None:
    """``(distinct values, index of each value among them)`` for a column of one
    type in :data:`_DEDUP` (NULLs aside) with enough repeats to pay; else None."""
    n = len(values)
    if n < 16:
        return None
    types = set(map(type, values)) - {type(None)}
    if len(types) != 1 or not types <= _DEDUP:
        return None
    try:
        if n > 1024 and len(set(values[:256])) > 192:  # a column of distinct values
            return None
        distinct = dict.fromkeys(values)
    except TypeError:  # a signalling NaN cannot be hashed
        return None
    if len(distinct) * 4 > n * 3:  # fewer than a quarter repeats
        return None
    keys = list(distinct)
    pos = dict(zip(keys, range(len(keys)), strict=True))
    return keys, np.fromiter(map(pos.__getitem__, values), dtype=np.int64, count=n)


def _spread(
    units: FlatUnits, texts: list[str], where: npt.NDArray[np.int64], m: int
) -> tuple[FlatUnits, list[str]]:
    """Units of ``m`` distinct values given to every value: value ``i`` is distinct
    value ``where[i]`` and gets each of its units (owner ``i``), in C-level passes."""
    if not units.owner.size:
        return FlatUnits(np.zeros(0, np.int64), np.zeros(0, np.uint8), EMPTY), []
    order = np.argsort(where, kind="stable")  # values grouped by distinct value
    counts = np.bincount(where, minlength=m)
    starts = np.cumsum(counts) - counts
    rep = counts[units.owner]
    ends = np.cumsum(rep)
    offsets = np.arange(int(ends[-1]), dtype=np.int64) - np.repeat(ends - rep, rep)
    owner = order[np.repeat(starts[units.owner], rep) + offsets].astype(np.int64)
    spread = FlatUnits(owner, np.repeat(units.kind, rep), np.repeat(units.hashes, rep))
    many = np.empty(len(texts), dtype=object)
    many[:] = texts
    return spread, np.repeat(many, rep).tolist()


# "00" to "99" as ASCII digit pairs
_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)
_DROPPED = 1  # a byte no ISO text holds: fills the fraction of a whole second, then removed
_STATE = 10  # bytes of a datetime's pickled state: year (2), month ... second, microsecond (3)


def iso_datetimes(values: list[dt.datetime]) -> list[str]:
    """``datetime.isoformat(v, " ")`` of every value, formatted with NumPy for a
    batch whose values share one fixed offset or none (a ``timestamptz`` column read
    in UTC, a ``timestamp`` column): about a third of ``isoformat``'s cost for an
    aware value. The fields come from each value's pickled state (``__reduce__``,
    protocol 2: ten bytes, year to microsecond, in one C-level pass); other batches
    go value by value."""
    n = len(values)
    zones = set(map(attrgetter("tzinfo"), values))
    if n < 64 or len(zones) != 1:
        return list(map(dt.datetime.isoformat, values, repeat(" ")))
    (zone,) = zones
    suffix = ""
    if zone is not None:
        if type(zone) is not dt.timezone:  # (an offset that may change: DST)
            return list(map(dt.datetime.isoformat, values, repeat(" ")))
        first = values[0]
        suffix = first.isoformat(" ")[len(first.replace(tzinfo=None).isoformat(" ")) :]
    args = map(itemgetter(1), map(dt.datetime.__reduce__, values))
    state = b"".join(map(itemgetter(0), args))
    if len(state) != n * _STATE:  # not the layout this reads
        return list(map(dt.datetime.isoformat, values, repeat(" ")))
    f = np.frombuffer(state, dtype=np.uint8).reshape(n, _STATE).astype(np.int64)
    if int(f[:, 2].max()) > 12:  # a month byte with a flag in it: not this layout
        return list(map(dt.datetime.isoformat, values, repeat(" ")))
    year = f[:, 0] * 256 + f[:, 1]
    micro = f[:, 7] * 65536 + f[:, 8] * 256 + f[:, 9]
    # "YYYY-MM-DD HH:MM:SS.ffffff", the offset, a NUL
    rows = np.zeros((n, 26 + len(suffix) + 1), dtype=np.uint8)
    for col, char in ((4, "-"), (7, "-"), (10, " "), (13, ":"), (16, ":"), (19, ".")):
        rows[:, col] = ord(char)
    rows[:, 26 : 26 + len(suffix)] = np.frombuffer(suffix.encode("ascii"), dtype=np.uint8)
    pairs = (
        (0, year // 100), (2, year % 100), (5, f[:, 2]), (8, f[:, 3]), (11, f[:, 4]),
        (14, f[:, 5]), (17, f[:, 6]), (20, micro // 10000), (22, micro // 100 % 100),
        (24, micro % 100),
    )  # fmt: skip
    for col, v in pairs:
        rows[:, col : col + 2] = _PAIRS[v]
    whole = micro == 0
    rows[whole, 19:26] = _DROPPED  # isoformat writes no fraction for a whole second
    text = rows.tobytes().decode("ascii")
    if whole.any():
        text = text.replace(chr(_DROPPED), "")
    return text.split("\x00")[:n]


def _big_ints(values: list[int]) -> list[bool]:
    """Which integers have at least :data:`MIN_DIGITS` digits (NumPy when they fit)."""
    try:
        arr = np.array(values, dtype=np.int64)
    except OverflowError:
        return [abs(v) >= _LEAST for v in values]
    return ((arr >= _LEAST) | (arr <= -_LEAST)).tolist()  # type: ignore[no-any-return]


def _decimal_texts(values: list[Decimal]) -> list[str | None]:
    """:func:`_text` of every Decimal, in C-level maps: an integral value as its
    integer, the others normalised, None for Infinity and NaN."""
    if not all(map(Decimal.is_finite, values)):
        return [_text(v) for v in values]
    whole = list(map(eq, values, map(Decimal.to_integral_value, values)))
    ints = list(map(int, compress(values, whole)))
    int_texts = iter(
        [str(v) if big else None for v, big in zip(ints, _big_ints(ints), strict=True)]
    )
    fractions = map(Decimal.normalize, compress(values, map(not_, whole)))
    frac_texts = map(format, fractions, repeat("f"))
    return [next(int_texts) if w else next(frac_texts) for w in whole]


# json.dumps(doc, sort_keys=True, ensure_ascii=False) without an encoder per document
_CANON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
# Between two documents of a batch encoded as one JSON array: a string jsonb cannot
# hold; should a document hold it, the count of parts is off and each document is
# encoded alone.
_DOC_SEP = "\x00\x01"
_DOC_SEP_TEXT = ', "\\u0000\\u0001", '


def _canonical_many(docs: list[Any]) -> list[str | None]:
    """Each document's canonical text (``json.dumps`` with sorted keys), None for
    one holding a non-JSON type (Decimal, datetime); in one encoder call, of each
    distinct document once when a batch repeats its documents (:func:`_distinct`)."""
    keys = _distinct(docs)
    if keys is None:
        return _encode_canonical(docs)
    one = dict(zip(keys, docs, strict=True))  # a document of each key (all alike)
    texts = _encode_canonical(list(one.values()))
    return list(map(dict(zip(one, texts, strict=True)).__getitem__, keys))


def _encode_canonical(docs: list[Any]) -> list[str | None]:
    got = encode_many(_CANON, docs)
    return got if got is not None else [_canonical(d) for d in docs]  # type: ignore[return-value]


def _distinct(docs: list[Any]) -> list[bytes] | None:
    """A key per document that is equal only for documents whose every part is of
    the same exact type and value, in the same order: their ``marshal`` bytes
    (version 2, which keeps no references), which tell 1, 1.0 and True apart and
    refuse any other type (a subclass, a Decimal); equal keys, equal canonical
    texts. None when a document refuses, or when the first :data:`_SAMPLE`
    documents are mostly distinct (then keying them all would cost more than it
    saves)."""
    if len(docs) < 2 * _SAMPLE:
        return None
    try:
        if len(set(map(marshal.dumps, docs[:_SAMPLE], repeat(2)))) > _SAMPLE // 2:
            return None
        return list(map(marshal.dumps, docs, repeat(2)))
    except ValueError:  # unmarshallable, or nested too deeply
        return None


_SAMPLE = 32  # documents of a batch sampled for repeats


def encode_many(encode: Callable[[Any], str], docs: Sequence[Any]) -> list[str] | None:
    """``encode`` of each document, with one call for all of them (as one array with
    a separator no JSON document of a database holds between them); None when that
    cannot be done (an encoding error, or a document holding the separator): then
    each document is to be encoded alone."""
    if len(docs) < 2:
        return None
    items: list[Any] = [_DOC_SEP] * (2 * len(docs) - 1)
    items[::2] = docs
    try:
        parts = encode(items)[1:-1].split(_DOC_SEP_TEXT)
    except (TypeError, ValueError):  # raised again by the document at fault, alone
        return None
    return parts if len(parts) == len(docs) else None


def _canonical(doc: Any) -> str | None:
    try:
        return json.dumps(doc, sort_keys=True, ensure_ascii=False)
    except TypeError:
        return None


def _leaves_many(docs: list[Any]) -> tuple[list[int], list[str], list[int]]:
    """``(document number, text, kind)`` of every leaf of every document
    (:data:`LEAF`), and of every object key (:data:`KEY`): a key is read as a leaf
    is (``{"friends": {"Ganthriv": "neighbour"}}`` holds the surname as a key,
    which no leaf shows), normalised alike, so a short or common key is no unit."""
    owners: list[int] = []
    out: list[str] = []
    kinds: list[int] = []
    for g, doc in enumerate(docs):
        stack = [doc]
        while stack:
            cur = stack.pop()
            if isinstance(cur, dict):
                if cur:
                    keys = list(map(str, cur))  # (keys of a decoded document: str)
                    owners += repeat(g, len(keys))
                    out += keys
                    kinds += repeat(KEY, len(keys))
                stack.extend(cur.values())
            elif isinstance(cur, (list, tuple)):
                stack.extend(cur)
            else:
                kind = type(cur)
                if kind is str:
                    t: str | None = cur
                elif cur is None or kind is bool:
                    continue
                elif kind is int:  # as _text: small numbers are no unit
                    t = str(cur) if not -_LEAST < cur < _LEAST else None
                else:
                    t = _text(cur)
                if t is not None:
                    owners.append(g)
                    out.append(t)
                    kinds.append(LEAF)
    return owners, out, kinds


# a text that may be an IPv6 address (lower case; with a /prefix, an IPv4 tail)
_V6_TEXT = re.compile(r"[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}(?:/[0-9]{1,3})?")


V6_LONGEST = 49  # "0000:…:0000:255.255.255.255/128": no IPv6 text is longer


def v6_canonical(text: str) -> str:
    """``text`` (lower case, stripped) in the canonical spelling of the IPv6 address
    (or interface) it is, so every spelling of one address is one unit
    (``2001:0DB8:0:0:0:0:0:1``, ``2001:db8::0.0.0.1`` and ``2001:db8::1`` alike);
    any other text as it is."""
    if len(text) > V6_LONGEST or _V6_TEXT.fullmatch(text) is None:
        return text
    try:
        if "/" in text:
            return str(ipaddress.IPv6Interface(text))
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        return text


def _v6_canonical_many(low: list[str]) -> None:
    """:func:`v6_canonical` of every text of ``low`` holding a ``:``, in place."""
    for i in compress(range(len(low)), map(str.__contains__, low, repeat(":"))):
        low[i] = v6_canonical(low[i])


def _norm(s: str) -> str | None:
    n = v6_canonical(s.strip().lower())
    if len(n) < MIN_TEXT or n in _COMMON:
        return None
    digits = n.lstrip("+-")
    if digits.isdigit() and len(digits) < MIN_DIGITS:
        return None
    return n


def norm_many(texts: list[str]) -> list[str | None]:
    """:func:`_norm` of every text, in C-level passes over the whole list."""
    if not texts:
        return []
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [_norm(t) for t in texts]
    lowered = joined.lower()
    low = list(map(str.strip, lowered.split("\x00")))
    if ":" in lowered:  # every spelling of an IPv6 address as one
        _v6_canonical_many(low)
    m = len(low)
    lengths = np.fromiter(map(len, low), dtype=np.int64, count=m)
    drop = lengths < MIN_TEXT
    common = _COMMON.intersection(low)  # (usually none: one C-level pass)
    if common:
        drop |= np.fromiter(map(common.__contains__, low), dtype=bool, count=m)
    # a small number: fewer than MIN_DIGITS digits once its signs are stripped, so
    # only a short text or one starting with a sign can be one
    maybe = lengths < MIN_DIGITS
    if "+" in lowered or "-" in lowered:
        maybe |= np.fromiter(map(str.startswith, low, repeat(("+", "-"))), dtype=bool, count=m)
    for i in np.flatnonzero(~drop & maybe).tolist():
        bare = low[i].lstrip("+-")
        if len(bare) < MIN_DIGITS and bare.isdigit():
            drop[i] = True
    out: list[str | None] = list(low)
    for i in np.flatnonzero(drop).tolist():
        out[i] = None
    return out


def _as_document(value: object) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return value
    if isinstance(value, str):
        s = value.lstrip()
        if s[:1] in ("{", "[") and len(s) >= 2:
            try:
                doc = json.loads(value)
            except (ValueError, RecursionError):
                return None
            return doc if isinstance(doc, (dict, list)) else None
    return None


_BINARY_TYPES = frozenset({bytes, bytearray, memoryview})


def _from_binary(value: object) -> object:
    """A binary value as the text it holds (see :func:`binary_text`), or as it is."""
    if type(value) in _BINARY_TYPES:
        text = binary_text(value)  # type: ignore[arg-type]
        if text is not None:
            return text
    return value


def _text(value: object) -> str | None:
    """A scalar as comparable text; None for NULL, booleans and small numbers."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if abs(value) < 10 ** (MIN_DIGITS - 1) else str(value)
    if isinstance(value, float):
        if value.is_integer():
            return _text(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():  # PostgreSQL's numeric Infinity and NaN name no one
            return None
        if value == value.to_integral_value():
            return _text(int(value))
        return format(value.normalize(), "f")
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        b = bytes(value)
        return b.hex() if len(b) >= MIN_TEXT else None
    return str(value)


class HashSet:
    """A growing set of uint64 hashes kept as sorted NumPy arrays (8 bytes each)."""

    def __init__(self) -> None:
        self._parts: list[H] = []
        self._chunks: list[H] = []
        self._chunked = 0
        self._sorted: H | None = EMPTY

    def add_array(self, hashes: H) -> None:
        if hashes.size:
            self._chunks.append(hashes)
            self._chunked += int(hashes.size)
            self._sorted = None
            if self._chunked >= 1_000_000:  # one sort per million hashes, never a re-sort
                self._parts.append(unique_sorted(np.concatenate(self._chunks)))
                self._chunks, self._chunked = [], 0

    def _flush(self) -> None:
        if self._chunks:
            self._parts.append(unique_sorted(np.concatenate(self._chunks)))
            self._chunks, self._chunked = [], 0
            self._sorted = None

    def array(self) -> H:
        self._flush()
        if self._sorted is None:
            self._sorted = union_sorted(self._parts)
            self._parts = [self._sorted]
        return self._sorted

    def __len__(self) -> int:
        return int(self.array().size)


def unique_sorted(hashes: H, *, runs: bool = False) -> H:
    """The distinct hashes, sorted: ``np.unique`` by sorting (NumPy 2's default hash
    table is several times slower on 64-bit hashes). ``runs``: ``hashes`` are a few
    sorted arrays one after the other (:func:`union_sorted`), which a stable sort
    merges several times faster than the default sort sorts them (slower on
    hashes in no order)."""
    if hashes.size < 2:
        return hashes.copy()
    out = np.sort(hashes, kind="stable" if runs else None)
    keep = np.empty(out.size, dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


def union_sorted(arrays: Sequence[H]) -> H:
    """The distinct hashes of sorted arrays, sorted (their union)."""
    if not arrays:
        return EMPTY
    return unique_sorted(np.concatenate(arrays), runs=True)


def unique_first(hashes: H) -> tuple[H, npt.NDArray[np.int64]]:
    """``np.unique(hashes, return_index=True)`` by a stable sort: the distinct hashes,
    sorted, and where each first occurs."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    keep = np.ones(ordered.size, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep], order[keep].astype(np.int64)


class Members:
    """Membership in a large sorted array of hashes that many batches are tested
    against (verify's sensitive set): a bitmap of the hashes' top bits answers "no"
    for most hashes in a few array operations, and only the others are looked up in
    the array (:func:`contains`), so the answers are exactly :func:`contains`'s."""

    def __init__(self, sorted_set: H) -> None:
        self.array = sorted_set
        self._bitmap: npt.NDArray[np.uint8] | None = None
        # about 16 bits per member (a few per cent of false "maybe"), at most 16 MB
        self._bits = min(max(int(sorted_set.size * 16).bit_length(), 16), 27)

    def _map(self) -> npt.NDArray[np.uint8]:
        if self._bitmap is None:  # built on first use (in each forked worker)
            self._bitmap = top_bits_bitmap(self.array, self._bits)
        return self._bitmap

    def __call__(self, hashes: H) -> npt.NDArray[np.bool_]:
        """Which of ``hashes`` are members (``contains(array, hashes)``)."""
        if self.array.size == 0 or hashes.size == 0:
            return np.zeros(hashes.size, dtype=bool)
        slot = hashes >> np.uint64(64 - self._bits)
        byte = self._map()[(slot >> np.uint64(3)).astype(np.intp)]
        maybe = np.flatnonzero((byte >> (slot & np.uint64(7)).astype(np.uint8)) & 1)
        out = np.zeros(hashes.size, dtype=bool)
        if maybe.size:
            out[maybe] = contains(self.array, hashes[maybe])
        return out


def top_bits_bitmap(hashes: H, bits: int) -> npt.NDArray[np.uint8]:
    """A bitmap of ``2**bits`` bits with the bit of every hash's top ``bits`` bits set."""
    bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
    if not hashes.size:
        return bitmap
    slots = unique_sorted(hashes >> np.uint64(64 - bits))  # sorted, so bytes ascend
    where = (slots >> np.uint64(3)).astype(np.int64)
    one = (np.uint8(1) << (slots & np.uint64(7)).astype(np.uint8)).astype(np.uint8)
    first = np.flatnonzero(np.concatenate(([True], where[1:] != where[:-1])))
    bitmap[where[first]] = np.bitwise_or.reduceat(one, first)
    return bitmap


def contains(sorted_set: H, hashes: H) -> npt.NDArray[np.bool_]:
    """Membership of every element of ``hashes`` in the sorted array ``sorted_set``."""
    if sorted_set.size == 0 or hashes.size == 0:
        return np.zeros(hashes.size, dtype=bool)
    idx = np.searchsorted(sorted_set, hashes)
    idx[idx == sorted_set.size] = 0
    return np.asarray(sorted_set[idx] == hashes)


__all__ = [
    "EMPTY",
    "KEY",
    "LEAF",
    "PII",
    "WHOLE",
    "FlatUnits",
    "H",
    "HashSet",
    "Hasher",
    "Members",
    "contains",
    "encode_many",
    "norm_many",
    "top_bits_bitmap",
    "union_sorted",
    "unique_first",
    "unique_sorted",
]
