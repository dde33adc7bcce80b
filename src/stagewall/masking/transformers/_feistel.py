"""Keyed format-preserving permutations: a vectorised Feistel network over symbols.

A value is a row of ``n`` symbols; symbol ``j`` of row ``i`` lives in
``[0, radix[i, j])`` (e.g. 10 for a digit, 26 for a letter, 2 for a bit). The row
is split into a left part (``n // 2`` symbols) and a right part; each of
``ROUNDS`` rounds adds, symbol by symbol and modulo its radix, a keyed
pseudo-random function of one part to the other part (unbalanced alternating
Feistel, as in NIST FF1). Each round is invertible whatever the round function,
so the whole network is a *bijection* on the rows with a given radix pattern —
which is why the FPE transformers are unique-safe by construction, not by
checking for collisions. The round function is SipHash-2-4 (a keyed PRF) of the
other part, expanded to one pseudo-random 64-bit word per symbol.

Domains that are not a product of radices (an integer range, public IPv4
addresses) use *cycle-walking*: apply the permutation again while the result is
outside the domain; restricted to the domain that is still a bijection.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from stagewall.masking.transformers._prf import siphash_rows, splitmix, subkey

ROUNDS = 10
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_GOLDEN = 0x9E3779B97F4A7C15


def _round_keys(key: bytes, tweak: str) -> list[bytes]:
    return [subkey(key, f"feistel/{r}/{tweak}") for r in range(ROUNDS)]


def _prf(rk: bytes, src: I64, width: int) -> I64 | None:
    """``width`` pseudo-random uint64 words per row, a keyed function of ``src``."""
    if width == 0:
        return None
    h = siphash_rows(rk, src.astype(np.uint8), src.shape[1])
    steps = (np.arange(1, width + 1, dtype=np.uint64) * np.uint64(_GOLDEN)).reshape(1, width)
    return splitmix(h.reshape(-1, 1) ^ steps).astype(np.int64, copy=False)


def _apply(sym: I64, radix: I64, key: bytes, tweak: str, inverse: bool) -> I64:
    sym = sym.astype(np.int64, copy=True)
    n = sym.shape[1]
    if sym.shape[0] == 0 or n == 0:
        return sym
    half = n // 2
    keys = _round_keys(key, tweak)
    order = range(ROUNDS - 1, -1, -1) if inverse else range(ROUNDS)
    for r in order:
        if r % 2 == 0:
            src, dst = slice(0, half), slice(half, n)
        else:
            src, dst = slice(half, n), slice(0, half)
        width = sym[:, dst].shape[1]
        words = _prf(keys[r], sym[:, src], width)
        if words is None:
            continue
        rad = radix[:, dst]
        # uint64 words reinterpreted as int64: take the low 62 bits so the modulo is exact.
        add = (words & np.int64((1 << 62) - 1)) % rad
        sym[:, dst] = (sym[:, dst] - add) % rad if inverse else (sym[:, dst] + add) % rad
    return sym


def permute(sym: I64, radix: I64, key: bytes, tweak: str = "") -> I64:
    """Apply the keyed permutation to every row of ``sym`` (shape ``(m, n)``)."""
    return _apply(sym, np.broadcast_to(radix, sym.shape), key, tweak, inverse=False)


def unpermute(sym: I64, radix: I64, key: bytes, tweak: str = "") -> I64:
    """The inverse of :func:`permute` (used by tests to prove bijectivity)."""
    return _apply(sym, np.broadcast_to(radix, sym.shape), key, tweak, inverse=True)


def permute_walk(
    sym: I64,
    radix: I64,
    key: bytes,
    tweak: str,
    inside: Callable[[I64], Bools],
    max_walks: int = 10_000,
) -> I64:
    """Permute and cycle-walk until every row satisfies ``inside`` (all inputs must)."""
    out = permute(sym, radix, key, tweak)
    todo = np.flatnonzero(~inside(out))
    walks = 0
    while todo.size:
        walks += 1
        if walks > max_walks:
            raise RuntimeError("cycle-walking did not terminate; is the input inside the domain?")
        out[todo] = permute(out[todo], np.broadcast_to(radix, sym.shape)[todo], key, tweak)
        todo = todo[~inside(out[todo])]
    return out


def ints_to_bits(values: list[int], nbits: int) -> I64:
    """Non-negative ints → ``(m, nbits)`` matrix of bits, most significant first."""
    nbytes = max(1, (nbits + 7) // 8)
    blob = b"".join(v.to_bytes(nbytes, "big") for v in values)
    bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8).reshape(len(values), nbytes), axis=1)
    return bits[:, nbytes * 8 - nbits :].astype(np.int64)


def bits_to_ints(bits: I64) -> list[int]:
    """Inverse of :func:`ints_to_bits`."""
    m, nbits = bits.shape
    nbytes = max(1, (nbits + 7) // 8)
    full = np.zeros((m, nbytes * 8), dtype=np.uint8)
    full[:, nbytes * 8 - nbits :] = bits
    raw = np.packbits(full, axis=1).tobytes()
    return [int.from_bytes(raw[i * nbytes : (i + 1) * nbytes], "big") for i in range(m)]


def bits_less_than(bits: I64, bound: int) -> Bools:
    """Rows (bit matrices, MSB first) whose value is ``< bound``."""
    nbits = bits.shape[1]
    if nbits <= 62:
        weights = (1 << np.arange(nbits - 1, -1, -1, dtype=np.int64)).astype(np.int64)
        return (bits @ weights) < bound
    return np.array([v < bound for v in bits_to_ints(bits)], dtype=bool)


__all__ = [
    "ROUNDS",
    "bits_less_than",
    "bits_to_ints",
    "ints_to_bits",
    "permute",
    "permute_walk",
    "unpermute",
]
