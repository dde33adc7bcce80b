"""Keyed format-preserving permutations: a vectorised Feistel network over symbols.

A value is a row of ``n`` symbols; symbol ``j`` of row ``i`` lives in
``[0, radix[i, j])`` (e.g. 10 for a digit, 26 for a letter, 2 for a bit). The row
is split into a left part (``n // 2`` symbols) and a right part; each of
``ROUNDS`` rounds adds, symbol by symbol and modulo its radix, a keyed
pseudo-random function of one part to the other part (unbalanced alternating
Feistel, as in NIST FF1). Each round is invertible whatever the round function,
so the whole network is a *bijection* on the rows with a given radix pattern —
which is why the FPE transformers are unique-safe by construction, not by
checking for collisions. The round function is AES-128 CBC-MAC (a keyed PRF on
fixed-length inputs, see ``_aesprf``) of the other part under a key for that
round, row length and tweak, expanded to one pseudo-random byte or 16-bit word
per symbol.

Domains that are not a product of radices (an integer range, public IPv4
addresses) use *cycle-walking*: apply the permutation again while the result is
outside the domain; restricted to the domain that is still a bijection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.masking.transformers._aesprf import RowPrf, keyed_prf

ROUNDS = 10
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def _round_prfs(key: bytes, tweak: str, n: int, rounds: int) -> list[RowPrf]:
    """One AES PRF per round, keyed by round, row length and tweak (fixed-length CBC-MAC)."""
    return [
        keyed_prf(key, f"feistel/aes/{r}/{n}/{tweak}", f"feistel/xof/{r}/{n}/{tweak}")
        for r in range(rounds)
    ]


def _prf(prf: RowPrf, src: Any, width: int, wide: bool, bits: bool = False) -> Any:
    """``width`` pseudo-random words per row, a keyed function of ``src`` (uint8 symbols).

    ``wide``: 16-bit words (for radices that do not divide 256; a word ``w`` is
    scaled to ``w * radix >> 16``, whose relative bias for a radix of at most 256
    is below 2**-8 — this weakens nothing that matters here, since every round
    stays invertible whatever its round function); otherwise bytes (exact for
    radix 2 and 256). ``bits`` (radix 2, rows longer than 32 bits): the half is
    packed 8 bits to a byte before it goes into the PRF, and each output byte gives
    8 symbols.
    """
    if width == 0:
        return None
    if bits:  # radix 2: the PRF sees and yields packed bits
        packed = np.packbits(np.asarray(src, dtype=np.uint8), axis=1)
        return np.unpackbits(prf(packed, -(-width // 8)), axis=1)[:, :width]
    src8 = np.ascontiguousarray(src, dtype=np.uint8)
    if not wide:
        return prf(src8, width)[:, :width]
    return prf(src8, 2 * width).view("<u2")[:, :width]


def rounds_for(radix: Any) -> int:
    """10 rounds (as NIST FF1) for small domains; 6 once the domain has 128 bits or more.

    Six rounds of a Feistel network with a PRF round function are a strong
    pseudo-random permutation far beyond the birthday bound of 64-bit halves
    (Patarin); the extra rounds of FF1 matter for small domains only.
    """
    bits = float(np.log2(np.asarray(radix, dtype=np.float64)).sum(axis=-1).min())
    return 6 if bits >= 128 else ROUNDS


def _radix_operand(rad: Any, m: int) -> tuple[Any, Any]:
    """The radices of one half as (uint32, uint16) operands: scalars when they are all
    equal, otherwise full ``(m, w)`` arrays (broadcasting a short row over many rows
    runs NumPy's inner loop a few elements at a time)."""
    if rad.size and (rad == rad.flat[0]).all():
        r = int(rad.flat[0])
        return np.uint32(r), np.uint16(r)
    full = np.ascontiguousarray(np.broadcast_to(rad, (m, rad.shape[1])))
    return full.astype(np.uint32), full.astype(np.uint16)


_LOG2 = np.log2(np.maximum(np.arange(257, dtype=np.float64), 1.0))


def _apply(sym: Any, radix: Any, key: bytes, tweak: str, inverse: bool, raw: bool = False) -> Any:
    m, n = sym.shape
    if m == 0 or n == 0:
        return np.asarray(sym, dtype=np.uint8 if raw else np.int64).copy()
    rad_in = np.asarray(radix)
    if rad_in.ndim == 2 and rad_in.shape[0] > 1 and not (rad_in == rad_in[:1]).all():
        rad_all = rad_in
        per_row = np.where(_LOG2[rad_all].sum(axis=1) >= 128, 6, ROUNDS)
        if (per_row != per_row[0]).any():  # each row's round count comes from its own radices
            out = np.empty((m, n), dtype=np.uint8 if raw else np.int64)
            for r in (6, ROUNDS):
                sel = np.flatnonzero(per_row == r)
                out[sel] = _apply(np.asarray(sym)[sel], rad_all[sel], key, tweak, inverse, raw)
            return out
    else:  # one radix pattern for every row
        rad_all = np.broadcast_to(rad_in, (m, n))[:1]
    rounds = rounds_for(rad_all[0])
    uniform = int(rad_all.flat[0])
    if not (rad_all == uniform).all() or uniform not in (2, 256):
        uniform = 0
    half = n // 2
    if half == 0:
        return _rotate(sym, rad_all, key, tweak, inverse, raw)
    parts: list[Any] = [
        np.ascontiguousarray(np.asarray(sym)[:, :half], dtype=np.uint8),
        np.ascontiguousarray(np.asarray(sym)[:, half:], dtype=np.uint8),
    ]
    rads = [_radix_operand(rad_all[:, :half], m), _radix_operand(rad_all[:, half:], m)]
    prfs = _round_prfs(key, tweak, n, rounds)
    packed = uniform == 2 and n > 32  # long bit rows: 8 bits a byte saves AES blocks
    order = range(rounds - 1, -1, -1) if inverse else range(rounds)
    for r in order:
        s_i, d_i = (0, 1) if r % 2 == 0 else (1, 0)
        cur = parts[d_i]
        words = _prf(prfs[r], parts[s_i], cur.shape[1], wide=uniform == 0, bits=packed)
        if words is None:
            continue
        if uniform == 256:  # uint8 arithmetic wraps mod 256
            parts[d_i] = cur - words if inverse else cur + words
        elif uniform == 2:  # addition mod 2 is xor, its own inverse
            parts[d_i] = cur ^ (words & np.uint8(1))
        else:
            rad = rads[d_i]
            # a 16-bit word scaled into [0, radix), then added modulo the radix: when
            # val < rad, val - rad wraps around (unsigned) and the minimum is val
            rad32, rad16 = rad
            add = ((words * rad32) >> np.uint32(16)).astype(np.uint16)
            val = cur.astype(np.uint16)
            val += rad16 - add if inverse else add
            parts[d_i] = np.minimum(val, val - rad16).astype(np.uint8)
    joined = np.concatenate(parts, axis=1)
    return joined if raw else joined.astype(np.int64, copy=False)


def _rotate(sym: Any, rad_all: Any, key: bytes, tweak: str, inverse: bool, raw: bool) -> Any:
    """One-symbol values: a Feistel network can only rotate them, so rotate by a keyed
    amount in ``[1, radix)``: still a bijection, and no value maps to itself."""
    rad = np.ascontiguousarray(rad_all, dtype=np.uint32)
    prf = _round_prfs(key, tweak, 1, 1)[0]
    word = _prf(prf, np.zeros((1, 0), dtype=np.uint8), 1, wide=True)
    step = 1 + ((word * (rad - 1)) >> np.uint32(16))
    cur = np.asarray(sym).astype(np.uint32)
    val = cur + (rad - step) if inverse else cur + step
    out = np.where(val >= rad, val - rad, val)
    return out.astype(np.uint8) if raw else out.astype(np.int64)


def permute_u8(sym: Any, radix: Any, key: bytes, tweak: str = "") -> Any:
    """:func:`permute` with uint8 symbols in and out (skips the int64 round trip)."""
    return _apply(sym, radix, key, tweak, inverse=False, raw=True)


def permute(sym: I64, radix: I64, key: bytes, tweak: str = "") -> I64:
    """Apply the keyed permutation to every row of ``sym`` (shape ``(m, n)``)."""
    out: I64 = _apply(sym, radix, key, tweak, inverse=False)
    return out


def permute_bytes(rows: Any, key: bytes, tweak: str = "") -> Any:
    """:func:`permute` for a uint8 matrix of bytes (radix 256), uint8 in and out."""
    return _apply(rows, np.full(rows.shape[1], 256), key, tweak, inverse=False, raw=True)


def unpermute(sym: I64, radix: I64, key: bytes, tweak: str = "") -> I64:
    """The inverse of :func:`permute` (used by tests to prove bijectivity)."""
    out: I64 = _apply(sym, radix, key, tweak, inverse=True)
    return out


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
    "permute_bytes",
    "permute_u8",
    "permute_walk",
    "unpermute",
]
