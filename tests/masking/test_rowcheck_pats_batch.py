"""The row search's source side gathers every row's patterns of a batch at once
(``_rowcheck._Pats.built_many``, used by ``source_lookups`` and ``_grouped_lookup``);
each row must get exactly the patterns the row-at-a-time ``_Pats.built`` gives it —
its words and compact forms in order and its known values — or None where it has none,
whatever the values (accents, case, ß and umlauts, multi-word names, look-alike
letters, other scripts' digits, values without any pattern) and empty rows."""

from __future__ import annotations

from itertools import chain
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.masking._rowcheck import _Pats
from stagewall.masking.transformers._known import patterns_many
from tests.masking.test_rowcheck_children import KINDS, PIECES, values

rows_of = st.lists(
    st.lists(st.tuples(st.sampled_from(KINDS), values.filter(bool)), max_size=6).map(tuple),
    max_size=40,
)


def _fields(p: _Pats | None) -> Any:
    return None if p is None else (p.words, p.compact, p.parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_of)
def test_built_many_equals_built_row_by_row(rows: list[tuple[tuple[str, str], ...]]) -> None:
    per_value = patterns_many(list(chain.from_iterable(rows)))
    got = _Pats.built_many(rows, per_value)
    want = [_Pats.built(known, patterns_many(list(known))) if known else None for known in rows]
    assert list(map(_fields, got)) == list(map(_fields, want))


def test_built_many_keeps_each_rows_order_and_its_empty_rows() -> None:
    rows = [
        (("full_name", "José de la Cruz"), ("email", "anna.k3@example.org")),
        (),
        (("street_address", "  "),),  # a value without any pattern
        (("phone", "+34 612 345 678"), ("first_name", "Müller"), ("last_name", PIECES[0])),
    ]
    got = _Pats.built_many(rows, patterns_many(list(chain.from_iterable(rows))))
    assert got[1] is None and got[2] is None
    for k in (0, 3):
        want = _Pats.built(rows[k], patterns_many(list(rows[k])))
        assert want is not None and got[k] is not None
        assert (got[k].words, got[k].compact, got[k].parts) == (  # type: ignore[union-attr]
            want.words,
            want.compact,
            want.parts,
        )
    # both kinds of pattern are there to keep apart (a phone's digits are compact)
    assert got[3] is not None and got[3].words and got[3].compact
    assert _Pats.built_many([], []) == []
