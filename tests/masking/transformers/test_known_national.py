"""The batch passes of ``Pairs`` and ``national_numbers`` give what the per-value code
gave.

``Pairs.__init__`` cut each e-mail to its local part and each phone's compact form
to its national number in a Python loop per value (``national_number`` a function
call per phone); both are now C-level passes over the batch (``str.rsplit`` by
``map``, one ``findall`` of :data:`_NATIONAL` over the NUL-joined forms). The code
before is kept below (as a function; a street's probe since cut per value at its
first street word a variant changes, see ``_street_cores``) and both must give the same probes
for generated batches: phones with and without ``+``, ``00`` and trunk ``0``, one,
two and three digit country codes, too few digits, other scripts' digits, letters,
e-mails with several ``@`` or none, names, streets and identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, compress
from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._known import (
    _HOUSE_NUMBER,
    _NAME_TRANSFORMERS,
    _PROBED_BY_PART,
    _STREET_WORD,
    _STREETS,
    KIND,
    Known,
    Pairs,
    _first,
    _second,
    _spaced_and_compact,
    _spellable,
    _street_cores,
    national_number,
    national_numbers,
    spellings,
    words,
)


def pairs_before(self: Any, known: Sequence[Known]) -> None:
    self.n = n = len(known)
    self.flat: list[tuple[str, str]] = list(chain.from_iterable(known))
    m = len(self.flat)
    self.row: np.ndarray = np.repeat(np.arange(n), np.fromiter(map(len, known), np.int64, n))
    flat = self.flat
    named = np.fromiter(map(_NAME_TRANSFORMERS.__contains__, map(_first, flat)), bool, m)
    values = list(map(_second, flat))
    # spelt otherwise (Müller is also Mueller): probed by the words of all spellings
    for i in _spellable(flat):
        alike = spellings(*flat[i])
        if alike:
            values[i] = " ".join((flat[i][1], *alike))
            named[i] = True
            if KIND[flat[i][0]] == "street":  # (streetgaps: its street words cut)
                values[i] = _STREET_WORD.sub(" ", " ".join(words(values[i])))
                if not any(map(str.isalnum, _STREET_WORD.sub(" ", " ".join(words(flat[i][1]))))):
                    values[i] = ""
                    named[i] = False
    # a street's compact form without its house number, which may stand on either
    # side (see _patterns_of)
    is_street = map(_STREETS.__contains__, map(_first, flat))
    streets = [i for i in compress(range(m), is_street) if not named[i]]
    if streets:
        joined = "\x00".join(values[j] for j in streets)
        if joined.count("\x00") == len(streets) - 1:
            bare = _HOUSE_NUMBER.sub("", joined).split("\x00")
        else:  # a value holding NUL itself (SQLite text can): one at a time
            bare = [_HOUSE_NUMBER.sub("", values[j]) for j in streets]
        for j, b in zip(streets, bare, strict=True):
            (core,) = _street_cores([b])  # (streetgaps: its first run without a street word)
            if any(map(str.isalnum, core)):
                values[j] = core
            elif any(map(str.isalnum, b)):
                values[j] = ""
    # a phone's national number and an e-mail's local part are patterns of their
    # own (see _patterns_of): probed by those, pieces of the whole value's form
    by_part = list(compress(range(m), map(_PROBED_BY_PART.__contains__, map(_first, flat))))
    phones = []
    for j in by_part:
        if KIND[flat[j][0]] != "email":
            phones.append(j)
        elif "@" in values[j]:
            values[j] = values[j].rpartition("@")[0]
    self.spaced, self.forms = _spaced_and_compact(values)
    for j in phones:  # (the compact form is the words the national number is cut from)
        national = national_number(self.forms[j])
        if national is not None:
            self.forms[j] = national
    if named.any():
        # spaced forms hold word characters (str.isalnum) and spaces: isalnum is
        # "exactly one word"
        named &= ~np.fromiter(map(str.isalnum, self.spaced), bool, m)
    self.multi: np.ndarray = named  # names of several words (or none)


_DIGITS = st.text(alphabet="0123456789", max_size=16)
_PHONE = st.one_of(
    _DIGITS,
    st.builds(
        lambda p, d: p + d, st.sampled_from(["+", "00", "0", "+1 ", "+49 30 ", "(0)"]), _DIGITS
    ),
    st.text(alphabet="0123456789 +-()a\u0663\uff11\x00", max_size=20),
)
_EMAIL = st.one_of(
    st.text(alphabet="ab1@._-ü", max_size=14),
    st.builds(
        lambda a, b: f"{a}@{b}",
        st.text(alphabet="abc123.ä", max_size=8),
        st.text(alphabet="x.y", max_size=5),
    ),
)
_OTHER = st.text(alphabet="abcÄöüßø 01 -Straße", max_size=14)
_PAIR = st.one_of(
    st.tuples(st.just("phone"), _PHONE),
    st.tuples(st.sampled_from(["email", "username"]), _EMAIL),
    st.tuples(
        st.sampled_from(
            [
                "first_name",
                "last_name",
                "full_name",
                "street_address",
                "iban",
                "postcode",
                "fpe_alnum",
            ]
        ),
        _OTHER,
    ),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PHONE, max_size=12))
@example(["004", "0049301234567", "+4930 1234567", "1", "", "00", "0", "00123456789012", "42"])
@example(["7 495 1234567", "0042", "420123456789", "00490", "0\x00491234567890"])
def test_national_numbers_equal_one_call_per_value(phones: list[str]) -> None:
    compacts = [p.replace(" ", "").replace("+", "") for p in phones]
    assert national_numbers(compacts) == [national_number(c) for c in compacts]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_PAIR, max_size=5).map(tuple), max_size=10))
def test_pairs_probes_equal_the_code_before(known: list[Known]) -> None:
    got = Pairs(known)
    want: Any = Pairs.__new__(Pairs)
    pairs_before(want, known)
    assert got.flat == want.flat
    assert got.row.tolist() == want.row.tolist()
    assert got.forms == want.forms
    assert got.spaced == want.spaced
    assert got.multi.tolist() == want.multi.tolist()
