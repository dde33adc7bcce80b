"""The check every COPY-field path's test makes: the str path's bytes, or declined."""

from __future__ import annotations

from typing import Any

from stagewall.masking.db._pgtext import decode_text_column, encode_column
from stagewall.masking.types import ColumnKind


def str_path(tr: Any, raw: list[bytes], suffix: bytes) -> list[bytes]:
    """What decoding, ``transform`` and encoding give for a text column's COPY fields."""
    return encode_column(tr.transform(decode_text_column(raw)), ColumnKind.TEXT, suffix)


def same_bytes_or_declined(tr: Any, raw: list[bytes], suffix: bytes) -> None:
    """``tr.transform_copy_fields`` takes every batch of printable ASCII with a value to
    transform, declines (None) every batch with an escape, a control or non-ASCII
    byte, and gives the str path's bytes for what it takes."""
    got = tr.transform_copy_fields(raw, suffix)
    readable = all(f == b"\\N" or (b"\\" not in f and all(32 <= c <= 126 for c in f)) for f in raw)
    some = any(f != b"\\N" and f.strip(b" ") for f in raw)
    if readable and some:
        assert got is not None  # printable ASCII: the COPY-field path takes the batch
    elif not readable:
        assert got is None
    if got is not None:
        assert got == str_path(tr, raw, suffix)
