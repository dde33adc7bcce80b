"""PostgreSQL COPY text format: unescape/escape fields and turn Python values into text.

Rows are ``\\n``-terminated, fields ``\\t``-separated, NULL is ``\\N``; backslash,
newline, carriage return, tab and the other control escapes are backslash-escaped
(so splitting a row on tab is safe). Columns that are kept are never decoded.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import Format

from stagewall.masking.types import ColumnKind

NULL = b"\\N"
_UNESC = {
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"v": b"\v",
    b"\\": b"\\",
}
_ESC_RE = re.compile(rb"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)", re.DOTALL)


def _unesc(m: re.Match[bytes]) -> bytes:
    s = m.group(1)
    if s in _UNESC:
        return _UNESC[s]
    if s[:1] == b"x" and len(s) > 1:
        return bytes([int(s[1:], 16)])
    if s[:1].isdigit():
        return bytes([int(s, 8) & 0xFF])
    return s


def unescape(field: bytes) -> bytes:
    return _ESC_RE.sub(_unesc, field) if b"\\" in field else field


_ESC_TABLE = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def escape_text(text: str) -> bytes:
    if "\\" in text or "\n" in text or "\r" in text or "\t" in text:
        return text.translate(_ESC_TABLE).encode()
    return text.encode()


def _array_elem(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, list | tuple):
        return _array_literal(v)
    s = _plain(v, ColumnKind.TEXT)
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_literal(values: list[Any] | tuple[Any, ...]) -> str:
    return "{" + ",".join(_array_elem(v) for v in values) + "}"


def _plain(value: Any, kind: ColumnKind) -> str:
    if isinstance(value, str):
        return value
    if kind is ColumnKind.JSON:  # a decoded document: JSON text (true, not t)
        return _json_text(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, list | tuple) and kind is ColumnKind.ARRAY:
        return _array_literal(value)
    if isinstance(value, dict | list | tuple):
        return _json_text(value)
    return str(value)


# ``json.dumps(value, default=str)`` without building an encoder per value (same text)
_json_text = json.JSONEncoder(default=str).encode


_DATE_KINDS = frozenset({ColumnKind.DATE, ColumnKind.TIMESTAMP})


def encode(value: Any, kind: ColumnKind) -> bytes:
    """One Python value as an escaped COPY text field.

    A MySQL zero date (``0000-00-00``: "no date") has no PostgreSQL equivalent and
    becomes NULL.
    """
    if value is None:
        return NULL
    if kind in _DATE_KINDS and type(value) is str and value.startswith("0000-00-00"):
        return NULL
    if type(value) is str:
        return escape_text(value)
    return escape_text(_plain(value, kind))


_SPECIAL = re.compile(r"[\\\n\r\t]")


def _needs_escape(text: str) -> bool:
    # four substring tests (memchr speed) beat one regex character class ~70x
    return "\\" in text or "\n" in text or "\r" in text or "\t" in text


def encode_column(values: list[Any], kind: ColumnKind, suffix: bytes = b"") -> list[bytes]:
    """A whole column of values as escaped COPY text fields, each followed by ``suffix``.

    Fast path: when every value is a string without characters COPY escapes,
    the column is encoded with one join/encode/split (NUL cannot occur in
    PostgreSQL text, so it is a safe separator; a length check guards it).
    """
    if values and set(map(type, values)) == {str}:
        joined = "\x00".join(values)
        if not _needs_escape(joined):
            if suffix:
                end = suffix.decode()
                joined = joined.replace("\x00", end + "\x00") + end
            out = joined.encode().split(b"\x00")
            if len(out) == len(values):
                return out
    if kind is ColumnKind.JSON:
        fields = _json_fields(values, kind)
        return [f + suffix for f in fields] if suffix else fields
    special = _SPECIAL.search
    fields = [
        NULL
        if v is None
        else (v.encode() if type(v) is str and not special(v) else encode(v, kind))
        for v in values
    ]
    return [f + suffix for f in fields] if suffix else fields


_DOCS = frozenset({dict, list})
# Between two documents of a batch encoded as one JSON array: a string no jsonb
# value can hold (PostgreSQL refuses \u0000 in jsonb); should a json value hold
# it, the count of parts is off and the batch is encoded a document at a time.
_SEP = "\x00\x01"
_SEP_TEXT = ', "\\u0000\\u0001", '  # _SEP as the encoder writes it between items


def _json_fields(values: list[Any], kind: ColumnKind) -> list[bytes]:
    """A JSON column's values as COPY fields: dicts and lists with one encoder call
    for the batch (the same text as one ``json.dumps(v, default=str)`` each)."""
    docs = [v for v in values if type(v) in _DOCS]
    parts: list[bytes] | None = None
    if len(docs) > 1:
        items: list[Any] = [_SEP] * (2 * len(docs) - 1)
        items[::2] = docs
        try:
            texts = _json_text(items)[1:-1].split(_SEP_TEXT)
        except (TypeError, ValueError):  # raised again below, by the document at fault
            texts = []
        if len(texts) == len(docs):
            parts = encode_column(texts, ColumnKind.TEXT)
    if parts is None:
        parts = [escape_text(_json_text(d)) for d in docs]
    if len(docs) == len(values):
        return parts
    encoded = iter(parts)
    return [next(encoded) if type(v) in _DOCS else encode(v, kind) for v in values]


TEXT_OIDS = frozenset({25, 1043, 1042, 19})  # text, varchar, bpchar, name
JSON_OIDS = frozenset({114, 3802})  # json, jsonb


def decode_json_column(fields: list[bytes]) -> list[Any]:
    """A json/jsonb column as ``json.loads`` of each field (psycopg's text loader),
    in one parse of the batch as a JSON array (NULL → ``None``, as ``null`` is).

    COPY escapes are complete within a field, so unescaping the joined batch is
    unescaping each field. Anything unexpected falls back to one parse per field.
    """
    joined = b",".join([b"null" if f == NULL else f for f in fields])
    try:
        out = json.loads(b"[" + unescape(joined) + b"]")
    except ValueError:
        out = None
    if type(out) is list and len(out) == len(fields):
        return out
    return [None if f == NULL else json.loads(unescape(f)) for f in fields]


def decode_text_column(fields: list[bytes]) -> list[str | None]:
    """Fast path for text columns: no loader call per value.

    Raw newlines never occur inside COPY text fields, so when the column has no
    backslash at all (no escapes, no NULLs) it decodes with one join/decode/split.
    """
    if fields:
        joined = b"\n".join(fields)
        if b"\\" not in joined:
            return joined.decode().split("\n")  # type: ignore[return-value]
    return [
        None if f == NULL else (unescape(f).decode() if b"\\" in f else f.decode()) for f in fields
    ]


def decode_int_column(fields: list[bytes]) -> list[int | None]:
    """An integer column as psycopg's text loader gives it (``int`` of the digits)."""
    if NULL in fields:
        return [None if f == NULL else int(f) for f in fields]
    return list(map(int, fields))


def decode_numeric_column(fields: list[bytes]) -> list[decimal.Decimal | None]:
    """A numeric column as psycopg's text loader gives it (``Decimal`` of the text,
    ``NaN`` and the infinities included)."""
    texts = decode_text_column(fields)
    if None in texts:
        return [None if t is None else decimal.Decimal(t) for t in texts]
    return list(map(decimal.Decimal, texts))  # type: ignore[arg-type]


def loaded_column(loader: Any) -> Callable[[list[bytes]], list[Any]]:
    """A column decoder from psycopg's text ``loader``: :func:`make_decoder` of each
    field, with one C-level ``map`` when no field holds a backslash (no escape, no
    NULL), where unescaping leaves every field as it is. A :func:`lenient` loader's
    wrapped C loader does the map; only a batch holding a value it refuses goes
    through the lenient one."""
    load = loader.load
    fast = loader.inner.load if isinstance(loader, LenientLoader) else load
    one = make_decoder(loader)

    def decode(fields: list[bytes]) -> list[Any]:
        if b"\\" in b"".join(fields):
            return list(map(one, fields))
        if fast is load:
            return list(map(load, fields))
        try:
            return list(map(fast, fields))
        except psycopg.DataError:
            return list(map(load, fields))

    return decode


class PgDateText(str):
    """A date or timestamp PostgreSQL holds and Python's ``datetime`` cannot (a BC
    date, a year after 9999), as PostgreSQL writes it. A date, not free text: verify
    compares it whole and never searches it for tokens (its digits read like a phone
    number), and ``date_shift`` refuses it with a clear error."""

    __slots__ = ()


_INFINITIES = frozenset({b"infinity", b"-infinity"})


class LenientLoader(Loader):
    """A date or timestamp loader that keeps the values Python's ``datetime`` cannot
    hold as their text: PostgreSQL's ``infinity`` and ``-infinity`` as plain strings
    (the transformers leave them as they are: they name no day), years after 9999 and
    BC dates as :class:`PgDateText`; ``inner`` is psycopg's own loader."""

    inner_class: type[Loader]

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self.inner = self.inner_class(oid, context)

    def load(self, data: Any) -> Any:
        try:
            return self.inner.load(data)
        except psycopg.DataError:
            raw = bytes(data)
            return raw.decode() if raw in _INFINITIES else PgDateText(raw.decode())


DATE_OIDS = (1082, 1114, 1184)  # date, timestamp, timestamptz


def use_lenient_dates(conn: psycopg.Connection[Any]) -> None:
    """Register :class:`LenientLoader` for the date and timestamp types on ``conn``."""
    for oid in DATE_OIDS:
        inner = conn.adapters.get_loader(oid, Format.TEXT)
        if inner is None or issubclass(inner, LenientLoader):
            continue
        cls = type(f"Lenient{inner.__name__}", (LenientLoader,), {"inner_class": inner})
        conn.adapters.register_loader(oid, cls)


def make_decoder(loader: Any | None) -> Callable[[bytes], Any]:
    """Field bytes → Python value with psycopg's text loader for the column type."""
    if loader is None:

        def plain(field: bytes) -> Any:
            return None if field == NULL else unescape(field).decode()

        return plain
    load = loader.load

    def decode(field: bytes) -> Any:
        return None if field == NULL else load(unescape(field))

    return decode


__all__ = [
    "DATE_OIDS",
    "JSON_OIDS",
    "NULL",
    "TEXT_OIDS",
    "LenientLoader",
    "PgDateText",
    "decode_int_column",
    "decode_json_column",
    "decode_numeric_column",
    "decode_text_column",
    "encode",
    "encode_column",
    "escape_text",
    "loaded_column",
    "make_decoder",
    "unescape",
    "use_lenient_dates",
]
