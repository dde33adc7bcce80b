"""The keyed Feistel network is a bijection: full small domains and random round trips."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._feistel import (
    bits_less_than,
    bits_to_ints,
    ints_to_bits,
    permute,
    permute_walk,
    rounds_for,
    unpermute,
)

KEY = b"\x07" * 32


def _rows(a: np.ndarray) -> set[tuple[int, ...]]:
    return {tuple(r) for r in a.tolist()}


def test_full_digit_domain_is_permuted_bijectively() -> None:
    for n in (1, 2, 3, 4):
        dom = np.array(list(itertools.product(range(10), repeat=n)), dtype=np.int64)
        out = permute(dom, np.full(n, 10), KEY)
        assert _rows(out) == _rows(dom)
        assert (out != dom).any(axis=1).mean() > 0.8  # it actually moves values


def test_mixed_radix_domain_is_permuted_bijectively() -> None:
    radix = np.array([26, 10, 26, 2])
    dom = np.array(list(itertools.product(*(range(r) for r in radix))), dtype=np.int64)
    out = permute(dom, radix, KEY, "t")
    assert _rows(out) == _rows(dom)
    assert (out < radix).all() and (out >= 0).all()


def test_cycle_walking_stays_in_an_odd_sized_domain() -> None:
    size = 1000
    bits = ints_to_bits(list(range(size)), 10)
    out = permute_walk(bits, np.full(10, 2), KEY, "", lambda b: bits_less_than(b, size))
    assert sorted(bits_to_ints(out)) == list(range(size))


def test_tweak_and_key_change_the_permutation() -> None:
    dom = np.array(list(itertools.product(range(10), repeat=3)), dtype=np.int64)
    a = permute(dom, np.full(3, 10), KEY, "a")
    assert (a != permute(dom, np.full(3, 10), KEY, "b")).any()
    assert (a != permute(dom, np.full(3, 10), b"\x08" * 32, "a")).any()


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.sampled_from([2, 10, 26, 36, 256]), st.data())
def test_inverse_round_trips(n: int, m: int, radix: int, data: st.DataObject) -> None:
    rows = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(0, radix - 1), min_size=n, max_size=n), min_size=m, max_size=m
            )
        ),
        dtype=np.int64,
    )
    rad = np.full(n, radix)
    out = permute(rows, rad, KEY, "rt")
    assert (unpermute(out, rad, KEY, "rt") == rows).all()


def test_known_answer_vector() -> None:
    # Regression vector: produced by this implementation (key 07*32, tweak "kat",
    # digits 0..9) and by _reference_permute below. A change here changes every
    # masked value of every user.
    out = permute(np.arange(10, dtype=np.int64).reshape(1, 10), np.full(10, 10), KEY, "kat")
    assert "".join(map(str, out[0].tolist())) == KAT_DIGITS


KAT_DIGITS = "1466561424"


def _reference_permute(row: list[int], radix: list[int], key: bytes, tweak: str) -> list[int]:
    """The network written out value by value: CBC-MAC with AES-128, as documented."""
    n = len(row)

    def sub(label: str) -> bytes:
        return hashlib.blake2b(label.encode(), key=key, digest_size=16).digest()

    def aes(k: bytes, block: bytes) -> bytes:
        enc = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
        return enc.update(block) + enc.finalize()

    def prf(r: int, src: list[int], nbytes: int) -> bytes:
        msg = bytes(src) + bytes(-len(src) % 16 or (16 if not src else 0))
        tag = bytes(16)
        k = sub(f"feistel/aes/{r}/{n}/{tweak}")
        for i in range(0, len(msg), 16):
            tag = aes(k, bytes(a ^ b for a, b in zip(tag, msg[i : i + 16], strict=True)))
        if nbytes <= 16:
            return tag[:nbytes]
        kx = sub(f"feistel/xof/{r}/{n}/{tweak}")
        out = b"".join(
            aes(kx, tag[:14] + bytes([tag[14] ^ (j >> 8), tag[15] ^ (j & 255)]))
            for j in range(-(-nbytes // 16))
        )
        return out[:nbytes]

    half = n // 2
    if half == 0:  # one symbol: a keyed rotation by 1 .. radix-1
        w = int.from_bytes(prf(0, [], 2), "little")
        return [(row[0] + 1 + ((w * (radix[0] - 1)) >> 16)) % radix[0]]
    parts = [row[:half], row[half:]]
    rads = [radix[:half], radix[half:]]
    wide = not (len(set(radix)) == 1 and radix[0] in (2, 256))
    for r in range(rounds_for(np.array([radix]))):
        s_i, d_i = (0, 1) if r % 2 == 0 else (1, 0)
        width = len(parts[d_i])
        if width == 0:
            continue
        if (
            radix[0] == 2 and not wide and n > 32
        ):  # long bit rows: packed 8 to a byte, MSB first, both ways
            src = parts[s_i] + [0] * (-len(parts[s_i]) % 8)
            packed = [int("".join(map(str, src[i : i + 8])), 2) for i in range(0, len(src), 8)]
            raw = prf(r, packed, -(-width // 8))
            words = [(raw[j // 8] >> (7 - j % 8)) & 1 for j in range(width)]
        else:
            raw = prf(r, parts[s_i], 2 * width if wide else width)
            words = (
                [int.from_bytes(raw[2 * j : 2 * j + 2], "little") for j in range(width)]
                if wide
                else list(raw)
            )
        scaled = [(w * rd) >> 16 if wide else w for w, rd in zip(words, rads[d_i], strict=True)]
        parts[d_i] = [(x + w) % rd for x, w, rd in zip(parts[d_i], scaled, rads[d_i], strict=True)]
    return parts[0] + parts[1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([2, 10, 26, 256]), min_size=1, max_size=40), st.data())
def test_vectorised_network_equals_the_reference(radix: list[int], data: st.DataObject) -> None:
    uniform = data.draw(st.booleans())
    if uniform:
        radix = [radix[0]] * len(radix)
    rows = data.draw(
        st.lists(st.tuples(*(st.integers(0, r - 1) for r in radix)), min_size=1, max_size=5)
    )
    out = permute(np.array(rows, dtype=np.int64), np.array(radix), KEY, "ref")
    for row, got in zip(rows, out.tolist(), strict=True):
        assert got == _reference_permute(list(row), radix, KEY, "ref")


def test_reference_gives_the_known_answer() -> None:
    assert (
        "".join(map(str, _reference_permute(list(range(10)), [10] * 10, KEY, "kat"))) == KAT_DIGITS
    )


def test_a_row_maps_the_same_whatever_else_is_in_the_batch() -> None:
    # 28 letters are a >= 128-bit domain (6 rounds), 28 digits are not (10 rounds):
    # the round count must come from each row's own radices, not from the batch.
    letters, digits = np.full(28, 26), np.full(28, 10)
    row_l, row_d = np.arange(28) % 26, np.arange(28) % 10
    alone = permute(row_l.reshape(1, -1), letters, KEY, "mix")[0]
    mixed = permute(np.stack([row_d, row_l]), np.stack([digits, letters]), KEY, "mix")
    assert (mixed[1] == alone).all()
    assert (mixed[0] == permute(row_d.reshape(1, -1), digits, KEY, "mix")[0]).all()
    back = unpermute(mixed, np.stack([digits, letters]), KEY, "mix")
    assert (back == np.stack([row_d, row_l])).all()


def test_one_symbol_values_never_map_to_themselves() -> None:
    for radix in (2, 10, 26, 256):
        for key in (KEY, b"\x08" * 32, b"\x09" * 32):
            dom = np.arange(radix, dtype=np.int64).reshape(-1, 1)
            out = permute(dom, np.full(1, radix), key, "one")
            assert sorted(out[:, 0].tolist()) == list(range(radix))
            assert (out != dom).all()
            assert (unpermute(out, np.full(1, radix), key, "one") == dom).all()
