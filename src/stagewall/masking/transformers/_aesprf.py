"""A vectorised keyed PRF on fixed-length byte rows: AES-128 CBC-MAC, one ECB call per block.

The Feistel network of ``_feistel`` needs, in every round, a keyed pseudo-random
function of one half of each value. Here every row of an ``(m, k)`` uint8 matrix
is one message; all rows have the same length ``k``, and the caller derives a
distinct AES key for every ``(round, row length, tweak)``. CBC-MAC is a secure
PRF on messages of one fixed length (Bellare, Kilian & Rogaway), which is exactly
this use. The rows are zero-padded to whole 16-byte blocks (unambiguous, since
the length is fixed under the key) and the chaining runs *across the batch*: one
AES-ECB call (``cryptography``/OpenSSL, AES-NI where the CPU has it) encrypts
block ``j`` of every row at once, so the cost is a few array copies per block,
not one interpreter round trip per value.

More than 16 output bytes are produced as ``AES_K'(T xor j)`` for
``j = 0, 1, …`` with a second key ``K'`` (counter-mode expansion of the tag
``T``).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from stagewall.masking.transformers._prf import subkey

U8 = npt.NDArray[np.uint8]


class RowPrf:
    """``prf(rows, nbytes)``: ``nbytes`` pseudo-random bytes per row, keyed by two AES keys."""

    __slots__ = ("_expand", "_mac")

    def __init__(self, mac_key: bytes, expand_key: bytes) -> None:
        if len(mac_key) != 16 or len(expand_key) != 16:
            raise ValueError("RowPrf needs two 16-byte AES keys")
        # ECB here is the raw block cipher applied to independent blocks (the CBC
        # chaining and the counters are done explicitly below), not a way of
        # encrypting data.
        self._mac = Cipher(algorithms.AES(mac_key), modes.ECB()).encryptor()  # noqa: S305
        self._expand = Cipher(algorithms.AES(expand_key), modes.ECB()).encryptor()  # noqa: S305

    @staticmethod
    def _ecb(enc: Any, blocks: U8) -> U8:
        raw = enc.update(np.ascontiguousarray(blocks).tobytes())
        return np.frombuffer(raw, dtype=np.uint8).reshape(blocks.shape)

    def tag(self, rows: U8) -> U8:
        """CBC-MAC (zero IV, zero padding) of every row: an ``(m, 16)`` uint8 matrix."""
        m, k = rows.shape
        nblocks = max(1, -(-k // 16))
        if k == nblocks * 16:
            padded = rows
        else:
            padded = np.zeros((m, nblocks * 16), dtype=np.uint8)
            padded[:, :k] = rows
        state = self._ecb(self._mac, padded[:, :16])
        for b in range(1, nblocks):
            state = self._ecb(self._mac, state ^ padded[:, 16 * b : 16 * b + 16])
        return state

    def __call__(self, rows: U8, nbytes: int) -> U8:
        """At least ``nbytes`` pseudo-random bytes per row: a C-contiguous ``(m, 16·k)`` matrix.

        Callers use the first ``nbytes`` columns.
        """
        t = self.tag(rows)
        if nbytes <= 16:
            return t
        m = t.shape[0]
        nb = -(-nbytes // 16)
        ctr = np.zeros((1, nb, 16), dtype=np.uint8)
        ctr[0, :, 15] = np.arange(nb, dtype=np.uint8)
        ctr[0, :, 14] = np.arange(nb, dtype=np.int64) >> 8
        blocks = (t.reshape(m, 1, 16) ^ ctr).reshape(m * nb, 16)
        return self._ecb(self._expand, blocks).reshape(m, nb * 16)


_LOCAL = threading.local()
_MAX_CACHED = 1024  # PRFs kept per thread (a batch needs one per length and round)


def keyed_prf(key: bytes, mac_label: str, expand_label: str) -> RowPrf:
    """``RowPrf(subkey(key, mac_label), subkey(key, expand_label))``, built once per
    thread and reused.

    A batch of values of many lengths needs one PRF per length (and per Feistel
    round): deriving two keys and setting up two AES contexts for each, in every
    batch, cost more than some of the encryptions. The PRF is a function of its keys
    only (its ECB contexts are only ever given whole blocks, so they hold no state
    between calls), so a reused one gives the same bytes. Kept per thread: a
    context must not be used by two threads at once.
    """
    cache: dict[tuple[bytes, str, str], RowPrf] | None = getattr(_LOCAL, "prfs", None)
    if cache is None:
        cache = _LOCAL.prfs = {}
    k = (key, mac_label, expand_label)
    prf = cache.get(k)
    if prf is None:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        prf = cache[k] = RowPrf(subkey(key, mac_label), subkey(key, expand_label))
    return prf


__all__ = ["RowPrf", "keyed_prf"]
