"""What verification compares: normalised *units* of a value, as keyed 64-bit hashes.

A value yields its whole normalised text, the string leaves of a JSON document or
array, and the tokens that :func:`detect_in_text` finds inside text (e-mails,
phones, IBANs, card numbers, ...). Trivial units (short strings, small numbers,
booleans, NULL) are dropped: they occur everywhere and identify no one. See
docs/masking.md ("What verify checks").
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import compress, repeat
from operator import is_
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from stagewall.masking.transformers._batch import keyed_hash
from stagewall.masking.transformers._prf import splitmix

if TYPE_CHECKING:
    from stagewall.masking._gate import Gate

H = npt.NDArray[np.uint64]
EMPTY: H = np.zeros(0, dtype=np.uint64)

MIN_TEXT = 4  # normalised strings shorter than this are ignored
MIN_DIGITS = 5  # integers with fewer digits are ignored
MAX_TEXT_SCAN = 1_000_000  # characters of one text value searched for tokens
MIN_SCAN = 6  # shorter text holds no token worth finding
_COMMON = frozenset(
    {"true", "false", "null", "none", "n/a", "unknown", "test", "default"}
    # dates that name no day: PostgreSQL's infinite and MySQL's zero dates
    | {"infinity", "-infinity", "0000-00-00", "0000-00-00 00:00:00"}
)


WHOLE, LEAF, PII = 0, 1, 2


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
        """:meth:`flat` and the normalised text of each unit."""
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
        the whole column; JSON documents and other types go value by value. With a
        ``gate``, the detector reads only the texts it admits: the tokens of the
        others cannot be units the gate was built from (see :mod:`._gate`).
        """
        owner: list[int] = []
        kind: list[int] = []
        texts: list[str] = []
        scan: list[tuple[int, str]] = []
        plain: list[int] = []  # values handled by the batch path below
        plain_text: list[str] = []
        for_scan: list[bool] = []
        seen: dict[str, tuple[list[tuple[int, str]], list[str]]] = {}
        types = set(map(type, values)) - {type(None)}
        batch = self._column(values, types) if len(types) == 1 else None
        if batch is not None:
            plain, plain_text, scannable, docs = batch
            for i in docs:
                self._document(i, _as_document(values[i]), owner, kind, texts, scan, seen)
            for_scan = scannable
        else:
            for i, v in enumerate(values):
                doc = _as_document(v)
                if doc is not None:
                    self._document(i, doc, owner, kind, texts, scan, seen)
                    continue
                t = _text(v)
                if t is None:
                    continue
                plain.append(i)
                plain_text.append(t)
                for_scan.append(isinstance(v, str) and len(t) >= MIN_SCAN)
        for i, n in zip(plain, norm_many(plain_text), strict=True):
            if n is not None:
                owner.append(i)
                kind.append(WHOLE)
                texts.append(n)
        scan += [
            (i, t[:MAX_TEXT_SCAN]) for i, t, s in zip(plain, plain_text, for_scan, strict=True) if s
        ]
        if gate is not None and scan:
            scan = list(compress(scan, gate.admits([t for _, t in scan])))
        if self._detect is not None and scan:
            for i, n in self._distinct_tokens(scan):
                owner.append(i)
                kind.append(PII)
                texts.append(n)
        return owner, kind, texts

    def _distinct_tokens(self, scan: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        """:meth:`_token_texts`, searching each distinct text of the batch once."""
        distinct = dict.fromkeys(t for _, t in scan)
        if len(distinct) == len(scan):
            yield from self._token_texts(scan)
            return
        owners: dict[str, list[int]] = {}
        for i, t in scan:
            owners.setdefault(t, []).append(i)
        texts = list(owners)
        for k, n in self._token_texts(list(enumerate(texts))):
            for i in owners[texts[k]]:
                yield i, n

    @staticmethod
    def _column(
        values: Sequence[object], types: set[type]
    ) -> tuple[list[int], list[str], list[bool], list[int]] | None:
        """A column of one type (text, integers, dates or timestamps; NULLs aside) in
        C-level passes: ``(indices, texts, scan?, JSON document indices)``; None for
        other columns, which go value by value."""
        (t,) = types
        if t not in (str, int, dt.date, dt.datetime):
            return None
        if any(map(is_, values, repeat(None))):
            idx = [i for i, v in enumerate(values) if v is not None]
            present: list[Any] = [values[i] for i in idx]
        else:
            idx, present = list(range(len(values))), list(values)
        if t is int:
            arr = np.array(present, dtype=object)
            big = np.abs(arr) >= 10 ** (MIN_DIGITS - 1) if present else np.zeros(0, dtype=bool)
            keep = np.flatnonzero(big).tolist()
            return (
                [idx[k] for k in keep],
                list(map(str, arr[keep].tolist())),
                [False] * len(keep),
                [],
            )
        if t is dt.datetime:
            return idx, [v.isoformat(sep=" ") for v in present], [False] * len(idx), []
        if t is dt.date:
            return idx, list(map(dt.date.isoformat, present)), [False] * len(idx), []
        docs: list[int] = []
        if _might_hold_json(present):
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

    def _document(
        self,
        i: int,
        doc: Any,
        owner: list[int],
        kind: list[int],
        texts: list[str],
        scan: list[tuple[int, str]],
        seen: dict[str, tuple[list[tuple[int, str]], list[str]]],
    ) -> None:
        """The units of document ``i``; ``seen`` holds those of the batch's documents
        by canonical text (equal documents of plain JSON types have equal units)."""
        try:  # equal to the default=str text below whenever it succeeds
            canonical: str | None = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        except TypeError:  # a non-JSON type inside (Decimal, datetime): not cached
            canonical = None
        found = seen.get(canonical) if canonical is not None else None
        if found is None:
            whole_text = canonical
            if whole_text is None:
                whole_text = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
            units: list[tuple[int, str]] = []
            leaves: list[str] = []
            whole = _norm(whole_text)
            if whole is not None:
                units.append((WHOLE, whole))
            for leaf in _leaves(doc):
                n = _norm(leaf)
                if n is not None:
                    units.append((LEAF, n))
                    if len(leaf) >= MIN_SCAN:
                        leaves.append(leaf)
            found = (units, leaves)
            if canonical is not None:
                seen[canonical] = found
        for k, n in found[0]:
            owner.append(i)
            kind.append(k)
            texts.append(n)
        scan += [(i, leaf) for leaf in found[1]]

    def _token_texts(self, scan: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        """``(owner, normalised token)`` found by the detector in the scanned texts
        (a batch detector: see :func:`~stagewall.masking.classify.detect_texts`)."""
        detect = self._detect
        if detect is None:  # pragma: no cover - checked by the caller
            return
        for k, text in detect([t for _, t in scan]):
            n = _norm(text)
            if n is not None:
                yield scan[k][0], n


def _norm(s: str) -> str | None:
    n = s.strip().lower()
    if len(n) < MIN_TEXT or n in _COMMON:
        return None
    digits = n.lstrip("+-")
    if digits.isdigit() and len(digits) < MIN_DIGITS:
        return None
    return n


def _might_hold_json(values: Sequence[object]) -> bool:
    """False when no text of the batch can be a JSON document (no brace or bracket)."""
    joined = "".join([v for v in values if isinstance(v, str)])
    return "{" in joined or "[" in joined


def norm_many(texts: list[str]) -> list[str | None]:
    """:func:`_norm` of every text, in C-level passes over the whole list."""
    if not texts:
        return []
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [_norm(t) for t in texts]
    low = list(map(str.strip, joined.lower().split("\x00")))
    m = len(low)
    lengths = np.fromiter(map(len, low), dtype=np.int64, count=m)
    drop = lengths < MIN_TEXT
    drop |= np.fromiter(map(_COMMON.__contains__, low), dtype=bool, count=m)
    bare = list(map(_strip_sign, low))
    short = np.fromiter(map(len, bare), dtype=np.int64, count=m) < MIN_DIGITS
    if short.any():
        drop |= short & np.fromiter(map(str.isdigit, bare), dtype=bool, count=m)
    out: list[str | None] = list(low)
    for i in np.flatnonzero(drop).tolist():
        out[i] = None
    return out


def _strip_sign(s: str) -> str:
    return s.lstrip("+-")


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


def _leaves(doc: Any) -> Iterator[str]:
    stack = [doc]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            stack.extend(cur.values())
        elif isinstance(cur, (list, tuple)):
            stack.extend(cur)
        else:
            t = _text(cur)
            if t is not None:
                yield t


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
            self._sorted = unique_sorted(np.concatenate(self._parts)) if self._parts else EMPTY
            self._parts = [self._sorted]
        return self._sorted

    def __len__(self) -> int:
        return int(self.array().size)


def unique_sorted(hashes: H) -> H:
    """The distinct hashes, sorted: ``np.unique`` by sorting (NumPy 2's default hash
    table is several times slower on 64-bit hashes)."""
    if hashes.size < 2:
        return hashes.copy()
    out = np.sort(hashes)
    keep = np.empty(out.size, dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


def contains(sorted_set: H, hashes: H) -> npt.NDArray[np.bool_]:
    """Membership of every element of ``hashes`` in the sorted array ``sorted_set``."""
    if sorted_set.size == 0 or hashes.size == 0:
        return np.zeros(hashes.size, dtype=bool)
    idx = np.searchsorted(sorted_set, hashes)
    idx[idx == sorted_set.size] = 0
    return np.asarray(sorted_set[idx] == hashes)


__all__ = [
    "EMPTY",
    "LEAF",
    "PII",
    "WHOLE",
    "FlatUnits",
    "H",
    "HashSet",
    "Hasher",
    "contains",
    "norm_many",
    "unique_sorted",
]
