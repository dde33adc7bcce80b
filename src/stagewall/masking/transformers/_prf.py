"""Key derivation for the transformers, and the SplitMix64 finaliser used to expand hashes.

The keyed pseudo-random functions themselves are AES-based: see ``_aesprf``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U8 = npt.NDArray[np.uint8]


def splitmix(x: U64) -> U64:
    """SplitMix64 finaliser: spreads a 64-bit value (used to expand PRF outputs)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: U64 = z ^ (z >> np.uint64(31))
    return out


def subkey(key: bytes, label: str) -> bytes:
    """A 16-byte (AES-128) key derived from a 32-byte transformer key and a label."""
    return hashlib.blake2b(label.encode(), key=key, digest_size=16).digest()


__all__ = ["splitmix", "subkey"]
