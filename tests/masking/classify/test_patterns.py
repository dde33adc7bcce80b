"""The detector's fast regex forms find exactly what their plain forms find."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.classify import _text

PLAIN = {
    "_IBAN": r"\b[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,34}",  # lower case too
    "_CARD": r"(?<![\w+])[2-6][0-9](?:[ -]?[0-9]){10,17}(?!\w)",
    "_PHONE": r"(?<![\w+])(?:(?:\+|00)[1-9][0-9]{0,2}[ .-]?(?:\(0?[0-9]{1,4}\)[ .-]?)?[0-9]{1,4}"
    r"(?:[ .-]?[0-9]{2,4}){1,4}|\([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}"
    r"|\(\+[1-9][0-9]{0,2}\)[ .-]?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){1,4}"
    r"|\b[0-9]{3}[-.][0-9]{3}[-.][0-9]{4}|\b0[0-9]{2,4}[ /-]?[0-9]{3,4}[ -]?[0-9]{3,4})(?!\w)",
    "_IPV4": r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])",
    "_SSN": r"\b(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}\b",
    "_NINO": r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b",
    "_DNI": r"(?<!\w)(?:[XYZxyz]-?[0-9]{7}|[0-9]{8}|[0-9]{2}\.[0-9]{3}\.[0-9]{3})"
    r"(?:-?[A-Za-z]| [A-Z])(?!\w)",
    "_CODICE_FISCALE": r"(?<!\w)[A-Za-z]{6}[0-9][0-9LMNPQRSTUVlmnpqrstuv][ABCDEHLMPRSTabcdehlmprst]"
    r"[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z](?!\w)",
    # names with accents too (Yésica, Zoë, Jürgen)
    "_WORD": r"(?<!\w)[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:[-'][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?\b",
}
_ALPHABET = "0123456789 +-.()/:@'_AaBbGgKkNnTtZzXxCDéÉüLl\n"
_PIECES = st.sampled_from(
    [
        "+44 20 7946 0958",
        "0044 (0)20 7946-0958",
        "(212) 555-1234",
        "212.555.1234",
        "030 1234 5678",
        "4111 1111 1111 1111",
        "GB82 WEST 1234 5698 7654 32",
        "078-05-1120",
        "666-12-3456",
        "AB 12 34 56 C",
        "GB123456A",
        "48213957T",
        "X-5829173-f",
        "48.213.957 Z",
        "x1234567",
        "RSSMRA85T10A562S",
        "rssmra8Pt1MaLNRs",
        "10.0.0.1",
        "1.2.3.4.5",
        "Mary-Jane O'Neil",
        "x",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(_ALPHABET, max_size=12) | _PIECES, max_size=8))
def test_fast_patterns_find_what_the_plain_patterns_find(parts: list[str]) -> None:
    text = "".join(parts)
    for name, plain in PLAIN.items():
        fast = getattr(_text, name)
        assert [m.span() for m in fast.finditer(text)] == [
            m.span() for m in re.finditer(plain, text)
        ], name
