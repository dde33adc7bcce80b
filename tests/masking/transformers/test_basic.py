from __future__ import annotations

import pytest

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.types import ColumnKind

KEY = MaskingKey("k", b"\x01" * 32)


def t(name: str, **params: object):  # type: ignore[no-untyped-def]
    return build_transformer(name, params, key=KEY)


def test_keep_and_null() -> None:
    assert t("keep").transform([1, "a", None]) == [1, "a", None]
    assert t("null").transform([1, "a", None]) == [None, None, None]


def test_constant_keeps_null_unless_told() -> None:
    assert t("constant", value="x").transform(["a", None]) == ["x", None]
    assert t("constant", value=0, keep_null=False).transform(["a", None]) == [0, 0]
    assert t("constant", value="abc").max_output_length(2) == 3


def test_redact() -> None:
    assert t("redact").transform(["secret", ""]) == ["******", ""]
    assert t("redact", char="#").transform(["ab"]) == ["##"]
    r = t("redact", preserve_length=False, text="[X]")
    assert r.transform(["long secret"]) == ["[X]"]
    assert r.max_output_length(100) == 3


def test_partial_masks_the_middle_and_short_values_entirely() -> None:
    p = t("partial", keep_first=2, keep_last=2)
    assert p.transform(["4111111111111111", "abcd", "abcde"]) == [
        "41************11",
        "****",
        "ab*de",
    ]
    assert t("partial").transform(["DE89370400440532013000"]) == ["*" * 18 + "3000"]


def test_hash_is_keyed_with_requested_length_and_encoding() -> None:
    h = t("hash", length=12)
    out = h.transform(["a", "b", "a"])
    assert out[0] == out[2] != out[1] and all(len(x) == 12 for x in out)
    assert all(c in "0123456789abcdef" for c in out[0])
    b32 = t("hash", encoding="base32", length=20).transform(["a"])[0]
    assert len(b32) == 20 and set(b32) <= set("abcdefghijklmnopqrstuvwxyz234567")
    other = build_transformer("hash", {"length": 12}, key=MaskingKey("k2", b"\x02" * 32))
    assert other.transform(["a"]) != out[:1]
    assert h.max_output_length(3) == 12


def test_wrong_value_type_is_a_masking_error_without_the_value() -> None:
    with pytest.raises(MaskingError) as exc:
        t("redact").transform([123456789])
    assert "expected text values, got int" in exc.value.message
    assert "123456789" not in exc.value.message


def test_output_kind_is_input_kind() -> None:
    assert t("keep").output_kind(ColumnKind.JSON) is ColumnKind.JSON
