"""A batch of texts as one flat byte buffer, and symbol permutations on it.

Encoding every value separately, grouping by length and decoding every value
again costs more than the keyed permutation itself. Here the whole batch is
joined and encoded once; ``owner[i]`` tells which value byte ``i`` belongs to.
The transformers that keep a value's layout (digits stay digits, separators stay
in place) only rewrite ASCII bytes into ASCII bytes, so the output is the buffer
decoded once and cut at the input's character offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.masking.transformers._feistel import permute_u8

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


class Flat:
    """The UTF-8 bytes of all values: value ``j`` is ``lengths[j]`` bytes from ``starts[j]``.

    ``owner`` (the value of every byte) and ``char_bounds`` (character offsets for
    :meth:`texts`) are built on first use: the byte-length group paths need neither.
    """

    def __init__(self, buf: U8, starts: I64, lengths: I64, chars: I64) -> None:
        self.buf, self.starts, self.lengths, self._chars = buf, starts, lengths, chars

    @property
    def size(self) -> int:
        return len(self.lengths)

    @cached_property
    def owner(self) -> I64:
        out: I64 = np.repeat(np.arange(self.size, dtype=np.int64), self.lengths)
        return out

    @cached_property
    def char_bounds(self) -> list[int]:
        return [0, *np.cumsum(self._chars).tolist()]

    def rank(self, mask: Bools) -> I64:
        """1-based index of each masked byte among its value's masked bytes (0 elsewhere: junk)."""
        cs = np.cumsum(mask, dtype=np.int64)
        before = np.concatenate(([0], cs))[self.starts]
        out: I64 = cs - before[self.owner]
        return out

    def count(self, mask: Bools) -> I64:
        """How many masked bytes each value has."""
        out: I64 = np.bincount(self.owner[mask], minlength=self.size).astype(np.int64)
        return out

    def texts(self, buf: U8) -> list[str]:
        """Decode ``buf`` (same layout as ``self.buf``) back into one string per value."""
        s = buf.tobytes().decode("utf-8", "surrogatepass")
        b = self.char_bounds
        return [s[i:j] for i, j in pairwise(b)]


def flatten(texts: list[str]) -> Flat:
    joined = "".join(texts)
    raw = joined.encode("utf-8", "surrogatepass")
    m = len(texts)
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=m)
    if len(raw) == len(joined):
        lengths = chars
    else:
        lengths = np.fromiter(
            (len(t.encode("utf-8", "surrogatepass")) for t in texts), dtype=np.int64, count=m
        )
    starts = np.cumsum(lengths) - lengths
    return Flat(np.frombuffer(raw, dtype=np.uint8), starts, lengths, chars)


def by_length(
    texts: list[str], rewrite: Callable[[U8, I64], list[str] | None]
) -> list[object] | None:
    """Rewrite the texts one byte length at a time, as ``(m, n)`` byte matrices.

    ``rewrite(rows, members)`` gets the UTF-8 bytes of the values ``members`` (all
    of length ``n``) and returns their outputs; the outputs come back in input
    order with one NumPy assignment. None when a group's ``rewrite`` returns None.
    """
    flat = flatten(texts)
    order = np.argsort(flat.lengths, kind="stable")
    cuts = np.flatnonzero(np.diff(flat.lengths[order])) + 1
    done: list[str] = []
    for members in np.split(order, cuts):
        n = int(flat.lengths[members[0]])
        got = rewrite(flat.buf[flat.starts[members].reshape(-1, 1) + np.arange(n)], members)
        if got is None:
            return None
        done += got
    out = np.empty(len(texts), dtype=object)
    out[order] = done
    return out.tolist()


def rows_to_texts(rows: U8) -> list[str]:
    """Each row of UTF-8 bytes as a str: one decode and split (newline-separated), or
    slices when a row holds a newline itself."""
    m, n = rows.shape
    if n and (rows == 10).any():
        raw = rows.tobytes()
        return [raw[j * n : (j + 1) * n].decode("utf-8", "surrogatepass") for j in range(m)]
    end = np.full((m, 1), 10, dtype=np.uint8)
    joined = np.concatenate([rows, end], axis=1).tobytes()
    return joined.decode("utf-8", "surrogatepass").split("\n")[:-1]


_COPY_NULL = b"\\N"  # NULL in PostgreSQL COPY text


def _printable_batch(fields: list[bytes]) -> tuple[list[bytes], list[bool] | None, bytes] | None:
    """``(values to transform, kept, those values joined by newlines)`` of a batch of
    COPY text fields whose values are printable ASCII with no escape; ``kept`` marks
    NULL (``\\N``), empty and blank (all spaces) fields, which ``transform`` leaves as
    they are (None: none is). None for
    any other batch: a backslash escape, a control or non-ASCII byte (a value's bytes
    are then not its characters, or ``str.isspace`` may hold where ``bytes.isspace``
    does not), or nothing to transform."""
    raw = b"\n".join(fields)
    nulls = fields.count(_COPY_NULL) if b"\\" in raw else 0
    if raw.count(b"\\") != nulls:  # an escaped character
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    if len(buf) and (int(buf.max()) > 126 or np.count_nonzero(buf < 32) != len(fields) - 1):
        return None
    if not (nulls or b"" in fields or any(map(bytes.isspace, fields))):
        return fields, None, raw
    kept = [f == _COPY_NULL or not f.strip(b" ") for f in fields]
    todo = [f for f, k in zip(fields, kept, strict=True) if not k]
    return (todo, kept, b"\n".join(todo)) if todo else None


