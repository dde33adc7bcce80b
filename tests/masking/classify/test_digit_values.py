"""A column whose name says nothing, holding phone numbers in another script's
digits, is classified as phone from its values (before: free text)."""

from __future__ import annotations

import pytest

from stagewall.masking.classify import Category, classify_column
from stagewall.masking.types import ColumnKind


@pytest.mark.parametrize("zero", ["\u0660", "\u06f0", "\u0966", "\uff10"])
@pytest.mark.parametrize("form", ["0612 345 {:03d}", "+34 612 345 {:03d}", "(030) 1234-5{:03d}"])
def test_phones_in_other_digits_are_phones(zero: str, form: str) -> None:
    digits = {48 + d: ord(zero) + d for d in range(10)}
    samples = [form.format(i).translate(digits) for i in range(30)]
    f = classify_column("t", "col7", ColumnKind.TEXT, samples)
    assert (f.category, f.transformer) == (Category.PHONE, "phone")
