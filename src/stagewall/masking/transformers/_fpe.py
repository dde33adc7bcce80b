"""Format-preserving, unique-safe permutations: fpe_digits, fpe_alnum, fpe_integer, fpe_uuid.

All of them run the keyed Feistel network of ``_feistel`` over the characters
that carry information and leave every other character where it is, so two
distinct inputs always give two distinct outputs (a bijection per format).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
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
    permute_u8,
    permute_walk,
)
from stagewall.masking.transformers._flat import class_masks, flatten, permute_symbols
from stagewall.masking.transformers._scripts import digit_scripts, fold_digits, unfold_digits
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

    @digit_scripts
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

    @digit_scripts
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
        try:
            arr = np.array(ints, dtype=np.int64)
        except OverflowError:  # beyond int64 (possible with custom min/max): one by one
            return self._digits(ints, lo, hi)  # type: ignore[return-value]
        return self._digits_int64(arr, lo, hi)  # type: ignore[return-value]

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

    def _digits_int64(self, arr: Any, lo: int, hi: int) -> list[int]:
        """:meth:`_digits` for values that fit in int64, on NumPy arrays (same outputs)."""
        if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
            raise MaskingError(
                f"fpe_integer: a value is outside [{lo}, {hi}]",
                hint="set min/max to the column type's range",
            )
        neg = arr < 0
        mag = np.where(neg, (-(arr + 1)).astype(np.uint64) + np.uint64(1), arr.astype(np.uint64))
        ndig = np.searchsorted(_POW10[1:], mag, side="right") + 1
        group = neg * 32 + ndig
        res = np.empty(arr.shape, dtype=np.int64)
        for g in np.unique(group).tolist():
            members = np.flatnonzero(group == g)
            is_neg, d = g >= 32, g % 32
            bound = -lo if is_neg else hi
            lead = d > 1 or is_neg  # "07" is not a 2-digit number; -0 is 0
            m = mag[members]
            digits = np.stack(
                [(m // _POW10[d - 1 - j]) % np.uint64(10) for j in range(d)], axis=1
            ).astype(np.int64)
            radix = np.full(d, 10, dtype=np.int64)
            if lead:
                radix[0] = 9
                digits[:, 0] -= 1
            tweak = f"digits/{int(is_neg)}/{d}"
            if 10**d - 1 > bound:
                perm = permute_walk(digits, radix, self._key, tweak, _at_most(bound, lead))
            else:
                perm = permute(digits, radix, self._key, tweak)
            new = _digits_u64(perm, lead)
            if is_neg:  # -(new) without overflow at 2**63
                res[members] = -((new - np.uint64(1)).astype(np.int64)) - 1
            else:
                res[members] = new.astype(np.int64)
        return res.tolist()  # type: ignore[no-any-return]


_POW10 = np.array([10**k for k in range(20)], dtype=np.uint64)


def _at_most(bound: int, nonzero_lead: bool) -> Callable[[Any], Any]:
    ubound = np.uint64(bound)
    return lambda sym: _digits_u64(sym, nonzero_lead) <= ubound


def _digits_u64(sym: Any, nonzero_lead: bool) -> Any:
    """Digit rows (first digit stored minus one when ``nonzero_lead``) → uint64 magnitudes."""
    val = sym[:, 0].astype(np.uint64) + np.uint64(1 if nonzero_lead else 0)
    for j in range(1, sym.shape[1]):
        val = val * np.uint64(10) + sym[:, j].astype(np.uint64)
    return val


def _digits_value(row: list[int], nonzero_lead: bool) -> int:
    first = row[0] + 1 if nonzero_lead else row[0]
    return int(str(first) + "".join(map(str, row[1:])))


def _make_uuid_fast(n: int) -> uuid.UUID:
    """``uuid.UUID(int=n)`` for ``0 <= n < 2**128`` without re-validating the argument.

    ``UUID.__init__`` parses and checks its keyword arguments (about 1.4 µs); the
    object it builds holds just ``int`` and ``is_safe``. Used only if it gives
    equal, hashable-alike UUIDs (checked at import time), else the public path.
    """
    u = _new(_UUID)
    _setattr(u, "int", n)
    _setattr(u, "is_safe", _UNKNOWN)
    return u


_UUID, _UNKNOWN, _new, _setattr = (
    uuid.UUID,
    uuid.SafeUUID.unknown,
    object.__new__,
    object.__setattr__,
)


def _pick_uuid_maker() -> Callable[[int], uuid.UUID]:
    try:
        probe = 0x123456789ABCDEF0FEDCBA9876543210
        fast, slow = _make_uuid_fast(probe), uuid.UUID(int=probe)
        if fast == slow and hash(fast) == hash(slow) and str(fast) == str(slow):
            return _make_uuid_fast
    except (AttributeError, TypeError):  # pragma: no cover  (a future uuid module)
        pass
    return lambda n: uuid.UUID(int=n)  # pragma: no cover


_new_uuid = _pick_uuid_maker()

# Version nibble (bits 48-51) and the variant field (bits 64-66) stay; 121 bits are permuted.
_UUID_KEEP = frozenset({48, 49, 50, 51, 64, 65, 66})
_UUID_FREE = np.array([i for i in range(128) if i not in _UUID_KEEP], dtype=np.intp)


_HEX = "0123456789abcdef"


@register
class FpeUuid(Transformer):
    """UUID → UUID keeping version and variant; text UUIDs keep case, hyphens and braces."""

    name = "fpe_uuid"
    unique_safe = True
    accepts = frozenset({ColumnKind.UUID, ColumnKind.TEXT})

    def _apply(self, values: list[Any]) -> list[object]:
        # (a column of native UUIDs holds no text: not looked at value by value)
        folded = None if str not in set(map(type, values)) else fold_digits(values)
        if folded is None:
            return self._apply_ascii(values)
        # a UUID written with another script's digits: uuid.UUID reads it as the
        # UUID of its ASCII digits, which the bit permutation would map to the same
        # output as that ASCII spelling (a unique constraint broken, two source
        # values one pseudonym). Such a value is permuted keeping which of its hex
        # positions are digits and which letters, and each digit written back in
        # its script: one output per spelling, never an ASCII one.
        texts, marks = folded
        out = self._apply_ascii([v for i, v in enumerate(texts) if i not in marks])
        done = iter(out)
        other = dict(zip(marks, self._by_shape([texts[i] for i in marks]), strict=True))
        return unfold_digits(
            self.name, [other[i] if i in other else next(done) for i in range(len(texts))], marks
        )

    def _by_shape(self, texts: list[str]) -> list[object]:
        """UUID texts (ASCII digits) permuted within their shape: the digits of the 30
        free hex positions among digits, the letters among the letters a-f (version
        and variant positions kept), case, hyphens and braces kept."""
        out: list[object] = []
        for text in texts:
            self._apply_ascii([text])  # refuses what is not a UUID
            low = text.lower()
            head = 0
            for prefix in ("urn:", "uuid:"):
                head += len(prefix) if low.startswith(prefix, head) else 0
            at = [j for j in range(head, len(text)) if low[j] in _HEX]
            if len(at) != 32:  # (uuid.UUID also reads "_" between digits)
                raise MaskingError(
                    "fpe_uuid: a value is not a UUID",
                    hint="use fpe_alnum for identifiers that are not UUIDs",
                )
            nibbles = [_HEX.index(low[j]) for j in at]
            free = [k for k in range(32) if k not in (12, 16)]
            digit = [nibbles[k] < 10 for k in free]
            sym = np.array([[n if d else n - 10 for n, d in zip(
                [nibbles[k] for k in free], digit, strict=True)]], dtype=np.int64)  # fmt: skip
            radix = np.array([10 if d else 6 for d in digit], dtype=np.int64)
            shape = "".join("d" if d else "l" for d in digit)
            new = permute(sym, radix, self._key, "uuid-shape:" + shape)[0].tolist()
            chars = list(text)
            for k, n, d in zip(free, new, digit, strict=True):
                c = _HEX[n if d else n + 10]
                chars[at[k]] = c.upper() if text[at[k]].isupper() else c
            out.append("".join(chars))
        return out

    def _apply_ascii(self, values: list[Any]) -> list[object]:
        parsed: list[int] = []
        styles: list[tuple[bool, bool, bool] | None] = []
        if set(map(type, values)) == {uuid.UUID}:  # native UUIDs: no parsing, no styles
            parsed = [v.int for v in values]
            styles = [None] * len(values)
            values = []
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
        raw = b"".join([n.to_bytes(16, "big") for n in parsed])
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 16), axis=1)
        free = bits[:, _UUID_FREE]
        bits[:, _UUID_FREE] = permute_u8(free, np.full(free.shape[1], 2), self._key)
        new = np.packbits(bits, axis=1).tobytes()
        from_bytes = int.from_bytes
        ints = [from_bytes(new[i : i + 16], "big") for i in range(0, len(new), 16)]
        if not values:  # all native
            return list(map(_new_uuid, ints))
        out: list[object] = []
        for n, style in zip(ints, styles, strict=True):
            u = _new_uuid(n)
            if style is None:
                out.append(u)
                continue
            braces, hyphens, upper = style
            s = str(u) if hyphens else u.hex
            s = s.upper() if upper else s
            out.append("{" + s + "}" if braces else s)
        return out


__all__ = ["FpeAlnum", "FpeDigits", "FpeInteger", "FpeUuid", "permute_classes"]
