"""Digits of every script: each Unicode decimal digit is a digit position.

The format-preserving transformers (``_fpe``, ``_formats``, ``postcode``) work on
ASCII bytes. :func:`digit_scripts` wraps such a transformer's ``_apply``: a value
with a non-ASCII decimal digit (Arabic-Indic ``٦``, Persian ``۶``, Devanagari
``६``, full-width ``U+FF16``, …; ``str.isdecimal``) is handed to it with each such
digit written as the ASCII digit of the same value, and every output character
at one of those positions is written back in the input digit's script. Each
script's ten digits are consecutive code points (a Unicode stability
guarantee), so the script is the code point of its zero.

So the digit *values* are masked exactly as ASCII digits are (checksums such as
Luhn and mod-97 stay computed on values), the pattern of scripts is kept, and
the mapping stays a bijection for every pattern of scripts: two inputs with the
same pattern differ in their digit values, hence in the transformer's output;
two inputs with different patterns keep different patterns (``٦١٢`` and ``612``
never map to the same output). A batch that is all ASCII costs one ``join`` and
``isascii`` and goes through unchanged.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from stagewall.errors import MaskingError

Marks = dict[int, list[tuple[int, int]]]  # value index → (character position, code of its zero)
T = TypeVar("T")
Apply = Callable[[T, list[Any]], list[object]]


def fold_digits(values: list[Any]) -> tuple[list[Any], Marks] | None:
    """``values`` with non-ASCII decimal digits as ASCII ones, and where they were;
    None when no value has one (all ASCII, or nothing to fold). Values that are not
    text are left for the transformer to reject."""
    try:
        if "".join(values).isascii():
            return None
    except TypeError:  # not all text
        pass
    folded = list(values)
    marks: Marks = {}
    for i, v in enumerate(values):
        if type(v) is not str or v.isascii():
            continue
        places = [
            (j, ord(c) - unicodedata.decimal(c))
            for j, c in enumerate(v)
            if c > "\x7f" and c.isdecimal()
        ]
        if places:
            chars = list(v)
            for j, zero in places:
                chars[j] = chr(48 + ord(v[j]) - zero)
            folded[i] = "".join(chars)
            marks[i] = places
    return (folded, marks) if marks else None


def unfold_digits(name: str, outputs: list[object], marks: Marks) -> list[object]:
    """Write the digits of ``outputs`` at the marked positions back in their scripts."""
    for i, places in marks.items():
        out = outputs[i]
        if out is None:  # an invalid value the transformer nulls (on_invalid: null)
            continue
        chars = list(out) if isinstance(out, str) else []
        for j, zero in places:
            if j >= len(chars) or not "0" <= chars[j] <= "9":
                raise MaskingError(
                    f"{name}: the output of a value has no digit where its input had one",
                    hint="this is a bug in stagewall: report it with the transformer's name",
                )
            chars[j] = chr(zero + ord(chars[j]) - 48)
        outputs[i] = "".join(chars)
    return outputs


def digit_scripts(apply: Apply[T]) -> Apply[T]:
    """Decorate a transformer's ``_apply`` so digits of every script are digits."""

    @wraps(apply)
    def wrapper(self: T, values: list[Any]) -> list[object]:
        folded = fold_digits(values)
        if folded is None:
            return apply(self, values)
        texts, marks = folded
        return unfold_digits(getattr(self, "name", "?"), apply(self, texts), marks)

    return wrapper


__all__ = ["digit_scripts", "fold_digits", "unfold_digits"]
