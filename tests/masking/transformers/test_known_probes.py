"""Work text_scrub does once per batch instead of once per use (scrubspeed): a
batch's pairs taken for all its rows in order are the batch's own, and which texts
of a batch have another reading is told in one pass over the batch. Each gives what
the work it replaces gave."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._known import (
    Pairs,
    breaking,
    find_known,
    known_patterns,
    other_reading,
)
from tests.masking.transformers.test_known_batch import _fields
from tests.masking.transformers.test_scrub_reference import _rows


def test_taking_every_row_in_order_is_the_batch_itself() -> None:
    known = [(("first_name", "Anna"),), (), (("phone", "+49 30 1000005"),)]
    whole = Pairs(known)
    assert whole.take(range(3)) is whole
    assert whole.take([0, 1, 2]) is whole
    assert whole.take([0, 1]) is not whole
    assert _fields(whole.take([2, 1, 0])) == _fields(Pairs(known[::-1]))
    assert _fields(Pairs([]).take([])) == _fields(Pairs([]))


_BREAKY = st.lists(
    st.text(alphabet="ab -\\n\t\r\nx\x00é<>/", max_size=12)
    | st.sampled_from(["Carras-\nco", "Carras- co", "call back\\nCarrasco", "e-mail", "-\\n"])
    | st.sampled_from(["Calle Mayor <b>7</b>", "<td>a</td>", "a < b > c", "<br/>", "<x"]),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(_BREAKY)
@example(["a-\nb", "x\x00y-\nz", ""])
@example(["x", "Calle <b>7</b>", "y\x00<br>z"])
@example(["x <b y", "c> z"])
def test_breaking_tells_the_texts_with_another_reading(texts: list[str]) -> None:
    assert breaking(texts) == [i for i, t in enumerate(texts) if other_reading(t) is not None]


@settings(max_examples=200, deadline=None)
@given(_rows())
def test_find_known_told_whether_a_text_breaks_equals_finding_out(rows: Any) -> None:
    texts, known = rows
    strs = [t if isinstance(t, str) else "" for t in texts]
    breaks = set(breaking(strs))
    for i, (text, mine) in enumerate(zip(strs, known, strict=True)):
        pats = known_patterns(mine)
        assert find_known(text, pats, i in breaks) == find_known(text, pats)
