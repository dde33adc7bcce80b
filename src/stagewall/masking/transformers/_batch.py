"""Batch helpers shared by the pseudonym transformers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.masking.transformers._aesprf import keyed_prf
from stagewall.masking.transformers._flat import flatten
from stagewall.masking.transformers._prf import splitmix

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
ObjArray = npt.NDArray[np.object_]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def keyed_hash(key: bytes, label: str, texts: Sequence[str]) -> U64:
    """One keyed 64-bit hash per text.

    AES-128 CBC-MAC (``_aesprf``) of the UTF-8 bytes, with its own key for every
    byte length (CBC-MAC is a PRF on messages of one fixed length), truncated to
    64 bits. The batch is encoded once and hashed one length group at a time.
    """
    m = len(texts)
    out = np.zeros(m, dtype=np.uint64)
    if m == 0:
        return out
    flat = flatten(list(texts))
    lengths = flat.lengths
    order = np.argsort(lengths, kind="stable")
    cuts = np.flatnonzero(np.diff(lengths[order])) + 1
    groups = [
        (flat.starts[members].reshape(-1, 1) + np.arange(int(lengths[members[0]])), members)
        for members in np.split(order, cuts)
    ]
    return keyed_hash_groups(key, label, flat.buf, groups, m)


def keyed_hash_groups(key: bytes, label: str, buf: U8, groups: list[Any], m: int) -> U64:
    """:func:`keyed_hash` of ``m`` texts given as their UTF-8 bytes: ``buf[at]`` is the
    ``(k, n)`` byte matrix of the texts ``members`` for each ``(at, members)`` of
    ``groups`` (one byte length ``n`` each, as :func:`~._flat._length_groups` gives)."""
    out = np.zeros(m, dtype=np.uint64)
    for at, members in groups:
        n = at.shape[1]
        prf = keyed_prf(key, f"hash/{n}/{label}", f"hash/x/{label}")
        out[members] = np.ascontiguousarray(prf.tag(buf[at])[:, :8]).view("<u8").reshape(-1)
    return out


def pick(words: ObjArray, h: U64) -> list[str]:
    """Dictionary lookup: ``words[h mod len]`` for every hash."""
    idx = (h % np.uint64(len(words))).astype(np.intp)
    return np.take(words, idx).tolist()  # type: ignore[no-any-return]


def take(words: ObjArray, h: U64) -> ObjArray:
    """Like :func:`pick` but returns the object array (for vectorised concatenation)."""
    return np.take(words, (h % np.uint64(len(words))).astype(np.intp))


def stream(h: U64, width: int) -> U64:
    """``width`` further pseudo-random words per hash (rows x width)."""
    steps = np.arange(1, width + 1, dtype=np.uint64) * _GOLDEN
    return splitmix(h.reshape(-1, 1) ^ steps.reshape(1, -1))


def length_groups(blobs: Sequence[bytes]) -> Iterator[tuple[int, list[int], U8]]:
    """Yield ``(n, indices, rows)`` for each byte length ``n`` (rows is ``(m, n)`` uint8)."""
    if not blobs:
        return
    lengths = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
    order = np.argsort(lengths, kind="stable")
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    for idx in np.split(order, bounds):
        members = idx.tolist()
        n = int(lengths[members[0]])
        blob = b"".join([blobs[i] for i in members])
        yield n, members, np.frombuffer(blob, dtype=np.uint8).reshape(len(members), n)


def rows_to_bytes(rows: U8) -> list[bytes]:
    m, n = rows.shape
    raw = np.ascontiguousarray(rows, dtype=np.uint8).tobytes()
    return [raw[i * n : (i + 1) * n] for i in range(m)]


def base32_width(nbytes: int) -> int:
    return (8 * nbytes + 4) // 5


def base32_matrix(rows: U8) -> U8:
    """Unpadded lowercase base32 of every row, as an ``(m, width)`` matrix of ASCII bytes.

    Symbol ``c`` is bits ``5c .. 5c+4`` of the row, which lie within two adjacent
    bytes: the row as 16-bit pairs of neighbouring bytes, one column gather, one
    shift and mask per symbol, and arithmetic instead of an alphabet lookup
    (``a``-``z`` for 0-25, ``2``-``7`` for 26-31).
    """
    m, n = rows.shape
    w = base32_width(n)
    if n == 0:
        return np.zeros((m, 0), dtype=np.uint8)
    padded = np.zeros((m, n + 2), dtype=np.uint8)
    padded[:, :n] = rows
    pairs = (padded[:, :-1].astype(np.uint16) << np.uint16(8)) | padded[:, 1:]
    bit = 5 * np.arange(w)
    sym = (pairs[:, bit // 8] >> (11 - bit % 8).astype(np.uint16)) & np.uint16(31)
    chars: U8 = sym.astype(np.uint8) + np.uint8(97)
    chars -= (chars >= 123).view(np.uint8) * np.uint8(97 - 24)
    return chars


def base32_rows(rows: U8) -> list[str]:
    """Unpadded lowercase base32 of every row (width depends only on the row length)."""
    m, n = rows.shape
    if n == 0:
        return [""] * m
    w = base32_width(n)
    text = np.ascontiguousarray(base32_matrix(rows)).tobytes().decode("ascii")
    return [text[i : i + w] for i in range(0, m * w, w)]


__all__ = [
    "base32_matrix",
    "base32_rows",
    "base32_width",
    "keyed_hash",
    "keyed_hash_groups",
    "length_groups",
    "pick",
    "rows_to_bytes",
    "stream",
    "take",
]
