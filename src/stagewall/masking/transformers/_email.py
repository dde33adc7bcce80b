"""email: ``first.last.TOKEN@domain``, unique-safe by construction, built batch by batch.

TOKEN is the base32 of a keyed Feistel permutation (``_feistel``) of the
address's UTF-8 bytes. The permutation is a bijection for each byte length and
the base32 width determines that length, so TOKEN (the text between the last
``.`` of the local part and the ``@``; it never contains a ``.``) identifies the
input address: distinct inputs give distinct outputs.

The whole batch is encoded once; per byte length the addresses form one byte
matrix that is permuted, hashed (for the decorative ``first.last`` part) and
assembled into the output bytes with NumPy, then decoded once.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from pydantic import Field

from stagewall.masking.transformers._aesprf import keyed_prf
from stagewall.masking.transformers._base import ParamsModel, Transformer, as_text, register
from stagewall.masking.transformers._batch import base32_matrix, base32_width
from stagewall.masking.transformers._feistel import permute_bytes
from stagewall.masking.transformers._flat import by_length, remap_copy_fields
from stagewall.masking.transformers._names import _lower_firsts, _lower_lasts


@cache
def _padded(kind: str) -> tuple[Any, Any]:
    """A dictionary as a zero-padded ``(words, longest)`` byte matrix and the word lengths."""
    words = (_lower_firsts() if kind == "first" else _lower_lasts()).tolist()
    width = max(map(len, words))
    table = np.zeros((len(words), width), dtype=np.uint8)
    for i, w in enumerate(words):
        table[i, : len(w)] = np.frombuffer(w.encode("ascii"), dtype=np.uint8)
    return table, np.array([len(w) for w in words], dtype=np.int64)


@cache
def _dotted(kind: str) -> tuple[Any, Any]:
    """A dictionary's words with a trailing ``.`` as an object array, and their lengths."""
    words = (_lower_firsts() if kind == "first" else _lower_lasts()).tolist()
    arr = np.empty(len(words), dtype=object)
    arr[:] = [w + "." for w in words]
    return arr, np.array([len(w) + 1 for w in words], dtype=np.int64)


_LOCAL_MAX = 64  # RFC 5321: a local part has at most 64 characters
_SHORT = 17  # "9" + 16 base32 characters of an 80-bit keyed tag


class EmailParams(ParamsModel):
    domain: str = Field(default="example.com", pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
    max_length: int | None = Field(default=None, ge=16)


@register
class Email(Transformer):
    """``first.last.TOKEN@domain``; TOKEN is a keyed permutation of the whole address."""

    name = "email"
    unique_safe = True
    Params = EmailParams

    def _bound(self, input_max: int) -> int:
        p: EmailParams = self.params  # type: ignore[assignment]
        first = int(_padded("first")[1].max())
        last = int(_padded("last")[1].max())
        token = max(1, base32_width(4 * input_max))
        # a local part never exceeds 64 characters (see _group)
        return min(first + last + 2 + token, _LOCAL_MAX) + 1 + len(p.domain)

    def max_output_length(self, input_max: int | None) -> int | None:
        p: EmailParams = self.params  # type: ignore[assignment]
        if input_max is None:
            return p.max_length
        with_names = self._bound(input_max)
        if p.max_length is None:
            return with_names
        return min(with_names, p.max_length)  # long ones take the short token (see _group)

    def _apply(self, values: list[Any]) -> list[object]:
        texts = as_text(self.name, values)
        if not texts:
            return []
        return by_length(texts, lambda rows, _: self._group(rows, rows.shape[1])) or []

    def transform_copy_fields(self, fields: list[bytes], suffix: bytes) -> list[bytes] | None:
        """COPY text fields of a text column in, COPY text fields out: the bytes that
        decoding, :meth:`transform` and encoding give, for a batch of printable ASCII
        (see :func:`remap_copy_fields`), without decoding the addresses; None for any
        other batch."""
        return remap_copy_fields(fields, suffix, lambda rows: self._group(rows, rows.shape[1]))

    def _group(self, rows: Any, n: int) -> list[str]:
        """The masked addresses of one byte length ``n`` (``rows``: ``(m, n)`` uint8)."""
        p: EmailParams = self.params  # type: ignore[assignment]
        m = rows.shape[0]
        names = keyed_prf(self._key, f"email/names/{n}", "email/names/x")
        h = np.ascontiguousarray(names.tag(rows)[:, :8]).view("<u8").reshape(m)
        if n == 0:
            token = np.full((m, 1), ord("0"), dtype=np.uint8)
        else:
            token = base32_matrix(permute_bytes(rows, self._key, "email"))
        firsts, first_len = _dotted("first")
        lasts, last_len = _dotted("last")
        fi = (h % np.uint64(len(firsts))).astype(np.intp)
        li = ((h >> np.uint64(32)) % np.uint64(len(lasts))).astype(np.intp)
        tail = "@" + p.domain
        # TOKEN@domain rows have one width: one decode and split; then the names are
        # prepended with three object-array additions (no padded buffer to squeeze)
        end = np.frombuffer((tail + "\n").encode("ascii"), dtype=np.uint8)
        rest = np.concatenate([token, np.broadcast_to(end, (m, len(end)))], axis=1)
        tokens = np.empty(m, dtype=object)
        tokens[:] = rest.tobytes().decode("ascii").split("\n")[:-1]
        result: list[str] = (np.take(firsts, fi) + np.take(lasts, li) + tokens).tolist()
        flen, llen = first_len[fi] - 1, last_len[li] - 1
        sizes = flen + llen + 2 + token.shape[1] + len(tail)
        local = flen + llen + 2 + token.shape[1]
        limit = p.max_length if p.max_length is not None else 1 << 30
        too_long = (local > _LOCAL_MAX) | (sizes > limit)
        if too_long.any():
            short = None
            for i in np.flatnonzero(too_long).tolist():
                # drop the names part: TOKEN@domain is still unique (no "." in TOKEN)
                result[i] = result[i][int(flen[i] + llen[i]) + 2 :]
                if token.shape[1] <= _LOCAL_MAX and len(result[i]) <= limit:
                    continue
                # a long address: a keyed 80-bit token marked by "9" (never in the
                # base32 TOKEN, so it cannot equal any TOKEN), unique but for a
                # collision chance of about n²/2⁸¹
                if short is None:
                    prf = keyed_prf(self._key, f"email/short/{n}", "x")
                    short = base32_matrix(np.ascontiguousarray(prf.tag(rows)[:, :10]))
                result[i] = "9" + short[i].tobytes().decode("ascii") + tail
        return result

    def setup(self) -> None:
        p: EmailParams = self.params  # type: ignore[assignment]
        if p.max_length is not None and p.max_length < _SHORT + 1 + len(p.domain):
            from stagewall.errors import ConfigError

            raise ConfigError(
                f"transformer 'email': max_length {p.max_length} is shorter than the "
                f"shortest masked address at domain {p.domain} ({_SHORT + 1 + len(p.domain)})",
                hint="use a shorter domain, or raise max_length",
            )


__all__ = ["Email", "EmailParams"]
