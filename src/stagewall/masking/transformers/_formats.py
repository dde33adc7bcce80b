"""Structured identifiers that keep their format and validity: phone, IBAN, card number.

Every step runs on the whole batch at once (``_flat``): the kept prefix of a phone
number, the IBAN shape, country length and mod-97 checks, the Luhn sums and the
new check digits are NumPy operations over the batch's bytes, not loops over
values.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
from pydantic import Field

from stagewall.errors import MaskingError
from stagewall.masking.transformers._base import (
    ParamsModel,
    Transformer,
    as_text,
    register,
)
from stagewall.masking.transformers._checksums import (
    IBAN_LENGTH_TABLE,
    luhn_values,
    mod97_rows,
)
from stagewall.masking.transformers._feistel import permute_u8
from stagewall.masking.transformers._flat import (
    Flat,
    by_length,
    class_masks,
    flatten,
    permute_symbols,
    rewrite_copy_fields,
    rows_to_texts,
    symbol_classes,
)
from stagewall.masking.transformers._scripts import digit_scripts

# ITU-T E.164 country calling codes of one and two digits; all others have three.
_CC1 = {"1", "7"}
_CC2 = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
    "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
    "95", "98",
}  # fmt: skip
_INTL = re.compile(r"^\s*(\+|00)")


def country_code_digits(phone: str) -> int:
    """How many leading digits stay unchanged.

    ``+CC…`` keeps the country code; ``00CC…`` keeps ``00`` and the country code; a
    national number starting with ``0`` keeps two digits (trunk ``0`` + the next,
    non-zero digit), any other number keeps its first digit. The kept prefixes
    form a prefix-free code (no kept prefix is the start of another), which is
    what keeps the whole mapping a bijection when the rest is permuted.
    """
    digits = "".join(c for c in phone if c.isascii() and c.isdigit())
    plus = _INTL.match(phone) is not None and phone.lstrip().startswith("+")
    if plus or digits.startswith("00"):
        lead = 0 if plus else 2
        rest = digits[lead:]
        if rest[:1] in _CC1:
            keep = lead + 1
        elif rest[:2] in _CC2:
            keep = lead + 2
        else:
            keep = lead + 3
    elif digits.startswith("0"):
        keep = 2
    else:
        keep = 1
    return min(keep, len(digits))


_CC2_TABLE = np.zeros(100, dtype=bool)
_CC2_TABLE[[int(c) for c in _CC2]] = True
# Bytes that str.isspace() accepts among ASCII (str.lstrip() removes them).
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[c for c in range(128) if chr(c).isspace()]] = True


def phone_keep(flat: Flat, texts: list[str], digit: Any) -> Any:
    """:func:`country_code_digits` of every value of the batch, vectorised."""
    m = flat.size
    rank = flat.rank(digit)
    ndigits = flat.count(digit)
    first = np.full((m, 5), -1, dtype=np.int64)
    p = np.flatnonzero(digit & (rank <= 5))
    first[flat.owner[p], rank[p] - 1] = flat.buf[p].astype(np.int64) - 48
    text = ~_ASCII_SPACE[flat.buf]
    q = np.flatnonzero(text & (flat.rank(text) == 1))
    lead_byte = np.full(m, -1, dtype=np.int64)
    lead_byte[flat.owner[q]] = flat.buf[q]
    keep = _keep_from(first, lead_byte, ndigits)
    for i in np.flatnonzero(lead_byte >= 128).tolist():  # may be non-ASCII white space
        keep[i] = country_code_digits(texts[i])
    return keep


def _keep_from(first: Any, lead_byte: Any, ndigits: Any) -> Any:
    """:func:`country_code_digits` from each value's first five digits (-1: none),
    its first non-space byte and its digit count."""
    plus = lead_byte == 43
    d0, d1, d2, d3 = first[:, 0], first[:, 1], first[:, 2], first[:, 3]
    intl = plus | ((d0 == 0) & (d1 == 0))
    r0, r1 = np.where(plus, d0, d2), np.where(plus, d1, d3)
    two = (r0 >= 0) & (r1 >= 0) & _CC2_TABLE[np.clip(r0 * 10 + r1, 0, 99)]
    cc = np.where((r0 == 1) | (r0 == 7), 1, np.where(two, 2, 3))
    keep = np.where(intl, np.where(plus, 0, 2) + cc, np.where(d0 == 0, 2, 1))
    return np.minimum(keep, ndigits)


class PhoneParams(ParamsModel):
    keep_country_code: bool = True


@register
class Phone(Transformer):
    """Keyed permutation of the subscriber digits; country code, separators and format stay."""

    name = "phone"
    unique_safe = True
    Params = PhoneParams

    @digit_scripts
    def _apply(self, values: list[Any]) -> list[object]:
        """Values of one byte length form a matrix and are rewritten row-wise (kept
        prefix, digit ranks, the permutation) without batch-wide index arrays; a
        batch with a value that may start with non-ASCII white space takes
        :meth:`_apply_flat` (the same mapping)."""
        texts = as_text(self.name, values)
        if not texts:
            return []
        out = by_length(texts, self._group)
        return self._apply_flat(texts) if out is None else out

    def _group(self, rows: Any, members: Any) -> list[str] | None:
        new = self._rows(rows)
        return None if new is None else rows_to_texts(new)

    def _rows(self, rows: Any) -> Any:
        """The masked rows of one byte length (``(m, n)`` uint8), or None: use the flat path."""
        m, n = rows.shape
        if n == 0:
            return rows
        digit = (rows >= 48) & (rows <= 57)
        every = np.arange(m)
        # one layout (the usual case: numbers of one length written one way): the
        # digits sit in the same columns of every row, so no per-row searching
        cols = np.flatnonzero(digit[0]) if (digit == digit[:1]).all() else None
        if cols is not None:
            ndigits = np.full(m, len(cols), dtype=np.int64)
        else:
            rank = np.cumsum(digit, axis=1, dtype=np.int32)
            ndigits = rank[:, -1].astype(np.int64)
        keep = np.zeros(m, dtype=np.int64)
        if self.params.keep_country_code:  # type: ignore[attr-defined]
            first = np.full((m, 5), -1, dtype=np.int64)
            if cols is not None:
                k = min(5, len(cols))
                first[:, :k] = rows[:, cols[:k]].astype(np.int64) - 48
            else:
                for k in range(1, 6):
                    at = digit & (rank == k)
                    has = at.any(axis=1)
                    pos = at.argmax(axis=1)
                    first[has, k - 1] = rows[every[has], pos[has]].astype(np.int64) - 48
            text = ~_ASCII_SPACE[rows]
            has_text = text.any(axis=1)
            lead = np.where(has_text, rows[every, text.argmax(axis=1)].astype(np.int64), -1)
            if (lead >= 128).any():  # may be non-ASCII white space
                return None
            keep = _keep_from(first, lead, ndigits)
        out = rows.copy()
        count = ndigits - keep
        # the distinct counts in ascending order (np.unique's hash table costs more
        # than a bincount of these small non-negative ints)
        for c in np.flatnonzero(np.bincount(count[count > 0])).tolist():
            sel = np.flatnonzero(count == c)
            if cols is not None:  # the last c digit columns of these rows
                where: Any = (sel.reshape(-1, 1), cols[len(cols) - c :].reshape(1, -1))
            else:
                active = digit[sel] & (rank[sel] > keep[sel].reshape(-1, 1))
                r, col = np.nonzero(active)
                where = (sel[r], col)
            b = out[where].reshape(-1, c)
            base, radix = symbol_classes(b)
            new = permute_u8(b - base, radix, self._key, f"phone/{c}") + base
            out[where] = new.reshape(out[where].shape)
        return out

    def transform_copy_fields(self, fields: list[bytes], suffix: bytes) -> list[bytes] | None:
        """COPY text fields of a text column in, COPY text fields out: the bytes that
        decoding, :meth:`transform` and encoding give, for a batch of printable ASCII
        (see :func:`rewrite_copy_fields`; no digit of another script, so no folding),
        without a ``str`` per value; None for any other batch."""
        return rewrite_copy_fields(fields, suffix, self._rows)

    def _apply_flat(self, texts: list[str]) -> list[object]:
        if not texts:
            return []
        flat = flatten(texts)
        digit, _ = class_masks(flat.buf, letters=False)
        active = digit
        if self.params.keep_country_code:  # type: ignore[attr-defined]
            keep = phone_keep(flat, texts, digit)
            active = digit & (flat.rank(digit) > keep[flat.owner])
        buf = flat.buf.copy()
        permute_symbols(flat, buf, active, self._key, "phone")
        return flat.texts(buf)  # type: ignore[return-value]


class ChecksumParams(ParamsModel):
    on_invalid: Literal["fail", "null"] = "fail"


def _invalid(name: str, what: str) -> MaskingError:
    return MaskingError(
        f"{name}: a value is not a valid {what}",
        hint="clean the source data or set on_invalid: null in the plan",
    )


def _between(b: Any, lo: int, hi: int) -> Any:
    return (b >= lo) & (b <= hi)


@register
class Iban(Transformer):
    """Same country and length, new BBAN (keyed permutation), recomputed mod-97 check digits.

    Spaces stay where they are; the output is upper case unless the input has no
    upper-case letter.
    """

    name = "iban"
    unique_safe = True
    Params = ChecksumParams

    @digit_scripts
    def _apply(self, values: list[Any]) -> list[object]:
        texts = as_text(self.name, values)
        if not texts:
            return []
        flat = flatten(texts)
        buf = flat.buf
        solid = buf != 32
        cpos = np.flatnonzero(solid)
        cb = buf[cpos].copy()  # the compact IBANs, one after the other
        cb[_between(cb, 97, 122)] -= 32  # upper case
        clen = flat.count(solid)
        cstart = np.cumsum(clen) - clen
        valid = np.zeros(flat.size, dtype=bool)
        for n in np.unique(clen[_between(clen, 15, 34)]).tolist():
            members = np.flatnonzero(clen == n)
            at = cstart[members].reshape(-1, 1) + np.arange(n)
            rows = cb[at]
            ok = self._shape_ok(rows, n)
            ok &= mod97_rows(np.concatenate([rows[:, 4:], rows[:, :4]], axis=1)) == 1
            valid[members] = ok
            rows, members, at = rows[ok], members[ok], at[ok]
            country = (rows[:, 0].astype(np.int64) - 65) * 26 + rows[:, 1] - 65
            for cc in np.unique(country).tolist():
                sel = np.flatnonzero(country == cc)
                name = chr(65 + cc // 26) + chr(65 + cc % 26)
                cb[at[sel]] = self._mask_rows(rows[sel], name)
        if not valid.all() and self.params.on_invalid == "fail":  # type: ignore[attr-defined]
            raise _invalid(self.name, "IBAN (mod-97)")
        lower_only = flat.count(_between(buf, 65, 90)) == 0
        relower = lower_only[flat.owner[cpos]] & _between(cb, 65, 90)
        cb[relower] += 32
        out_buf = buf.copy()
        out_buf[cpos] = cb
        out: list[object] = flat.texts(out_buf)  # type: ignore[assignment]
        for i in np.flatnonzero(~valid).tolist():
            out[i] = None
        return out

    @staticmethod
    def _shape_ok(rows: Any, n: int) -> Any:
        """``[A-Z]{2}[0-9]{2}[A-Z0-9]+`` and the registry length of the country (if known)."""
        ok = _between(rows[:, :2], 65, 90).all(axis=1) & _between(rows[:, 2:4], 48, 57).all(axis=1)
        bban = rows[:, 4:]
        ok &= (_between(bban, 48, 57) | _between(bban, 65, 90)).all(axis=1)
        country = np.clip((rows[:, 0].astype(np.int64) - 65) * 26 + rows[:, 1] - 65, 0, 675)
        expected = IBAN_LENGTH_TABLE[country]
        ok &= (expected == 0) | (expected == n)
        return ok

    def _mask_rows(self, rows: Any, country: str) -> Any:
        """New BBAN (digits stay digits, letters letters) and its check digits."""
        bban = rows[:, 4:]
        base, radix = symbol_classes(bban)
        tweak = f"iban/{country}/{bban.shape[1]}"
        new = permute_u8(bban - base, radix, self._key, tweak) + base
        tail = np.frombuffer((country + "00").encode(), dtype=np.uint8)
        r = mod97_rows(np.concatenate([new, np.broadcast_to(tail, (len(new), 4))], axis=1))
        check = 98 - r
        out = rows.copy()
        out[:, 2] = 48 + check // 10
        out[:, 3] = 48 + check % 10
        out[:, 4:] = new
        return out


class CardParams(ChecksumParams):
    keep_prefix: int = Field(default=6, ge=0, le=10)


@register
class CardNumber(Transformer):
    """Same length and separators, valid Luhn; the first ``keep_prefix`` digits (BIN) stay."""

    name = "card_number"
    unique_safe = True
    Params = CardParams

    @digit_scripts
    def _apply(self, values: list[Any]) -> list[object]:
        p: CardParams = self.params  # type: ignore[assignment]
        texts = as_text(self.name, values)
        if not texts:
            return []
        flat = flatten(texts)
        digit, _ = class_masks(flat.buf, letters=False)
        rank = flat.rank(digit)
        ndigits = flat.count(digit)
        from_end = ndigits[flat.owner] - rank  # 0 at the check digit
        pos = np.flatnonzero(digit)
        owners = flat.owner[pos]
        sums = np.bincount(
            owners, weights=luhn_values(flat.buf[pos] - 48, from_end[pos]), minlength=flat.size
        ).astype(np.int64)
        valid = _between(ndigits, 12, 19) & (ndigits > p.keep_prefix + 1) & (sums % 10 == 0)
        if not valid.all() and p.on_invalid == "fail":
            raise _invalid(self.name, "card number (12-19 digits, Luhn)")
        ok = valid[flat.owner]
        buf = flat.buf.copy()
        active = digit & ok & (rank > p.keep_prefix) & (from_end >= 1)
        permute_symbols(flat, buf, active, self._key, "card")
        body = pos[from_end[pos] >= 1]
        body_sums = np.bincount(
            flat.owner[body],
            weights=luhn_values(buf[body] - 48, from_end[body]),
            minlength=flat.size,
        ).astype(np.int64)
        last = np.flatnonzero(digit & ok & (from_end == 0))
        buf[last] = (48 + (10 - body_sums[flat.owner[last]] % 10) % 10).astype(np.uint8)
        out: list[object] = flat.texts(buf)  # type: ignore[assignment]
        for i in np.flatnonzero(~valid).tolist():
            out[i] = None
        return out


__all__ = ["CardNumber", "Iban", "Phone", "country_code_digits", "phone_keep"]
