"""The keyed Feistel network is a bijection: full small domains and random round trips."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._feistel import (
    bits_less_than,
    bits_to_ints,
    ints_to_bits,
    permute,
    permute_walk,
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
    # digits 0..9). A change here changes every masked value of every user.
    out = permute(np.arange(10, dtype=np.int64).reshape(1, 10), np.full(10, 10), KEY, "kat")
    assert "".join(map(str, out[0].tolist())) == KAT_DIGITS


KAT_DIGITS = "1606203144"
