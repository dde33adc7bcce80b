"""Format-preserving, unique-safe permutations: fpe_digits, fpe_alnum, fpe_integer, fpe_uuid.

All of them run the keyed Feistel network of ``_feistel`` over the characters
that carry information and leave every other character where it is, so two
distinct inputs always give two distinct outputs (a bijection per format).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from stagewall.errors import MaskingError
from stagewall.masking.transformers._base import (
    ParamsModel,
    Transformer,
    as_text,
    register,
    wrong_type,
)
from stagewall.masking.transformers._feistel import (
    I64,
    bits_less_than,
    bits_to_ints,
    ints_to_bits,
    permute,
    permute_walk,
)
from stagewall.masking.transformers._flat import class_masks, flatten, permute_symbols
from stagewall.masking.types import ColumnKind

INT64_MAX = 2**63 - 1


def permute_classes(
    key: bytes,
    tweak: str,
    texts: list[str],
    *,
    letters: bool,
    keep_first: Sequence[int] | int = 0,
    keep_last: Sequence[int] | int = 0,
) -> list[str]:
    """Permute the digits (and letters, by case class) of each text; keep the rest in place.

    ``keep_first``/``keep_last`` count *symbols* (digits/letters) left unchanged at
    the start/end of each value. Bijective for every fixed shape of a value.
    """
    if not texts:
        return []
    flat = flatten(texts)
    _, sym = class_masks(flat.buf, letters)
    active = sym
    kf = np.asarray(keep_first, dtype=np.int64)
    kl = np.asarray(keep_last, dtype=np.int64)
    if kf.any() or kl.any():
        rank = flat.rank(sym)
        kf_b = kf[flat.owner] if kf.ndim else kf
        active = active & (rank > kf_b)
        if kl.any():
            kl_b = kl[flat.owner] if kl.ndim else kl
            active &= rank <= flat.count(sym)[flat.owner] - kl_b
    buf = flat.buf.copy()
    permute_symbols(flat, buf, active, key, tweak)
    return flat.texts(buf)


class FpeTextParams(ParamsModel):
    keep_first: int = Field(default=0, ge=0)
    keep_last: int = Field(default=0, ge=0)


@register
class FpeDigits(Transformer):
    """Keyed permutation of the digits; every other character stays in place."""

    name = "fpe_digits"
    unique_safe = True
    Params = FpeTextParams

    def _apply(self, values: list[Any]) -> list[object]:
        p: FpeTextParams = self.params  # type: ignore[assignment]
        texts = as_text(self.name, values)
        return permute_classes(  # type: ignore[return-value]
            self._key, "d", texts, letters=False, keep_first=p.keep_first, keep_last=p.keep_last
        )


@register
class FpeAlnum(Transformer):
    """Keyed permutation of digits, upper-case and lower-case letters, each within its class."""

    name = "fpe_alnum"
    unique_safe = True
    Params = FpeTextParams

    def _apply(self, values: list[Any]) -> list[object]:
        p: FpeTextParams = self.params  # type: ignore[assignment]
        texts = as_text(self.name, values)
        return permute_classes(  # type: ignore[return-value]
            self._key, "a", texts, letters=True, keep_first=p.keep_first, keep_last=p.keep_last
        )


class FpeIntegerParams(ParamsModel):
    mode: Literal["digits", "range"] = "digits"
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _check(self) -> FpeIntegerParams:
        if self.mode == "range":
            if self.min is None or self.max is None:
                raise ValueError("min and max are required when mode is 'range'")
            if self.max < self.min:
                raise ValueError("max must be >= min")
            if self.max - self.min >= 2**64:
                raise ValueError("max - min must be below 2**64")
        return self


@register
class FpeInteger(Transformer):
    """Integers → integers: keep the number of digits and the sign, or stay within [min, max].

    ``digits`` mode never produces a value above ``max`` (default 2**63-1) or below
    ``min`` (default -2**63): the top digit class is cycle-walked into bounds.
    """

    name = "fpe_integer"
    unique_safe = True
    accepts = frozenset({ColumnKind.INTEGER})
    Params = FpeIntegerParams

    def max_output_length(self, input_max: int | None) -> int | None:
        return None

    def _apply(self, values: list[Any]) -> list[object]:
        p: FpeIntegerParams = self.params  # type: ignore[assignment]
        ints: list[int] = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                raise wrong_type(self.name, v, "integer")
            ints.append(v)
        if p.mode == "range":
            return self._range(ints, p.min, p.max)  # type: ignore[arg-type,return-value]
        lo = p.min if p.min is not None else -(2**63)
        hi = p.max if p.max is not None else INT64_MAX
        return self._digits(ints, lo, hi)  # type: ignore[return-value]

    def _range(self, ints: list[int], lo: int, hi: int) -> list[int]:
        if any(v < lo or v > hi for v in ints):
            raise MaskingError(
                f"fpe_integer: a value is outside the range [{lo}, {hi}]",
                hint="widen min/max so every value of the column is inside the range",
            )
        size = hi - lo + 1
        nbits = (size - 1).bit_length()
        if nbits == 0:
            return list(ints)
        bits = ints_to_bits([v - lo for v in ints], nbits)
        out = permute_walk(
            bits, np.full(nbits, 2, dtype=np.int64), self._key, "range",
            lambda b: bits_less_than(b, size),
        )  # fmt: skip
        return [v + lo for v in bits_to_ints(out)]

    def _digits(self, ints: list[int], lo: int, hi: int) -> list[int]:
        if any(v < lo or v > hi for v in ints):
            raise MaskingError(
                f"fpe_integer: a value is outside [{lo}, {hi}]",
                hint="set min/max to the column type's range",
            )
        out = list(ints)
        groups: dict[tuple[bool, int], list[int]] = {}
        for i, v in enumerate(ints):
            groups.setdefault((v < 0, len(str(abs(v)))), []).append(i)
        for (neg, d), members in groups.items():
            bound = -lo if neg else hi
            digits = np.array(
                [[ord(c) - 48 for c in str(abs(ints[i]))] for i in members], dtype=np.int64
            )
            radix = np.full(d, 10, dtype=np.int64)
            nonzero_lead = d > 1 or neg  # "07" is not a 2-digit number; -0 is 0
            if nonzero_lead:
                radix[0] = 9
                digits[:, 0] -= 1

            def inside(sym: I64, lead: bool = nonzero_lead, bound: int = bound) -> Any:
                rows = sym.tolist()
                return np.array([_digits_value(r, lead) <= bound for r in rows], dtype=bool)

            tweak = f"digits/{int(neg)}/{d}"
            if 10**d - 1 > bound:
                perm = permute_walk(digits, radix, self._key, tweak, inside)
            else:
                perm = permute(digits, radix, self._key, tweak)
            for i, row in zip(members, perm.tolist(), strict=True):
                mag = _digits_value(row, nonzero_lead)
                out[i] = -mag if neg else mag
        return out


def _digits_value(row: list[int], nonzero_lead: bool) -> int:
    first = row[0] + 1 if nonzero_lead else row[0]
    return int(str(first) + "".join(map(str, row[1:])))


# Version nibble (bits 48-51) and the variant field (bits 64-66) stay; 121 bits are permuted.
_UUID_KEEP = frozenset({48, 49, 50, 51, 64, 65, 66})
_UUID_FREE = np.array([i for i in range(128) if i not in _UUID_KEEP], dtype=np.intp)


@register
class FpeUuid(Transformer):
    """UUID → UUID keeping version and variant; text UUIDs keep case, hyphens and braces."""

    name = "fpe_uuid"
    unique_safe = True
    accepts = frozenset({ColumnKind.UUID, ColumnKind.TEXT})

    def _apply(self, values: list[Any]) -> list[object]:
        parsed: list[int] = []
        styles: list[tuple[bool, bool, bool] | None] = []
        for v in values:
            if isinstance(v, uuid.UUID):
                parsed.append(v.int)
                styles.append(None)
            elif isinstance(v, str):
                try:
                    parsed.append(uuid.UUID(v).int)
                except ValueError:
                    raise MaskingError(
                        "fpe_uuid: a value is not a UUID",
                        hint="use fpe_alnum for identifiers that are not UUIDs",
                    ) from None
                styles.append((v.startswith("{"), "-" in v, v != v.lower()))
            else:
                raise wrong_type(self.name, v, "UUID")
        bits = ints_to_bits(parsed, 128)
        free = bits[:, _UUID_FREE]
        bits[:, _UUID_FREE] = permute(free, np.full(free.shape[1], 2, dtype=np.int64), self._key)
        out: list[object] = []
        for n, style in zip(bits_to_ints(bits), styles, strict=True):
            u = uuid.UUID(int=n)
            if style is None:
                out.append(u)
                continue
            braces, hyphens, upper = style
            s = str(u) if hyphens else u.hex
            s = s.upper() if upper else s
            out.append("{" + s + "}" if braces else s)
        return out


__all__ = ["FpeAlnum", "FpeDigits", "FpeInteger", "FpeUuid", "permute_classes"]
