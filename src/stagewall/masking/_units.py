"""What verification compares: normalised *units* of a value, as keyed 64-bit hashes.

A value yields its whole normalised text, the string leaves of a JSON document or
array, and the tokens that :func:`detect_in_text` finds inside text (e-mails,
phones, IBANs, card numbers, ...). Trivial units (short strings, small numbers,
booleans, NULL) are dropped: they occur everywhere and identify no one. See
docs/masking.md ("What verify checks").
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

H = npt.NDArray[np.uint64]
EMPTY: H = np.zeros(0, dtype=np.uint64)

MIN_TEXT = 4  # normalised strings shorter than this are ignored
MIN_DIGITS = 5  # integers with fewer digits are ignored
MAX_TEXT_SCAN = 1_000_000  # characters of one text value searched for tokens
MIN_SCAN = 6  # shorter text holds no token worth finding
_CHUNK = 256  # characters per detector call (its overlap check is quadratic in matches)
_SEP = "\x00\n\x00"  # joins texts for one detector call; no token contains NUL
_COMMON = frozenset({"true", "false", "null", "none", "n/a", "unknown", "test", "default"})


@dataclass
class Units:
    """The hashed units of one value, split by how they were found."""

    whole: list[int] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)
    pii: list[int] = field(default_factory=list)

    def all(self) -> list[int]:
        return self.whole + self.leaves + self.pii


class Hasher:
    """Keyed BLAKE2b-64 of normalised units (a MAC under the verify subkey)."""

    def __init__(self, key: bytes, detect: Callable[[str], Iterable[Any]] | None) -> None:
        self._key = key[:64]
        self._detect = detect

    def h(self, unit: str) -> int:
        d = hashlib.blake2b(unit.encode("utf-8", "surrogatepass"), key=self._key, digest_size=8)
        return int.from_bytes(d.digest(), "little")

    def units(self, value: object) -> Units:
        return self.units_batch([value])[0]

    def units_batch(self, values: Sequence[object]) -> list[Units]:
        """Units of many values; text is searched for tokens in a few large calls."""
        out = [Units() for _ in values]
        scan: list[tuple[int, str]] = []
        for i, value in enumerate(values):
            u = out[i]
            doc = _as_document(value)
            if doc is not None:
                whole = _norm(json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str))
                if whole is not None:
                    u.whole.append(self.h(whole))
                for leaf in _leaves(doc):
                    n = _norm(leaf)
                    if n is not None:
                        u.leaves.append(self.h(n))
                        if len(leaf) >= MIN_SCAN:
                            scan.append((i, leaf))
                continue
            text = _text(value)
            if text is None:
                continue
            n = _norm(text)
            if n is not None:
                u.whole.append(self.h(n))
                if isinstance(value, str) and len(text) >= MIN_SCAN:
                    scan.append((i, text[:MAX_TEXT_SCAN]))
        if self._detect is not None and scan:
            self._tokens(scan, out)
        return out

    def _tokens(self, scan: list[tuple[int, str]], out: list[Units]) -> None:
        """Run the detector over the texts joined by a separator no token can span."""
        detect = self._detect
        if detect is None:  # pragma: no cover - checked by the caller
            return
        start = 0
        while start < len(scan):
            owners: list[int] = []
            offsets: list[int] = []
            parts: list[str] = []
            size = 0
            while start < len(scan) and (not parts or size < _CHUNK):
                owner, text = scan[start]
                owners.append(owner)
                offsets.append(size)
                parts.append(text)
                size += len(text) + len(_SEP)
                start += 1
            joined = _SEP.join(parts)
            for m in detect(joined):
                b, e = int(m.start), int(m.end)
                k = bisect.bisect_right(offsets, b) - 1
                if e > offsets[k] + len(parts[k]):
                    continue  # spans a separator: not a token of one value
                n = _norm(joined[b:e])
                if n is not None:
                    out[owners[k]].pii.append(self.h(n))


def _norm(s: str) -> str | None:
    n = s.strip().lower()
    if len(n) < MIN_TEXT or n in _COMMON:
        return None
    digits = n.lstrip("+-")
    if digits.isdigit() and len(digits) < MIN_DIGITS:
        return None
    return n


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
        self._pending: list[int] = []
        self._sorted: H | None = EMPTY

    def add_many(self, hashes: Iterable[int]) -> None:
        self._pending.extend(hashes)
        if len(self._pending) >= 500_000:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._parts.append(np.unique(np.array(self._pending, dtype=np.uint64)))
            self._pending = []
            self._sorted = None

    def array(self) -> H:
        self._flush()
        if self._sorted is None:
            self._sorted = np.unique(np.concatenate(self._parts)) if self._parts else EMPTY
            self._parts = [self._sorted]
        return self._sorted

    def __len__(self) -> int:
        return int(self.array().size)


def contains(sorted_set: H, hashes: H) -> npt.NDArray[np.bool_]:
    """Membership of every element of ``hashes`` in the sorted array ``sorted_set``."""
    if sorted_set.size == 0 or hashes.size == 0:
        return np.zeros(hashes.size, dtype=bool)
    idx = np.searchsorted(sorted_set, hashes)
    idx[idx == sorted_set.size] = 0
    return np.asarray(sorted_set[idx] == hashes)


__all__ = ["EMPTY", "H", "HashSet", "Hasher", "Units", "contains"]
