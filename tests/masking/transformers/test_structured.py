from __future__ import annotations

import json

import pytest

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.classify import detect_in_text
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._structured import format_path, parse_path

KEY = MaskingKey("k", b"\x01" * 32)


def t(name: str, **params: object):  # type: ignore[no-untyped-def]
    return build_transformer(name, params, key=KEY)


DOC = {
    "id": 7,
    "customer": {"email": "jane.doe@corp.com", "name": "Jane Doe", "vip": True},
    "items": [{"name": "Widget", "qty": 2}, {"name": "Gadget", "qty": 1}],
}
PARAMS = {
    "paths": {
        "$.customer.email": {"transformer": "email"},
        "$.customer.name": {"transformer": "full_name"},
    },
    "keep": ["$.id", "$.customer.vip", "$.items"],
}


def test_paths_parse_and_format() -> None:
    assert parse_path("$.items[*].name") == ("items", None, "name")
    assert parse_path("$['odd key'].x") == ("odd key", "x")
    assert format_path(("odd key", None, "x")) == "$['odd key'][*].x"
    with pytest.raises(ValueError, match="not understood"):
        parse_path("$.a..b")


def test_json_mask_applies_per_path_transformers_consistently_with_columns() -> None:
    out = t("json_mask", **PARAMS).transform([DOC])[0]
    assert out["customer"]["email"] == t("email").transform(["jane.doe@corp.com"])[0]
    assert out["customer"]["name"] != "Jane Doe"
    assert out["id"] == 7 and out["items"] == DOC["items"] and out["customer"]["vip"] is True
    assert DOC["customer"]["email"] == "jane.doe@corp.com"  # input not mutated


def test_json_mask_array_paths() -> None:
    params = {
        "paths": {"$.items[*].name": {"transformer": "first_name"}},
        "keep": ["$.items[*].qty"],
    }
    out = t("json_mask", **params).transform([{"items": DOC["items"]}])[0]
    assert [i["qty"] for i in out["items"]] == [2, 1]
    assert [i["name"] for i in out["items"]] != ["Widget", "Gadget"]


def test_unknown_key_fails_naming_the_path() -> None:
    doc = {**DOC, "customer": {**DOC["customer"], "phone": "+44 20 7946 0958"}}
    with pytest.raises(MaskingError) as exc:
        t("json_mask", **PARAMS).transform([doc])
    assert "$.customer.phone" in exc.value.message
    assert "+44" not in exc.value.message


def test_unknown_keys_keep_and_scrub() -> None:
    doc = {**DOC, "note": "call jane.doe@corp.com", "extra": {"n": 5}}
    kept = t("json_mask", **{**PARAMS, "unknown_keys": "keep"}).transform([doc])[0]
    assert kept["note"] == doc["note"] and kept["extra"] == {"n": 5}
    scrubbed = t("json_mask", **{**PARAMS, "unknown_keys": "scrub"}).transform([doc])[0]
    assert "jane.doe@corp.com" not in scrubbed["note"] and scrubbed["note"].startswith("call ")
    assert scrubbed["extra"] == {"n": 5}


def test_json_text_in_text_out_and_invalid_json() -> None:
    out = t("json_mask", **PARAMS).transform([json.dumps(DOC)])[0]
    assert isinstance(out, str) and json.loads(out)["id"] == 7
    with pytest.raises(MaskingError, match="not valid JSON"):
        t("json_mask", **PARAMS).transform(["{nope"])


def test_path_pointing_at_an_object_is_refused() -> None:
    with pytest.raises(MaskingError, match=r"\$\.customer holds an object"):
        params = {"paths": {"$.customer": {"transformer": "redact"}}, "unknown_keys": "keep"}
        t("json_mask", **params).transform([DOC])


def test_sub_transformer_error_names_the_path() -> None:
    with pytest.raises(MaskingError, match=r"json_mask at \$\.id: .*expected text values, got int"):
        t("json_mask", paths={"$.id": {"transformer": "email"}}, unknown_keys="keep").transform(
            [DOC]
        )


TEXT = (
    "Customer Sarah Connor (sarah.connor@sky.net, +44 20 7946 0958) paid with "
    "4111 1111 1111 1111 from 203.0.113.9; refund to DE89 3704 0044 0532 0130 00. SSN 123-45-6789."
)


def test_text_scrub_replaces_every_finding() -> None:
    out = t("text_scrub").transform([TEXT])[0]
    for secret in ("Sarah", "Connor", "sarah.connor@sky.net", "7946 0958", "4111 1111 1111 1111",
                   "203.0.113.9", "DE89 3704 0044 0532 0130 00", "123-45-6789"):  # fmt: skip
        assert secret not in out, secret
    assert out.startswith("Customer ") and " paid with " in out
    kinds = sorted({m.category.value for m in detect_in_text(out)})
    assert "email" in kinds  # replaced by pseudonyms of the same kind
    assert t("text_scrub").transform([TEXT]) == [out]


def test_text_scrub_uses_the_column_pseudonyms() -> None:
    out = t("text_scrub").transform(["mail jane@corp.com now"])[0]
    assert out == "mail " + t("email").transform(["jane@corp.com"])[0] + " now"


def test_text_scrub_kinds_param() -> None:
    out = t("text_scrub", kinds=["email"]).transform(["Sarah Connor jane@corp.com"])[0]
    assert out.startswith("Sarah Connor ") and "jane@corp.com" not in out


def test_text_scrub_passes_values_that_are_not_text() -> None:
    """An untyped SQLite column holds notes and numbers: only the text is scrubbed."""
    from stagewall.keys import MaskingKey
    from stagewall.masking.transformers import build_transformer

    tr = build_transformer("text_scrub", {}, key=MaskingKey("ks", b"\x08" * 32), salt="")
    out = tr.transform(["call jane.doe@corp.example", 12345, None, b"\x00", 3.5])
    assert "jane.doe@corp.example" not in str(out[0]) and str(out[0]).startswith("call ")
    assert out[1:] == [12345, None, b"\x00", 3.5]


def test_text_scrub_max_length_bounds_the_output() -> None:
    """Chinook composer varchar(220): a scrubbed text grew to 233 characters."""
    key = MaskingKey("kid", b"k" * 32)
    text = "Call Jane Smith at jane.smith@example.org or +44 20 7946 0958. " * 3
    plain = build_transformer("text_scrub", {}, key=key)
    bounded = build_transformer("text_scrub", {"max_length": len(text)}, key=key)
    assert len(str(plain.transform([text])[0])) > len(text)
    out = bounded.transform([text, None, 7])
    assert len(str(out[0])) == len(text) and out[1:] == [None, 7]
    assert bounded.max_output_length(len(text)) == len(text)
    assert plain.transform(["x"]) == build_transformer(
        "text_scrub", {"max_length": None}, key=key
    ).transform(["x"])