def _length_groups(todo: list[bytes], joined: bytes) -> tuple[U8, list[Any]]:
    """The values (``joined``: joined by newlines) as a byte array, and per byte length
    the positions of its values' bytes (an ``(m, n)`` index; row ``i`` is value
    ``members[i]``) with ``members``."""
    buf = np.frombuffer(joined, dtype=np.uint8)
    lengths = np.fromiter(map(len, todo), dtype=np.int64, count=len(todo))
    starts = np.cumsum(lengths + 1) - lengths - 1  # each value is followed by a separator
    order = np.argsort(lengths, kind="stable")
    cuts = np.flatnonzero(np.diff(lengths[order])) + 1
    groups = [
        (starts[members].reshape(-1, 1) + np.arange(int(lengths[members[0]])), members)
        for members in np.split(order, cuts)
    ]
    return buf, groups


def _fields_out(
    text: bytes, fields: list[bytes], kept: list[bool] | None, suffix: bytes
) -> list[bytes]:
    """The newline-separated outputs ``text`` as fields followed by ``suffix``, with the
    kept fields back in their places."""
    if suffix:
        text = text.replace(b"\n", suffix + b"\n") + suffix
    done = text.split(b"\n")
    if kept is None:
        return done
    masked = iter(done)
    return [f + suffix if k else next(masked) for f, k in zip(fields, kept, strict=True)]


def rewrite_copy_fields(
    fields: list[bytes], suffix: bytes, rewrite: Callable[[U8], U8 | None]
) -> list[bytes] | None:
    """PostgreSQL COPY text fields of a text column in, COPY text fields (each followed
    by ``suffix``) out, for a transformer that rewrites ASCII bytes in place
    (``rewrite(rows)``: an ``(m, n)`` matrix of the values of one byte length to the
    masked matrix of the same shape, whose bytes stay printable ASCII, or None).

    The bytes that decoding, ``transform`` and encoding give, without a ``str`` per
    value, for a batch whose values are printable ASCII with no escape (NULL, empty
    and blank fields stay as they are: :func:`_printable_batch`). None for any other
    batch, or when ``rewrite`` declines a group: the caller takes the ``str`` path.
    """
    batch = _printable_batch(fields)
    if batch is None:
        return None
    todo, kept, joined = batch
    buf, groups = _length_groups(todo, joined)
    out = buf.copy()
    for at, _ in groups:
        new = rewrite(buf[at])
        if new is None:
            return None
        out[at] = new
    return _fields_out(out.tobytes(), fields, kept, suffix)


def remap_copy_fields(
    fields: list[bytes], suffix: bytes, remap: Callable[[U8], list[str]]
) -> list[bytes] | None:
    """Like :func:`rewrite_copy_fields`, for a transformer whose outputs are new texts
    (``remap(rows)``: the outputs of the values of one byte length, in row order).
    None also when an output is not printable ASCII (the str path then escapes it).
    """
    batch = _printable_batch(fields)
    if batch is None:
        return None
    todo, kept, joined = batch
    buf, groups = _length_groups(todo, joined)
    out = np.empty(len(todo), dtype=object)
    for at, members in groups:
        out[members] = remap(buf[at])
    text = "\n".join(out.tolist()).encode()
    raw = np.frombuffer(text, dtype=np.uint8)
    if len(raw) and (int(raw.max()) > 126 or np.count_nonzero(raw < 32) != len(todo) - 1):
        return None
    return _fields_out(text, fields, kept, suffix)


_BASE = np.zeros(256, dtype=np.uint8)
_BASE[48:58], _BASE[65:91], _BASE[97:123] = 48, 65, 97
_RADIX = np.full(256, 10, dtype=np.uint16)
_RADIX[65:91] = _RADIX[97:123] = 26


def symbol_classes(b: Any) -> tuple[Any, Any]:
    """``(base, radix)`` (uint8, uint16) for ASCII digit / upper / lower bytes (others: junk)."""
    return _BASE[b], _RADIX[b]


def permute_symbols(flat: Flat, buf: U8, active: Bools, key: bytes, tweak: str) -> None:
    """Permute, in ``buf``, the active symbol bytes of every value (in place).

    Values with ``c`` active symbols are permuted together under tweak
    ``{tweak}/{c}``; each symbol keeps its class (digit, upper, lower letter), so
    the mapping is a bijection for every pattern of classes.
    """
    pos = np.flatnonzero(active)
    if pos.size == 0:
        return
    per_value = flat.count(active)
    present = per_value[per_value > 0]
    if (present == present[0]).all():  # one symbol count (the usual case): no sorting
        c = int(present[0])
        p = pos.reshape(-1, c)
        b = buf[p]
        base, radix = symbol_classes(b)
        buf[p] = permute_u8(b - base, radix, key, f"{tweak}/{c}") + base
        return
    c_of = per_value[flat.owner[pos]]
    order = np.argsort(c_of, kind="stable")
    pos = pos[order]
    c_sorted = c_of[order]
    cuts = np.flatnonzero(np.diff(c_sorted)) + 1
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), pos.size], strict=True):
        c = int(c_sorted[lo])
        p = pos[lo:hi].reshape(-1, c)
        b = buf[p]
        base, radix = symbol_classes(b)
        buf[p] = permute_u8(b - base, radix, key, f"{tweak}/{c}") + base


def class_masks(buf: U8, letters: bool) -> tuple[Bools, Bools]:
    """``(digit, symbol)`` masks: ASCII digits, and digits or (with ``letters``) ASCII letters."""
    digit = (buf >= 48) & (buf <= 57)
    if not letters:
        return digit, digit
    upper = (buf >= 65) & (buf <= 90)
    lower = (buf >= 97) & (buf <= 122)
    return digit, digit | upper | lower


__all__ = [
    "Flat",
    "by_length",
    "class_masks",
    "flatten",
    "permute_symbols",
    "rows_to_texts",
    "symbol_classes",
]
