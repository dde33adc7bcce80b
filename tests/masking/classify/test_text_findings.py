"""``detect_findings`` (what text_scrub replaces, as tuples) gives the findings of
``detect_many``, in the same order, with and without the memo verify keeps
(scrubspeed: text_scrub no longer builds a Match per finding at each text's
positions)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.classify import detect_many, remembering
from stagewall.masking.classify._text import Match, detect_findings
from tests.masking.classify.test_text import _JOINABLE


def _as_tuples(found: list[list[Match]]) -> list[list[tuple[int, int, str, str]]]:
    return [[(m.start, m.end, m.category.value, m.value) for m in f] for f in found]


@settings(max_examples=300, deadline=None)
@given(st.lists(_JOINABLE, max_size=25), st.booleans())
def test_findings_are_those_of_detect_many(texts: list[str], repeat: bool) -> None:
    if repeat:  # repeated texts are searched once
        texts = texts + texts[::2]
    want = _as_tuples(detect_many(texts))
    assert detect_findings(texts) == want
    with remembering():
        assert detect_findings(texts) == want
        assert detect_findings(texts) == want  # (from the memo)


def test_a_read_finding_gives_the_value_read() -> None:
    # a phone in Arabic-Indic digits: its pseudonym is that of its ASCII digits
    text = "call +\u0663\u0664 \u0666\u0661\u0662 \u0663\u0664\u0665 \u0666\u0667\u0668 now"
    ((start, end, kind, value),) = detect_findings([text])[0]
    assert kind == "phone" and value == "+34 612 345 678" and text[start:end] != value
