"""phone's and email's COPY-field paths give the bytes the str path gives, or decline.

``Phone.transform_copy_fields`` (over ``_flat.rewrite_copy_fields``) and
``Email.transform_copy_fields`` (over ``_flat.remap_copy_fields``) take the COPY
text fields of a text column and return COPY text fields without a ``str`` per
value. For every batch it takes it must return what decoding, ``transform``
and encoding return (NULL, empty and blank values kept), and it must decline
(None) every batch it cannot read as printable ASCII: an escape, a control or
non-ASCII byte (a digit of another script, non-ASCII white space).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer

from .copyfields import same_bytes_or_declined, str_path

KEY = MaskingKey("phone-copy-fields", b"\x3c" * 32)

_printable = st.text(alphabet=st.sampled_from([*"0123456789", *"+-() ./x", " ", "a", "Z"]))
_odd = st.sampled_from(
    [
        b"\\N",  # NULL
        b"",
        b"  ",
        b"\x1c",  # blank to str.isspace, not to bytes.isspace
        b"+49\\t30 1",  # an escaped tab
        b"\\\\N",  # an escaped backslash, then N
        "\u0661\u0662\u0663".encode(),  # Arabic-Indic digits
        "+49\u00a030 12".encode(),  # non-ASCII white space
        b"\x7f12",
    ]
)
_field = st.one_of(_printable.map(str.encode), _odd)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_field, min_size=1, max_size=50),
    st.sampled_from([b"", b"\t"]),
    st.booleans(),
)
def test_copy_fields_are_the_str_path_bytes_or_declined(
    raw: list[bytes], suffix: bytes, keep_country_code: bool
) -> None:
    tr: Any = build_transformer("phone", {"keep_country_code": keep_country_code}, key=KEY)
    same_bytes_or_declined(tr, raw, suffix)


def test_copy_fields_of_one_length_and_of_many() -> None:
    tr: Any = build_transformer("phone", {}, key=KEY)
    same = [f"+49 30 {1_000_000 + i}".encode() for i in range(700)]
    mixed = [
        f"+{1 + i % 90} ({i % 1000}) {i * 7919 % 10**7}-{i % 100}".encode() for i in range(700)
    ]
    for raw in (same, mixed, [*same[:50], b"\\N", b"", b"   ", *mixed[:50]]):
        for suffix in (b"", b"\t"):
            got = tr.transform_copy_fields(raw, suffix)
            assert got is not None
            assert got == str_path(tr, raw, suffix)
            assert got != [f + suffix for f in raw]


def test_copy_fields_decline_a_batch_of_kept_values_only() -> None:
    for name in ("phone", "email"):
        tr: Any = build_transformer(name, {}, key=KEY)
        assert tr.transform_copy_fields([b"\\N", b"", b" "], b"\t") is None


_local = st.text(alphabet=st.sampled_from([*"abcxyz0189._+-", "Q"]), min_size=1, max_size=40)
_address = st.builds(lambda a, b: f"{a}@{b}.example.org".encode(), _local, _local)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(_address, _odd, _printable.map(str.encode)), min_size=1, max_size=50),
    st.sampled_from([b"", b"\t"]),
    st.sampled_from([{}, {"max_length": 40}, {"domain": "staging.test", "max_length": 30}]),
)
def test_email_copy_fields_are_the_str_path_bytes_or_declined(
    raw: list[bytes], suffix: bytes, params: dict[str, Any]
) -> None:
    """Addresses of every length (long ones lose their names or take the short
    token), kept values between them, and batches the path must decline."""
    tr: Any = build_transformer("email", params, key=KEY)
    same_bytes_or_declined(tr, raw, suffix)
