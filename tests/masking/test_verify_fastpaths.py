"""The fast paths verify's row search takes (branch ``verifyfast``) find exactly what
the code before them found.

- ``_readings.stem_rows`` reads an ASCII batch through one byte translation and a
  literal search instead of :data:`~stagewall.masking.transformers._readings.STEM_RUN`;
  ``_rowcheck._stemmed`` now picks its rows with it (before, with its own pass of
  the regex over the joined batch).
- ``_known.single_spaced`` collapses runs of spaces by repeated ``str.replace``
  instead of the regex ``" {2,}"`` (``norm_many``, the normal form text_scrub and
  verify's row search compare).

Each is compared with the formulation it replaced, copied here, on generated texts
(ASCII with every class of character the search distinguishes, NUL, and other
scripts for the paths that fall back to the regex).
"""

from __future__ import annotations

import re
import string
from itertools import chain

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking._rowcheck import _Pats, _stemmed
from stagewall.masking.transformers._known import norm_many, single_spaced, surnames
from stagewall.masking.transformers._readings import STEM_RUN, stem_rows, stem_spans

_SPACE_RUN = re.compile(" {2,}")


def _old_stem_rows(texts: list[str]) -> list[int]:
    """The rows ``_rowcheck._stemmed`` searched before: STEM_RUN over the joined batch."""
    joined = "\x00".join(texts)
    at = [m.start() for m in STEM_RUN.finditer(joined)]
    if not at:
        return []
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts[:-1]), np.int64, len(texts) - 1) + 1, out=starts[1:])
    return np.unique(np.searchsorted(starts, at, side="right") - 1).tolist()  # type: ignore[no-any-return]


def _old_stemmed(row_n: list[str], found: list[list[_Pats | None]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for k in _old_stem_rows(row_n):
        parts = [known for per_row in found if (p := per_row[k]) is not None for known in p.parts]
        names = surnames(chain.from_iterable(parts))
        if names and stem_spans(row_n[k], names):
            out[k] = names
    return out


# ASCII: letters (runs of every length around MIN_STEM), digits, underscore,
# punctuation, spaces, NUL
_ASCII_PIECES = st.sampled_from(
    ["ganth", "ganthr", "carra", "abcd", "Ganthriv", "x", "Q", "7", "87", "0", "_", "-", " ",
     ".", "@", "\x00", "\t", "\x7f", "smit", "Z9"]
)  # fmt: skip
_ASCII = st.lists(_ASCII_PIECES, max_size=10).map("".join) | st.text(
    alphabet=string.printable + "\x00", max_size=40
)
# other scripts: the regex path (letters and digits of other scripts, full-width)
_ANY = _ASCII | st.lists(
    st.sampled_from(["ganthr", "é", "ß", "\u0663", "\uff11", "\u00b2", "Ⅻ", "7", " ", "\x00"]),
    max_size=8,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(texts=st.lists(_ASCII, max_size=12))
def test_stem_rows_ascii_equals_the_regex(texts: list[str]) -> None:
    assert stem_rows(texts) == _old_stem_rows(texts)
    assert stem_rows(texts) == [i for i, t in enumerate(texts) if STEM_RUN.search(t)]


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(_ANY, max_size=12))
def test_stem_rows_any_script_equals_the_regex(texts: list[str]) -> None:
    assert stem_rows(texts) == _old_stem_rows(texts)


_SURNAMES = st.sampled_from(["ganthriv", "carrasco", "smith", "novak"])


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(_ANY, min_size=1, max_size=8),
    names=st.lists(st.one_of(st.none(), _SURNAMES), min_size=8, max_size=8),
)
def test_stemmed_equals_the_old_search(texts: list[str], names: list[str | None]) -> None:
    """``_rowcheck._stemmed`` (through ``stem_rows``) gives the rows and surnames the
    per-batch regex pass gave, on normalised texts with row values."""
    row_n = [n for n in norm_many(texts)]
    found: list[list[_Pats | None]] = [
        [
            None if n is None else _Pats.lazy(((("last_name", n.title()),),), (n,))
            for n in names[: len(row_n)]
        ]
    ]
    assert _stemmed(row_n, found) == _old_stemmed(row_n, found)


@settings(max_examples=600, deadline=None)
@given(
    text=st.lists(st.sampled_from(["a", " ", "   ", "\x00", "é", "\t", "b"]), max_size=40).map(
        "".join
    )
)
def test_single_spaced_equals_the_regex(text: str) -> None:
    assert single_spaced(text) == _SPACE_RUN.sub(" ", text)


def test_single_spaced_long_runs() -> None:
    for k in range(0, 70):
        text = "a" + " " * k + "b" + " " * (k // 2) + "\x00" + " " * k
        assert single_spaced(text) == _SPACE_RUN.sub(" ", text)
