"""RFC 9162 (Certificate Transparency v2) Merkle tree algorithms, section 2.1.

Leaf hash ``SHA-256(0x00 || entry)``, node hash ``SHA-256(0x01 || left || right)``,
the empty tree hashes to ``SHA-256("")``. Proof *generation* works on the list of
leaf hashes; proof *verification* follows the RFC's iterative algorithms exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


class Frontier:
    """The compact range of a tree: roots of the perfect subtrees for each set bit.

    Appending is amortised O(1) hashes; the root of the current size is O(log n).
    """

    __slots__ = ("size", "stack")

    def __init__(self, size: int = 0, stack: Sequence[bytes] = ()) -> None:
        if bin(size).count("1") != len(stack):
            raise ValueError("frontier does not match the tree size")
        self.size = size
        self.stack = list(stack)

    def append(self, leaf: bytes) -> None:
        h = leaf
        n = self.size
        stack = self.stack
        while n & 1:
            h = _sha256(b"\x01" + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        self.size += 1

    def push_subtree(self, height: int, node: bytes) -> None:
        """Append a perfect subtree of ``2**height`` leaves (size must be aligned)."""
        if self.size & ((1 << height) - 1):
            raise ValueError("subtree is not aligned with the tree size")
        n = self.size >> height
        stack = self.stack
        while n & 1:
            node = _sha256(b"\x01" + stack.pop() + node).digest()
            n >>= 1
        stack.append(node)
        self.size += 1 << height

    def root_with(self, extra: Sequence[bytes]) -> bytes:
        """The root of this frontier followed by ``extra`` compact-range nodes."""
        nodes = [*self.stack, *extra]
        if not nodes:
            return EMPTY_ROOT
        r = nodes[-1]
        for h in reversed(nodes[:-1]):
            r = _sha256(b"\x01" + h + r).digest()
        return r

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        r = self.stack[-1]
        for h in reversed(self.stack[:-1]):
            r = _sha256(b"\x01" + h + r).digest()
        return r

    def to_bytes(self) -> bytes:
        return b"".join(self.stack)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        if len(data) % 32:
            raise ValueError("frontier bytes are not a multiple of 32")
        return cls(size, [data[i : i + 32] for i in range(0, len(data), 32)])


def levels(leaves: list[bytes]) -> list[list[bytes]]:
    """All perfect-subtree levels over ``leaves`` (level 0 is the leaves)."""
    out = [leaves]
    sha = _sha256
    cur = leaves
    while len(cur) > 1:
        cur = [sha(b"\x01" + cur[i] + cur[i + 1]).digest() for i in range(0, len(cur) - 1, 2)]
        out.append(cur)
    return out


def compact_range(lv: list[list[bytes]], count: int) -> list[tuple[int, bytes]]:
    """(height, node) of the perfect subtrees covering the first ``count`` leaves."""
    nodes: list[tuple[int, bytes]] = []
    offset = 0
    for h in range(count.bit_length() - 1, -1, -1):
        if count >> h & 1:
            nodes.append((h, lv[h][offset >> h]))
            offset += 1 << h
    return nodes


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    f = Frontier()
    for leaf in leaves:
        f.append(leaf)
    return f.root()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1 (leaf-to-root order)."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of size {n}")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaves[lo : lo + k]))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1."""
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} is outside 0..{n}")
    if old_size in (0, n):
        return []
    proof: list[bytes] = []
    lo, hi, m, complete = 0, n, old_size, True
    while True:
        if m == hi - lo:
            if not complete:
                proof.append(root(leaves[lo:hi]))
            break
        k = _split(hi - lo)
        if m <= k:
            proof.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            proof.append(root(leaves[lo : lo + k]))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 2.1.3.2."""
    if index < 0 or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2 (plus the trivial cases old_size == 0 and old == new)."""
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "consistency_proof",
    "inclusion_path",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]
