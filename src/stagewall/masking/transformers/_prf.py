"""Vectorised keyed pseudo-random functions: SipHash-2-4 over NumPy row matrices.

SipHash (Aumasson & Bernstein) is a keyed PRF with a 128-bit key. Here it runs on
many messages of the *same byte length* at once, one NumPy operation per round
step for the whole batch, so hashing a million short strings costs a few hundred
array operations instead of a million interpreter round trips.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U8 = npt.NDArray[np.uint8]

_MASK = (1 << 64) - 1
_C0 = 0x736F6D6570736575
_C1 = 0x646F72616E646F6D
_C2 = 0x6C7967656E657261
_C3 = 0x7465646279746573


def _rotl(x: U64, b: int) -> U64:
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


def _round(v0: U64, v1: U64, v2: U64, v3: U64) -> tuple[U64, U64, U64, U64]:
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash_rows(key: bytes, rows: U8, length: int | None = None) -> U64:
    """SipHash-2-4 of every row of a ``(m, n)`` uint8 matrix (each row one message).

    ``key`` is 16 bytes. The result is one uint64 per row, equal to the reference
    SipHash-2-4 of that row's bytes.
    """
    if len(key) != 16:
        raise ValueError("SipHash needs a 16-byte key")
    m, n = rows.shape
    n = n if length is None else length
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    full = n // 8
    padded = np.zeros((m, (full + 1) * 8), dtype=np.uint8)
    padded[:, :n] = rows[:, :n]
    padded[:, -1] = n & 0xFF
    words = padded.view("<u8")
    if words.dtype.byteorder not in ("=", "|", "<") or not np.little_endian:
        words = words.astype(np.uint64)
    v0 = np.full(m, k0 ^ _C0, dtype=np.uint64)
    v1 = np.full(m, k1 ^ _C1, dtype=np.uint64)
    v2 = np.full(m, k0 ^ _C2, dtype=np.uint64)
    v3 = np.full(m, k1 ^ _C3, dtype=np.uint64)
    words_t = np.ascontiguousarray(words.T)  # one contiguous row per word position
    for i in range(full + 1):
        w = words_t[i]
        v3 = v3 ^ w
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        v0 = v0 ^ w
    v2 = v2 ^ np.uint64(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
    result: U64 = v0 ^ v1 ^ v2 ^ v3
    return result


def splitmix(x: U64) -> U64:
    """SplitMix64 finaliser: spreads a 64-bit value (used to expand PRF outputs)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: U64 = z ^ (z >> np.uint64(31))
    return out


def subkey(key: bytes, label: str) -> bytes:
    """A 16-byte SipHash key derived from a 32-byte transformer key and a label."""
    return hashlib.blake2b(label.encode(), key=key, digest_size=16).digest()


def hash_bytes_list(key: bytes, items: Sequence[bytes]) -> U64:
    """Keyed 64-bit hash of every byte string, vectorised by grouping equal lengths."""
    m = len(items)
    out = np.zeros(m, dtype=np.uint64)
    if m == 0:
        return out
    lengths = np.fromiter((len(b) for b in items), dtype=np.int64, count=m)
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    bounds = np.flatnonzero(np.diff(sorted_lengths)) + 1
    for idx in np.split(order, bounds):
        n = int(lengths[idx[0]])
        blob = b"".join([items[i] for i in idx.tolist()])
        rows = np.frombuffer(blob, dtype=np.uint8).reshape(len(idx), n)
        out[idx] = siphash_rows(key, rows, n)
    return out


__all__ = ["hash_bytes_list", "siphash_rows", "splitmix", "subkey"]
