"""The dictionary pseudonyms' COPY-field path gives the bytes the str path gives, or declines.

``transform_copy_fields`` of first_name, last_name, full_name, street_address,
city and company takes the COPY text fields of a text column: for a batch of
printable ASCII it must return what decoding, ``transform`` and encoding return
(NULL, empty and blank values kept, a draw that repeats its input drawn again),
and it must decline (None) a batch with an escape, a control or non-ASCII byte.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.db._pgtext import decode_text_column
from stagewall.masking.transformers import _dicts, build_transformer
from stagewall.masking.transformers._names import _reveals_input

from .copyfields import same_bytes_or_declined, str_path

KEY = MaskingKey("drawn-copy-fields", b"\x5a" * 32)
NAMES = ["first_name", "last_name", "full_name", "street_address", "city", "company"]

# words the dictionaries hold (so draws that repeat an input happen), and others
_words = [
    *_dicts.first_names().tolist()[:40],
    *_dicts.last_names().tolist()[:40],
    *_dicts.cities().tolist()[:20],
    "Street",
    "Road",
    "x",
    "12",
]
_ascii_words = [w for w in _words if w.isascii()]
_printable = st.lists(st.sampled_from(_ascii_words), min_size=1, max_size=4).map(" ".join)
_odd = st.sampled_from(
    [
        b"\\N",  # NULL
        b"",
        b"  ",
        b"\x1c",  # blank to str.isspace, not to bytes.isspace
        b"Anna\\tMiller",  # an escaped tab
        b"\\\\N",  # an escaped backslash, then N
        "Zoë".encode(),
        b"\x7fBen",
    ]
)
_field = st.one_of(_printable.map(str.encode), _odd)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=120, deadline=None)
@given(st.lists(_field, min_size=1, max_size=40), st.sampled_from([b"", b"\t"]))
def test_copy_fields_are_the_str_path_bytes_or_declined(
    name: str, raw: list[bytes], suffix: bytes
) -> None:
    same_bytes_or_declined(build_transformer(name, {}, key=KEY), raw, suffix)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "city"])
def test_draws_that_repeat_a_name_of_their_input_are_drawn_again_alike(name: str) -> None:
    """Inputs holding every other name of the dictionaries: about half the first draws
    repeat one of them (city names hold no name word: hypothesis covers those)."""
    tr: Any = build_transformer(name, {}, key=KEY)
    every = [*_dicts.first_names().tolist(), *_dicts.last_names().tolist()]
    words = [w for w in every if w.isascii() and w.isalpha()]
    raw = [" ".join([*words[j % 2 :: 2][j:], str(j)]).encode() for j in range(40)]
    raw += [b"\\N", b"", b" ", b"Anna Miller"]
    texts = [f.decode() for f in raw[:40]]
    first = tr._draw(tr._hash(texts))[0]
    before = sum(_reveals_input(o, v) for o, v in zip(first, texts, strict=True))
    assert before >= 5
    got = tr.transform_copy_fields(raw, b"\t")
    assert got is not None
    assert got == str_path(tr, raw, b"\t")
    outs = decode_text_column([f[:-1] for f in got])
    assert sum(_reveals_input(o, v) for o, v in zip(outs, texts, strict=False)) < before / 2


def test_other_dictionary_pseudonyms_decline() -> None:
    """region, country and username choose outputs _draw alone does not give: the str path."""
    for name in ("region", "country", "username"):
        tr: Any = build_transformer(name, {}, key=KEY)
        assert tr.transform_copy_fields([b"Texas", b"TX"], b"") is None


def test_the_copy_path_takes_a_table_of_streets() -> None:
    tr: Any = build_transformer("street_address", {"max_length": 40}, key=KEY)
    raw = [f"{i % 997} High{i * 31 % 250000} Street".encode() for i in range(5000)]
    got = tr.transform_copy_fields(raw, b"\t")
    assert got is not None
    assert got == str_path(tr, raw, b"\t")
    assert all(len(f) <= 41 for f in got)
