"""The COPY text codec and the columnar batch transform (property-based)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stagewall.masking._copy import Mapper
from stagewall.masking.db._pgtext import decode_text_column, encode, encode_column, unescape
from stagewall.masking.schema import Column, Table
from stagewall.masking.types import ColumnKind

texts = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
values = st.lists(st.one_of(st.none(), texts), min_size=1, max_size=30)


@given(values)
def test_text_column_round_trip(vals: list[str | None]) -> None:
    encoded = encode_column(vals, ColumnKind.TEXT)
    assert encoded == [encode(v, ColumnKind.TEXT) for v in vals]
    assert all(b"\t" not in e and b"\n" not in e for e in encoded)
    assert decode_text_column(encoded) == vals


def test_escapes_as_postgres_writes_them() -> None:
    assert encode("a\tb\nc\\d\re", ColumnKind.TEXT) == b"a\\tb\\nc\\\\d\\re"
    assert unescape(b"\\x41\\101\\b\\v") == b"AA\b\v"
    assert encode(None, ColumnKind.TEXT) == b"\\N"
    assert encode(["a", None, 'q"', ["x"]], ColumnKind.ARRAY) == b'{"a",NULL,"q\\\\"",{"x"}}'
    assert encode({"k": 1}, ColumnKind.JSON) == b'{"k": 1}'
    assert encode(b"\x01\xff", ColumnKind.BYTES) == b"\\\\x01ff"
    assert encode(True, ColumnKind.BOOLEAN) == b"t"


class _Upper:
    def transform(self, vals: list[Any]) -> list[Any]:
        return [None if v is None else v.upper() + "\t!" for v in vals]


@given(
    st.lists(
        st.tuples(st.one_of(st.none(), texts), st.one_of(st.none(), texts), texts),
        min_size=1,
        max_size=20,
    )
)
def test_batch_transform_touches_only_masked_columns(rows: list[tuple[Any, Any, Any]]) -> None:
    table = Table(
        schema=None,
        name="t",
        columns=tuple(Column(n, ColumnKind.TEXT, "text") for n in ("a", "b", "c")),
    )
    lines = [b"\t".join(encode(v, ColumnKind.TEXT) for v in r) + b"\n" for r in rows]
    mapper = Mapper(table, {"b": _Upper()})
    decoders = [decode_text_column] * 3
    out = mapper.apply_text_batch(lines, decoders, encode_column)
    got = [ln.split(b"\t") for ln in out[:-1].split(b"\n")]
    assert len(got) == len(rows)
    for (a, b, c), fields in zip(rows, got, strict=True):
        assert decode_text_column(fields) == [a, None if b is None else b.upper() + "\t!", c]
    untouched = Mapper(table, {})
    assert not untouched.by_index
