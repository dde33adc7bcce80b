"""RFC 9162 Merkle tree: certificate-transparency reference vectors and properties."""

from __future__ import annotations

import hashlib

import pytest

from stagewall.audit._merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_path,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# transparency-dev/merkle testonly (certificate-transparency merkle_tree_test.cc)
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
HASHES = [leaf_hash(x) for x in LEAVES]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    assert root(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_reference_inclusion_paths(index: int, size: int, path: list[str]) -> None:
    got = inclusion_path(index, HASHES[:size])
    assert [p.hex() for p in got] == path
    assert verify_inclusion(HASHES[index], index, size, got, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_reference_consistency_proofs(old: int, new: int, proof: list[str]) -> None:
    got = consistency_proof(old, HASHES[:new])
    assert [p.hex() for p in got] == proof
    assert verify_consistency(
        old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), got
    )


def _tree(n: int) -> list[bytes]:
    return [leaf_hash(f"leaf-{i}".encode()) for i in range(n)]


def test_every_inclusion_proof_up_to_33_verifies_and_tampering_fails() -> None:
    other = leaf_hash(b"x")
    for n in range(1, 34):
        hs = _tree(n)
        r = root(hs)
        for m in range(n):
            path = inclusion_path(m, hs)
            assert verify_inclusion(hs[m], m, n, path, r)
            assert not verify_inclusion(other, m, n, path, r)
            if n > 1:
                assert not verify_inclusion(hs[m], (m + 1) % n, n, path, r)
            if path:
                assert not verify_inclusion(hs[m], m, n, path[:-1], r)
                assert not verify_inclusion(hs[m], m, n, [*path, path[0]], r)
        assert not verify_inclusion(hs[0], n, n, [], r)


def test_every_consistency_proof_up_to_33_verifies_and_tampering_fails() -> None:
    for n in range(1, 34):
        hs = _tree(n)
        rn = root(hs)
        for m in range(0, n + 1):
            rm = root(hs[:m])
            proof = consistency_proof(m, hs)
            assert verify_consistency(m, n, rm, rn, proof), (m, n)
            if 0 < m < n:
                bad = hashlib.sha256(rm).digest()
                assert not verify_consistency(m, n, bad, rn, proof)
                assert not verify_consistency(m, n, rm, bad, proof)
                assert not verify_consistency(m, n, rm, rn, proof[:-1])
                # a rewritten old history is not consistent with the new tree
                rewritten = root([leaf_hash(b"forged"), *hs[1:m]])
                assert not verify_consistency(m, n, rewritten, rn, proof)
        assert not verify_consistency(n + 1, n, rn, rn, [])


def test_frontier_round_trip_and_bad_shape() -> None:
    f = Frontier()
    for h in _tree(13):
        f.append(h)
    again = Frontier.from_bytes(13, f.to_bytes())
    assert again.root() == root(_tree(13))
    with pytest.raises(ValueError, match="does not match the tree size"):
        Frontier.from_bytes(12, f.to_bytes())
    with pytest.raises(ValueError, match="multiple of 32"):
        Frontier.from_bytes(13, f.to_bytes()[:-1])
