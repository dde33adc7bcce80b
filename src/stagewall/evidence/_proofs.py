"""Inclusion proofs for many leaves of one tree, from its levels computed once."""

from __future__ import annotations

import hashlib

from stagewall.audit._merkle import levels


class ProofMaker:
    """RFC 9162 PATH(m, D[n]) for any m, with the tree's levels built once (O(n))."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.n = len(leaves)
        self.levels = levels(leaves) if leaves else [[]]
        self._memo: dict[tuple[int, int], bytes] = {}

    def subtree(self, lo: int, hi: int) -> bytes:
        size = hi - lo
        if size & (size - 1) == 0 and lo % size == 0:
            h = size.bit_length() - 1
            return self.levels[h][lo >> h]
        key = (lo, hi)
        found = self._memo.get(key)
        if found is None:
            k = 1 << ((size - 1).bit_length() - 1)
            found = hashlib.sha256(
                b"\x01" + self.subtree(lo, lo + k) + self.subtree(lo + k, hi)
            ).digest()
            self._memo[key] = found
        return found

    def root(self) -> bytes:
        return self.subtree(0, self.n) if self.n else hashlib.sha256(b"").digest()

    def path(self, index: int) -> list[bytes]:
        if not 0 <= index < self.n:
            raise ValueError(f"leaf index {index} is outside a tree of size {self.n}")
        out: list[bytes] = []
        lo, hi, m = 0, self.n, index
        while hi - lo > 1:
            k = 1 << ((hi - lo - 1).bit_length() - 1)
            if m < k:
                out.append(self.subtree(lo + k, hi))
                hi = lo + k
            else:
                out.append(self.subtree(lo, lo + k))
                lo, m = lo + k, m - k
        out.reverse()
        return out


__all__ = ["ProofMaker"]
