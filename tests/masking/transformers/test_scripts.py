"""Digits of every script (``_scripts``): each Unicode decimal digit is a digit position.

Properties, for every transformer that rewrites digits in place (``fpe_digits``,
``fpe_alnum``, ``phone``, ``postcode``, ``card_number``, ``iban``): the length and
every non-digit character stay, each digit stays a digit of its own script, the
digit values are what the ASCII spelling gets (so ASCII outputs are unchanged),
equal inputs give equal outputs, and distinct inputs of one script pattern give
distinct outputs (unique-safe transformers).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._scripts import fold_digits, unfold_digits

K = MaskingKey("k1", b"\x01" * 32)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Arabic-Indic, extended Arabic-Indic (Persian), Devanagari, Bengali, Thai, full-width,
# mathematical bold (outside the BMP)
ZEROS = ("\u0660", "\u06f0", "\u0966", "\u09e6", "\u0e50", "\uff10", "\U0001d7ce")
ARABIC, PERSIAN, DEVANAGARI, FULL = ZEROS[0], ZEROS[1], ZEROS[2], ZEROS[5]


def in_script(text: str, zero: str) -> str:
    return text.translate({ord("0") + i: chr(ord(zero) + i) for i in range(10)})


def ascii_of(text: str) -> str:
    return "".join(str(int(c)) if c.isdecimal() else c for c in text)


def zero_of(c: str) -> int:
    return ord(c) - int(c)


def luhn_ok(text: str) -> bool:
    ds = [int(c) for c in text if c.isdecimal()][::-1]
    total = sum(d if k % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for k, d in enumerate(ds))
    return total % 10 == 0


def with_luhn(body: str) -> str:
    return next(body + str(c) for c in range(10) if luhn_ok(body + str(c)))


def iban_of(country: str, bban: str) -> str:
    n = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - n % 97:02d}{bban}"


def iban_ok(text: str) -> bool:
    compact = ascii_of(text).replace(" ", "")
    return int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1


def _card(digits: str) -> str:
    card = with_luhn("411111" + digits)
    return " ".join(card[i : i + 4] for i in range(0, 16, 4))


# name → (params, a strategy of ASCII values)
CASES: dict[str, tuple[dict[str, object], st.SearchStrategy[str]]] = {
    "fpe_digits": ({}, st.from_regex(r"\A[0-9]{1,4}(-[0-9]{2,6}){0,2}\Z")),
    "fpe_alnum": ({}, st.from_regex(r"\A[A-Z]{0,2}[0-9]{2,8}[a-z]?\Z")),
    "phone": ({}, st.from_regex(r"\A(\+34 |0)6[0-9]{2} [0-9]{3} [0-9]{3}\Z")),
    "postcode": ({}, st.from_regex(r"\A([0-9]{5}|[A-Z]{2}[0-9] [0-9][A-Z]{2})\Z")),
    "card_number": ({}, st.from_regex(r"\A[0-9]{9}\Z").map(_card)),
    "iban": ({}, st.from_regex(r"\A[0-9]{18}\Z").map(lambda b: iban_of("DE", b))),
}
UNIQUE = [n for n in CASES if n != "postcode"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_digits_keep_their_script_and_get_the_ascii_values(name: str) -> None:
    params, strategy = CASES[name]
    t = build_transformer(name, params, key=K)

    @SETTINGS
    @given(st.lists(strategy, min_size=1, max_size=20), st.sampled_from(ZEROS), st.data())
    def check(values: list[str], zero: str, data: st.DataObject) -> None:
        # one script per value, and values whose digits mix scripts
        mixed = [
            "".join(
                in_script(c, data.draw(st.sampled_from(("0", *ZEROS)))) if c.isdigit() else c
                for c in v
            )
            for v in values
        ]
        written = [in_script(v, zero) for v in values]
        expected = t.transform(values)
        for batch in (written, mixed, written + values + mixed):
            out = t.transform(batch)
            assert out == t.transform(batch)  # deterministic
            for before, after in zip(batch, out, strict=True):
                assert isinstance(after, str)
                assert len(after) == len(before)
                for a, b in zip(before, after, strict=True):
                    if a.isdecimal():
                        assert b.isdecimal() and zero_of(b) == zero_of(a), (before, after)
                    elif not a.isalpha():
                        assert a == b, (before, after)
        assert [ascii_of(o) for o in t.transform(written)] == expected  # type: ignore[arg-type]
        assert [ascii_of(o) for o in t.transform(mixed)] == expected  # type: ignore[arg-type]

    check()


@pytest.mark.parametrize("name", UNIQUE)
def test_a_bijection_within_a_script_and_scripts_never_collide(name: str) -> None:
    params, strategy = CASES[name]
    t = build_transformer(name, params, key=K)

    @SETTINGS
    @given(st.lists(strategy, min_size=1, max_size=30, unique=True))
    def check(values: list[str]) -> None:
        batch = [in_script(v, z) for z in ("0", ARABIC, PERSIAN, DEVANAGARI, FULL) for v in values]
        out = t.transform(batch)
        assert len(set(out)) == len(batch)

    check()


def test_checksums_are_computed_on_digit_values() -> None:
    card = build_transformer("card_number", {}, key=K)
    iban = build_transformer("iban", {}, key=K)
    cards = [in_script(_card(f"{i:09d}"), z) for i, z in enumerate(ZEROS)]
    ibans = [in_script(iban_of("DE", f"{i:018d}"), z) for i, z in enumerate(ZEROS)]
    assert all(luhn_ok(c) for c in cards)
    for before, after in zip(cards, card.transform(cards), strict=True):
        assert isinstance(after, str) and luhn_ok(after) and after != before
        assert after[:7] == before[:7]  # the BIN (and its separator) stays
    for before, after in zip(ibans, iban.transform(ibans), strict=True):
        assert isinstance(after, str) and iban_ok(after) and after != before
        assert after[:2] == "DE"


def test_the_reported_value_is_masked() -> None:
    """The defect's value: ``٦١٢٣٤٥٦٧٨`` was copied unchanged by fpe_digits and phone."""
    value = "\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"
    for name in ("fpe_digits", "fpe_alnum", "phone", "postcode"):
        (out,) = build_transformer(name, {}, key=K).transform([value])
        assert isinstance(out, str) and out != value, name
        assert all(zero_of(c) == 0x660 for c in out), (name, out)


def test_digits_that_are_not_decimal_stay_and_ascii_batches_are_not_copied() -> None:
    # superscripts are digits (str.isdigit) but not decimal digits: not positions
    assert fold_digits(["x\u00b2", "12"]) is None
    assert fold_digits(["abc", "123"]) is None
    assert fold_digits([None, 5]) is None  # not text: the transformer rejects it
    folded = fold_digits(["\u0661-2", "x", "\U0001d7cf"])
    assert folded == (["1-2", "x", "1"], {0: [(0, 0x660)], 2: [(0, 0x1D7CE)]})


def test_an_output_without_the_digit_is_a_clear_error() -> None:
    with pytest.raises(MaskingError, match="no digit where its input had one"):
        unfold_digits("fpe_digits", ["x"], {0: [(0, 0x660)]})
    assert unfold_digits("iban", [None], {0: [(0, 0x660)]}) == [None]
