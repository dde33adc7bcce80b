"""Structural transformers: keep, null, constant, redact, partial, hash, tsvector."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Literal

from pydantic import Field, JsonValue

from stagewall.masking.transformers._base import (
    ALL_KINDS,
    ParamsModel,
    Transformer,
    as_text,
    register,
)


@register
class Keep(Transformer):
    """Copy the value unchanged (an explicit, reviewed decision in the plan)."""

    name = "keep"
    unique_safe = True
    accepts = ALL_KINDS

    def _apply(self, values: list[Any]) -> list[object]:
        return list(values)


@register
class Null(Transformer):
    """Replace every value with NULL (the column must be nullable)."""

    name = "null"
    lossy = True
    maps_none = True
    accepts = ALL_KINDS

    def max_output_length(self, input_max: int | None) -> int | None:
        return 0

    def _apply(self, values: list[Any]) -> list[object]:
        return [None] * len(values)


class ConstantParams(ParamsModel):
    value: JsonValue
    keep_null: bool = True


@register
class Constant(Transformer):
    """Replace every value with one constant (NULLs stay NULL unless ``keep_null`` is off)."""

    name = "constant"
    lossy = True
    maps_none = True
    accepts = ALL_KINDS
    Params = ConstantParams

    def max_output_length(self, input_max: int | None) -> int | None:
        value = self.params.value  # type: ignore[attr-defined]
        return len(value) if isinstance(value, str) else input_max

    def _apply(self, values: list[Any]) -> list[object]:
        p: ConstantParams = self.params  # type: ignore[assignment]
        return [None if (v is None and p.keep_null) else p.value for v in values]


class RedactParams(ParamsModel):
    char: str = Field(default="*", min_length=1, max_length=1)
    preserve_length: bool = True
    text: str = "[REDACTED]"


@register
class Redact(Transformer):
    """Replace text with ``char`` repeated to the same length, or with ``text``."""

    name = "redact"
    lossy = True
    Params = RedactParams

    def max_output_length(self, input_max: int | None) -> int | None:
        p: RedactParams = self.params  # type: ignore[assignment]
        return input_max if p.preserve_length else len(p.text)

    def _apply(self, values: list[Any]) -> list[object]:
        p: RedactParams = self.params  # type: ignore[assignment]
        texts = as_text(self.name, values)
        if p.preserve_length:
            return [p.char * len(v) for v in texts]
        return [p.text for _ in texts]


class PartialParams(ParamsModel):
    keep_first: int = Field(default=0, ge=0)
    keep_last: int = Field(default=4, ge=0)
    char: str = Field(default="*", min_length=1, max_length=1)


@register
class Partial(Transformer):
    """Keep the first/last characters and mask the middle; too-short values are fully masked."""

    name = "partial"
    lossy = True
    Params = PartialParams

    def _apply(self, values: list[Any]) -> list[object]:
        p: PartialParams = self.params  # type: ignore[assignment]
        a, b, c = p.keep_first, p.keep_last, p.char
        out: list[object] = []
        for v in as_text(self.name, values):
            n = len(v)
            if n <= a + b:
                out.append(c * n)
            else:
                out.append(v[:a] + c * (n - a - b) + (v[n - b :] if b else ""))
        return out


class HashParams(ParamsModel):
    encoding: Literal["hex", "base32"] = "hex"
    length: int = Field(default=32, ge=4, le=128)


@register
class Hash(Transformer):
    """Keyed BLAKE2b of the text, hex or base32, cut to ``length`` characters."""

    name = "hash"
    Params = HashParams

    def max_output_length(self, input_max: int | None) -> int | None:
        return self.params.length  # type: ignore[attr-defined,no-any-return]

    def _apply(self, values: list[Any]) -> list[object]:
        p: HashParams = self.params  # type: ignore[assignment]
        base = hashlib.blake2b(key=self._key, digest_size=64, person=b"stagewall-hash")
        out: list[object] = []
        for v in as_text(self.name, values):
            h = base.copy()
            h.update(v.encode())
            d = h.digest()
            if p.encoding == "hex":
                out.append(d.hex()[: p.length])
            else:
                out.append(base64.b32encode(d).decode().lower()[: p.length])
        return out


class TsvectorParams(ParamsModel):
    # the text columns of the same row the full-text value is computed from, in
    # order; empty: the planner could not tell, the column is left empty
    columns: list[str] = Field(default_factory=list)
    config: str = Field(default="simple", min_length=1, max_length=63)


@register
class Tsvector(Transformer):
    """A PostgreSQL full-text (``tsvector``) column: never copied. Every non-NULL
    value becomes the empty tsvector while rows are copied; on a PostgreSQL target
    the engine then recomputes the column as ``to_tsvector(config, ...)`` over the
    *masked* ``columns`` of the same row (engine.recompute_fulltext)."""

    name = "tsvector"
    lossy = True
    maps_none = True
    accepts = ALL_KINDS
    Params = TsvectorParams

    def _apply(self, values: list[Any]) -> list[object]:
        return [None if v is None else "" for v in values]


__all__ = ["Constant", "Hash", "Keep", "Null", "Partial", "Redact", "Tsvector"]
